"""Uploads never wait for ML: tagging is queued on commit, and a missing worker or broker loses nothing."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django_q.conf import Conf
from django_q.models import OrmQ
from django_q.signing import SignedPackage

from wagtail_smarttags import tasks
from wagtail_smarttags.models import SmartTag, TaggingState
from wagtail_smarttags.queues.django_q import run_task

from ..datasets import clothing_images
from ..factories import create_image, solid_image_bytes
from ..helpers import state_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_worker(monkeypatch):
    """The ORM broker as in production: tasks wait in the queue until a worker takes them."""
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "ORM", "default")


def test_upload_without_a_worker_queues_the_asset_and_leaves_it_pending(no_worker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        image = create_image(solid_image_bytes(), name="pending.png")
        assert OrmQ.objects.count() == 0, "nothing is queued before the upload commits"
    assert len(callbacks) == 1
    assert state_of(image).status == TaggingState.Status.PENDING
    [queued] = OrmQ.objects.all()
    task = SignedPackage.loads(queued.payload)
    assert task["func"] == "wagtail_smarttags.queues.django_q.run_task"
    assert task["args"] == ("wagtail_smarttags.tasks.tag_asset", ContentType.objects.get_for_model(image).pk, image.pk)

    # What a worker does with that task when it runs: the asset is then tagged.
    run_task(*task["args"])
    assert state_of(image).status == TaggingState.Status.DONE


def test_upload_succeeds_when_the_broker_is_down(monkeypatch, django_capture_on_commit_callbacks, caplog):
    # A Redis broker on a port where nothing listens: every enqueue fails to connect.
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", {"host": "127.0.0.1", "port": 1, "socket_connect_timeout": 1})
    monkeypatch.setattr(Conf, "DJANGO_REDIS", None)
    with django_capture_on_commit_callbacks(execute=True):
        image = create_image(solid_image_bytes(), name="broker-down.png")
    assert state_of(image).status == TaggingState.Status.PENDING
    assert "will be picked up by the next tagging cycle" in caplog.text

    # The next cycle tags what is pending.
    from django.core.management import call_command

    call_command("smarttags_tag")
    assert state_of(image).status == TaggingState.Status.DONE


def test_metadata_edits_do_not_queue_anything(django_capture_on_commit_callbacks):
    image = create_image(solid_image_bytes(), name="edit.png")
    with django_capture_on_commit_callbacks() as callbacks:
        image.title = "Renamed"
        image.save()
        image.save(update_fields=["title"])
    assert callbacks == []


def test_auto_tag_can_be_switched_off(settings, django_capture_on_commit_callbacks):
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "AUTO_TAG": False}
    with django_capture_on_commit_callbacks() as callbacks:
        image = create_image(solid_image_bytes(), name="manual.png")
    assert callbacks == []
    assert not TaggingState.objects.filter(object_id=image.pk).exists()


def test_a_task_for_a_deleted_asset_is_harmless():
    image = create_image(clothing_images("validation", ["hat"], per_class=1)["hat"][0])
    content_type_id, pk = ContentType.objects.get_for_model(image).pk, image.pk
    image.delete()
    assert tasks.tag_asset.call(content_type_id, pk) == TaggingState.Status.SKIPPED
    assert not SmartTag.objects.filter(object_id=pk).exists()
