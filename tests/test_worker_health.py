"""The admin tells editors when no worker picks up uploads or trainings, and says what to run."""

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone
from wagtail.images import get_image_model

from wagtail_smarttags.models import TaggingState, TagModel, TrainingVersion
from wagtail_smarttags.wagtail_hooks import moderation_url
from wagtail_smarttags.worker_health import worker_backlog

from .factories import create_image, solid_image_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_auto_tagging(settings):
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "AUTO_TAG": False}


@pytest.fixture
def admin(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("admin", "admin@example.com", "pw"))
    return client


def queued(image, minutes_ago):
    return TaggingState.objects.create(
        content_type=ContentType.objects.get_for_model(get_image_model()), object_id=image.pk,
        status=TaggingState.Status.PENDING, queued_at=timezone.now() - timedelta(minutes=minutes_ago),
    )  # fmt: skip


def finished(image, minutes_ago):
    return TaggingState.objects.create(
        content_type=ContentType.objects.get_for_model(get_image_model()), object_id=image.pk,
        status=TaggingState.Status.DONE, tagged_at=timezone.now() - timedelta(minutes=minutes_ago),
    )  # fmt: skip


def images(count):
    return [create_image(solid_image_bytes((n, 0, 0)), title=f"Photo {n}", name=f"p{n}.png") for n in range(count)]


def test_nothing_waiting_is_not_stalled():
    assert not worker_backlog().stalled


def test_work_waiting_longer_than_the_setting_with_nothing_finished_since_is_stalled():
    first, second, third = images(3)
    finished(first, minutes_ago=60)
    queued(second, minutes_ago=30)
    queued(third, minutes_ago=1)
    backlog = worker_backlog()
    assert backlog.stalled and backlog.assets == 2 and backlog.trainings == 0
    assert timedelta(minutes=29) < backlog.waiting_since < timedelta(minutes=31)


def test_a_busy_worker_that_finishes_things_is_not_stalled():
    first, second = images(2)
    queued(first, minutes_ago=30)
    finished(second, minutes_ago=1)  # the worker is working through the queue
    assert not worker_backlog().stalled


def test_recent_work_is_not_stalled_yet(settings):
    (image,) = images(1)
    queued(image, minutes_ago=2)
    assert not worker_backlog().stalled
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "WORKER_STALL_AFTER": timedelta(minutes=1)}
    assert worker_backlog().stalled


def test_the_dashboard_smart_tags_screen_and_tag_models_say_to_start_a_worker(admin):
    (image,) = images(1)
    queued(image, minutes_ago=30)
    tag_model = TagModel.objects.create(title="Garments")
    version = TrainingVersion.objects.create(tag_model=tag_model, number=1)
    TrainingVersion.objects.filter(pk=version.pk).update(created_at=timezone.now() - timedelta(minutes=20))
    for url in (reverse("wagtailadmin_home"), moderation_url("image", image.pk), reverse("tagmodel:index")):
        html = admin.get(url).content.decode()
        warning = html.split("data-smarttags-worker-stalled>", 1)[1].split("</p>", 1)[0]
        assert "No worker has picked up the smart tags' work for 30" in " ".join(warning.split()), url
        assert "1 asset waits to be tagged" in warning and "1 training waits" in warning
        assert "python manage.py qcluster" in warning
    assert "Queued 30" in admin.get(moderation_url("image", image.pk)).content.decode()


def test_no_warning_while_the_worker_keeps_up(admin):
    first, second = images(2)
    queued(first, minutes_ago=30)
    finished(second, minutes_ago=1)
    assert "data-smarttags-worker-stalled" not in admin.get(reverse("wagtailadmin_home")).content.decode()


def test_the_warning_names_the_worker_of_the_configured_queue(admin, settings):
    (image,) = images(1)
    queued(image, minutes_ago=30)
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "TASK_QUEUE": settings.DJANGO_TASKS_QUEUE}
    html = admin.get(reverse("wagtailadmin_home")).content.decode()
    warning = html.split("data-smarttags-worker-stalled>", 1)[1].split("</p>", 1)[0]
    assert "<code>python manage.py db_worker --backend database</code>" in warning
