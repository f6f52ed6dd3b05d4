"""End to end with real worker processes: uploads wait in the queue until a worker tags them.

Each queue the app supports is run as a site runs it: django-q2's ``qcluster`` on its ORM broker and
on Redis, and django-tasks-db's ``db_worker`` on the site's ``TASKS`` backend.
"""

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django_q.conf import Conf

from wagtail_smarttags.models import ScheduledRun, SmartTag, TaggingState
from wagtail_smarttags.queues import schedule_periodic_cycle
from wagtail_smarttags.training.service import request_training

from ..datasets import clothing_images
from ..factories import create_image, create_tag_model, solid_image_bytes
from ..workers import running_worker, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

DB_WORKER = ("db_worker", "--backend", "database", "--interval", "0.2", "--no-startup-delay", "--no-reload")


@dataclass
class Queue:
    name: str
    env: dict = field(default_factory=dict)
    command: tuple = ("qcluster",)


@pytest.fixture(params=["django_q-orm", "django_q-redis", "django_tasks-db_worker"])
def queue(request, monkeypatch, settings):
    """Point this process's enqueueing at the queue the worker will read."""
    if request.param == "django_tasks-db_worker":
        settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "TASK_QUEUE": django_settings.DJANGO_TASKS_QUEUE}
        return Queue(request.param, {"SMARTTAGS_TEST_QUEUE": "django_tasks"}, DB_WORKER)
    monkeypatch.setattr(Conf, "SYNC", False)
    if request.param == "django_q-orm":
        monkeypatch.setattr(Conf, "ORM", "default")
        return Queue(request.param)
    redis = pytest.importorskip("redis")
    connection = dict(django_settings.TEST_REDIS)
    try:
        redis.Redis(socket_connect_timeout=2, **connection).flushdb()
    except redis.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379 (.ci/run starts it).")
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", connection)
    return Queue(request.param, {"SMARTTAGS_TEST_BROKER": "redis"})


def test_a_real_worker_tags_pending_uploads(queue):
    tag_model = create_tag_model("Headwear or footwear", clothing_images("train", ["hat", "shoes"], per_class=10))
    request_training(tag_model, run_now=True)

    unseen = clothing_images("validation", ["hat", "shoes"], per_class=2)
    uploads = [(truth, create_image(path)) for truth, paths in unseen.items() for path in paths]
    content_type = ContentType.objects.get_for_model(uploads[0][1])
    states = TaggingState.objects.filter(content_type=content_type, object_id__in=[i.pk for _, i in uploads])
    assert set(states.values_list("status", flat=True)) == {TaggingState.Status.PENDING}

    with running_worker(extra_env=queue.env, command=queue.command) as worker:
        finished = wait_until(lambda: not states.filter(status=TaggingState.Status.PENDING).exists(), worker=worker)
    assert finished, "the worker did not tag the uploads in time"
    assert set(states.values_list("status", flat=True)) == {TaggingState.Status.DONE}
    hits = sum(
        SmartTag.objects.filter(content_type=content_type, object_id=image.pk, tag__name=truth).exists()
        for truth, image in uploads
    )
    assert hits >= 3


def test_a_real_worker_trains_a_queued_tag_model(queue):
    tag_model = create_tag_model("Headwear or footwear", clothing_images("train", ["hat", "shoes"], per_class=10))
    version = request_training(tag_model)
    assert version.status == version.Status.QUEUED

    with running_worker(extra_env=queue.env, command=queue.command) as worker:
        trained = wait_until(lambda: type(version).objects.get(pk=version.pk).status != "queued", worker=worker)
    assert trained, "the worker did not train the tag model in time"
    version.refresh_from_db()
    assert version.status == version.Status.SUCCEEDED, version.error


@pytest.mark.parametrize("queue", ["django_q-orm", "django_tasks-db_worker"], indirect=True)
def test_the_daily_cycle_runs_on_the_worker_and_tags_what_was_never_queued(queue, settings):
    """An asset saved while tagging was off has no task; the scheduled cycle finds and tags it."""
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "AUTO_TAG": False}
    image = create_image(solid_image_bytes(), name="never-queued.png")
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "AUTO_TAG": True}
    assert not TaggingState.objects.filter(object_id=image.pk).exists()
    schedule = schedule_periodic_cycle()
    if queue.name.startswith("django_q"):
        # Due now; django-q2's scheduler looks at its schedules about every 30 seconds.
        type(schedule).objects.filter(pk=schedule.pk).update(next_run=timezone.now())

    tagged = TaggingState.objects.filter(object_id=image.pk, status=TaggingState.Status.DONE)
    with running_worker(extra_env=queue.env, command=queue.command) as worker:
        finished = wait_until(tagged.exists, timeout=120, worker=worker)
        if finished and queue.name.startswith("django_tasks"):
            # The cycle ends by scheduling the next one, a day later, on the same backend.
            finished = wait_until(
                lambda: ScheduledRun.objects.filter(run_after__gt=timezone.now() + timedelta(hours=23)).exists(),
                timeout=30,
                worker=worker,
            )
    assert finished, "the worker did not run the scheduled cycle"
