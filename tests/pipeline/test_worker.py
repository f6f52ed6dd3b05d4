"""End to end with a real worker process: uploads wait in the queue until ``qcluster`` tags them."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django_q.conf import Conf

from wagtail_smarttags.models import SmartTag, TaggingState
from wagtail_smarttags.training.service import request_training

from ..datasets import clothing_images
from ..factories import create_image, create_tag_model
from ..workers import running_worker, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(params=["orm", "redis"])
def broker(request, monkeypatch):
    """Point this process's enqueueing at the broker the worker will read: the ORM queue or Redis."""
    monkeypatch.setattr(Conf, "SYNC", False)
    if request.param == "orm":
        monkeypatch.setattr(Conf, "ORM", "default")
        return {}
    redis = pytest.importorskip("redis")
    connection = {"host": "127.0.0.1", "port": 6379, "db": 15}
    try:
        redis.Redis(socket_connect_timeout=2, **connection).flushdb()
    except redis.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379 (.ci/run starts it).")
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", connection)
    return {"SMARTTAGS_TEST_BROKER": "redis"}


def test_a_real_worker_tags_pending_uploads(broker):
    tag_model = create_tag_model("Headwear or footwear", clothing_images("train", ["hat", "shoes"], per_class=10))
    request_training(tag_model, run_now=True)

    unseen = clothing_images("validation", ["hat", "shoes"], per_class=2)
    uploads = [(truth, create_image(path)) for truth, paths in unseen.items() for path in paths]
    content_type = ContentType.objects.get_for_model(uploads[0][1])
    states = TaggingState.objects.filter(content_type=content_type, object_id__in=[i.pk for _, i in uploads])
    assert set(states.values_list("status", flat=True)) == {TaggingState.Status.PENDING}

    with running_worker(extra_env=broker) as worker:
        finished = wait_until(lambda: not states.filter(status=TaggingState.Status.PENDING).exists(), worker=worker)
    assert finished, "the worker did not tag the uploads in time"
    assert set(states.values_list("status", flat=True)) == {TaggingState.Status.DONE}
    hits = sum(
        SmartTag.objects.filter(content_type=content_type, object_id=image.pk, tag__name=truth).exists()
        for truth, image in uploads
    )
    assert hits >= 3
