"""The app's tasks on the site's own TASKS backend (Django's task API), here django-tasks-db's."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from wagtail_smarttags.checks import check_settings
from wagtail_smarttags.models import ScheduledRun, TaggingState, TrainingVersion
from wagtail_smarttags.queues import get_task_queue, schedule_periodic_cycle
from wagtail_smarttags.queues.django_tasks import DjangoTasksQueue
from wagtail_smarttags.tasks import run_scheduled_cycle, tag_asset
from wagtail_smarttags.training.service import request_training

from ..datasets import clothing_images
from ..factories import create_image, create_tag_model, solid_image_bytes
from ..helpers import state_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def django_tasks_queue(settings):
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "TASK_QUEUE": django_settings.DJANGO_TASKS_QUEUE}
    return get_task_queue()


def test_the_setting_chooses_the_queue(django_tasks_queue):
    assert isinstance(django_tasks_queue, DjangoTasksQueue)
    assert django_tasks_queue.backend().alias == "database"


def test_an_upload_is_enqueued_on_the_tasks_backend_once_it_commits(
    django_tasks_queue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        image = create_image(solid_image_bytes(), name="queued.png")
        assert not DBTaskResult.objects.exists(), "nothing is queued before the upload commits"
    [queued] = DBTaskResult.objects.all()
    assert queued.task_path == "wagtail_smarttags.tasks.tag_asset"
    assert queued.args_kwargs == {"args": [ContentType.objects.get_for_model(image).pk, image.pk], "kwargs": {}}
    assert queued.backend_name == "database"
    assert state_of(image).status == TaggingState.Status.PENDING

    # What the worker does with it.
    queued.task.call(*queued.args_kwargs["args"])
    assert state_of(image).status == TaggingState.Status.DONE


def test_a_training_is_enqueued_on_the_tasks_backend(django_tasks_queue, django_capture_on_commit_callbacks):
    tag_model = create_tag_model("Headwear or footwear", clothing_images("train", ["hat", "shoes"], per_class=10))
    with django_capture_on_commit_callbacks(execute=True):
        version = request_training(tag_model)
    [queued] = DBTaskResult.objects.filter(task_path="wagtail_smarttags.tasks.train_version")
    assert queued.args_kwargs["args"] == [version.pk]
    queued.task.call(*queued.args_kwargs["args"])
    assert TrainingVersion.objects.get(pk=version.pk).status == TrainingVersion.Status.SUCCEEDED


def test_the_daily_cycle_is_scheduled_once_however_often_the_site_migrates(django_tasks_queue):
    first = schedule_periodic_cycle()
    again = schedule_periodic_cycle()
    assert first.pk == again.pk
    [queued] = DBTaskResult.objects.filter(task_path="wagtail_smarttags.tasks.run_scheduled_cycle")
    assert str(queued.pk) == first.result_id
    assert queued.status == "READY"
    assert queued.run_after <= timezone.now()


def test_the_cycle_schedules_its_next_run_a_day_later(django_tasks_queue):
    schedule_periodic_cycle()
    run_scheduled_cycle.call()
    scheduled = ScheduledRun.objects.get(task_path="wagtail_smarttags.tasks.run_scheduled_cycle")
    assert timezone.now() + timedelta(hours=23) < scheduled.run_after <= timezone.now() + timedelta(days=1)
    waiting = DBTaskResult.objects.get(pk=scheduled.result_id)
    assert waiting.run_after == scheduled.run_after


def test_a_pruned_scheduled_run_is_scheduled_again(django_tasks_queue):
    first = schedule_periodic_cycle()
    DBTaskResult.objects.all().delete()  # e.g. prune_db_task_results, or a backend that lost its queue
    again = schedule_periodic_cycle()
    assert again.result_id != first.result_id
    assert DBTaskResult.objects.filter(pk=again.result_id).exists()


def test_a_broken_tasks_backend_leaves_the_upload_pending(
    django_tasks_queue, settings, django_capture_on_commit_callbacks, caplog
):
    settings.TASKS = {**settings.TASKS, "database": {"BACKEND": "no.such.Backend"}}
    with django_capture_on_commit_callbacks(execute=True):
        image = create_image(solid_image_bytes(), name="no-backend.png")
    assert state_of(image).status == TaggingState.Status.PENDING
    assert "will be picked up by the next tagging cycle" in caplog.text


@pytest.mark.parametrize(
    "backend, says",
    [
        (f"{django_settings.TASK_BACKENDS}.immediate.ImmediateBackend", "inside the request"),
        (f"{django_settings.TASK_BACKENDS}.dummy.DummyBackend", "uploads stay pending"),
    ],
)
def test_a_backend_without_a_worker_is_a_warning_that_says_what_to_configure(settings, backend, says):
    settings.TASKS = {"default": {"BACKEND": backend}}
    settings.WAGTAIL_SMARTTAGS = {"TASK_QUEUE": {"BACKEND": "django_tasks"}}
    [warning] = [m for m in check_settings() if m.id == "wagtail_smarttags.W003"]
    assert says in warning.msg
    assert "django_tasks_db.DatabaseBackend" in warning.hint and "db_worker" in warning.hint
    assert schedule_periodic_cycle() is None, "an Immediate backend would run the cycle inside migrate"


def test_a_tasks_backend_that_is_not_configured_is_an_error(settings):
    settings.WAGTAIL_SMARTTAGS = {"TASK_QUEUE": {"BACKEND": "django_tasks", "OPTIONS": {"backend": "smarttags"}}}
    assert [m.id for m in check_settings() if m.id.startswith("wagtail_smarttags.E")] == ["wagtail_smarttags.E014"]
    settings.WAGTAIL_SMARTTAGS = {"TASK_QUEUE": {"BACKEND": "django_tasks", "OPTIONS": {"queue": "x"}}}
    assert "Unknown TASK_QUEUE option" in [m.msg for m in check_settings() if m.id == "wagtail_smarttags.E014"][0]


def test_the_database_backend_passes_the_checks(settings):
    settings.WAGTAIL_SMARTTAGS = {"TASK_QUEUE": django_settings.DJANGO_TASKS_QUEUE}
    assert check_settings() == []


def test_tasks_run_in_the_current_process_with_call():
    assert tag_asset.call(ContentType.objects.get_for_model(TaggingState).pk, 0) == TaggingState.Status.SKIPPED


def test_a_cycle_killed_mid_run_is_scheduled_again(django_tasks_queue):
    """A worker killed during the cycle leaves it RUNNING and never schedules the next one."""
    first = schedule_periodic_cycle()
    DBTaskResult.objects.filter(pk=first.result_id).update(status="RUNNING")
    assert schedule_periodic_cycle().result_id == first.result_id, "a cycle running today is left alone"
    ScheduledRun.objects.filter(pk=first.pk).update(run_after=timezone.now() - timedelta(days=2))
    again = schedule_periodic_cycle()
    assert again.result_id != first.result_id


def test_of_two_chains_of_cycles_one_ends(django_tasks_queue):
    """Two migrations at once may each start a chain; a cycle that finds another run waiting adds none."""
    schedule_periodic_cycle()
    run_scheduled_cycle.call()  # schedules tomorrow's run
    waiting = DBTaskResult.objects.filter(status="READY").count()
    run_scheduled_cycle.call()  # the other chain's run, the same day
    assert DBTaskResult.objects.filter(status="READY").count() == waiting


def test_options_the_backend_cannot_honour_are_an_error(settings):
    settings.WAGTAIL_SMARTTAGS = {
        "TASK_QUEUE": {"BACKEND": "django_tasks", "OPTIONS": {"backend": "database", "queue_name": "smarttags"}}
    }
    [error] = [m for m in check_settings() if m.id == "wagtail_smarttags.E014"]
    assert "do not suit the TASKS backend 'database'" in error.msg
    settings.TASKS = {**settings.TASKS, "database": {**settings.TASKS["database"], "QUEUES": ["smarttags"]}}
    assert [m for m in check_settings() if m.id == "wagtail_smarttags.E014"] == []
    assert get_task_queue().worker_command() == "python manage.py db_worker --backend database --queue-name smarttags"
