"""django-q2, the default queue: its daily schedule, and the checks that keep it from going wrong quietly."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django_q.models import Schedule

from wagtail_smarttags.checks import check_settings
from wagtail_smarttags.queues import schedule_periodic_cycle
from wagtail_smarttags.queues.django_q import RUN_TASK, SCHEDULE_NAME, run_task

from ..factories import create_image, solid_image_bytes
from ..helpers import state_of

REPOSITORY = Path(__file__).resolve().parents[2]
SAFE_CLUSTER = {"name": "smarttags", "orm": "default", "workers": 1, "timeout": 600, "retry": 900}


@pytest.mark.django_db
def test_the_periodic_cycle_is_scheduled_daily():
    schedule_periodic_cycle()
    schedule = Schedule.objects.get(name=SCHEDULE_NAME)
    assert (schedule.func, schedule.args) == (RUN_TASK, "'wagtail_smarttags.tasks.run_scheduled_cycle'")
    assert schedule.schedule_type == Schedule.DAILY


@pytest.mark.django_db
def test_migrate_brings_a_schedule_of_an_earlier_release_up_to_date():
    Schedule.objects.filter(name=SCHEDULE_NAME).delete()
    old = Schedule.objects.create(
        name=SCHEDULE_NAME, func="wagtail_smarttags.tasks.run_scheduled_cycle", schedule_type=Schedule.DAILY
    )
    call_command("migrate", verbosity=0)
    [schedule] = Schedule.objects.filter(name=SCHEDULE_NAME)
    assert schedule.pk == old.pk and schedule.func == RUN_TASK


@pytest.mark.django_db
def test_what_the_schedule_runs_tags_what_is_due(settings):
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "AUTO_TAG": False}
    image = create_image(solid_image_bytes(), name="due.png")
    schedule_periodic_cycle()
    schedule = Schedule.objects.get(name=SCHEDULE_NAME)
    args = ast.literal_eval(schedule.args)  # as django-q2's scheduler reads them
    run_task(*(args if isinstance(args, tuple) else (args,)))
    assert state_of(image).status == "done"


def test_the_documented_cluster_passes_the_checks(settings):
    settings.Q_CLUSTER = SAFE_CLUSTER
    assert check_settings() == []


def test_a_retry_not_above_the_timeout_is_a_warning(settings):
    settings.Q_CLUSTER = {**SAFE_CLUSTER, "timeout": 600, "retry": 600}
    [warning] = check_settings()
    assert warning.id == "wagtail_smarttags.W003" and "handed to a second worker" in warning.msg


def test_a_synchronous_cluster_is_a_warning(settings):
    settings.Q_CLUSTER = {**SAFE_CLUSTER, "sync": True}
    [warning] = check_settings()
    assert warning.id == "wagtail_smarttags.W003" and "inside the upload request" in warning.msg


SCRIPT = """
import django
django.setup()
from django.core.management import call_command
from django.core.management.base import SystemCheckError
try:
    call_command("check")
except SystemCheckError as error:
    print(error)
call_command("migrate", "--skip-checks", verbosity=0)
print("migrated")
"""


def test_without_django_q_check_says_what_to_do_and_migrate_still_runs(tmp_path):
    """Before, migrate died with a raw "no such table: django_q_schedule"."""
    env = {
        **os.environ,
        "SMARTTAGS_TEST_WITHOUT": "django_q",
        "SMARTTAGS_WORKER_DB": str(tmp_path / "site.sqlite3"),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
    }
    env.pop("SMARTTAGS_TEST_DATABASE", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPOSITORY), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=REPOSITORY, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert "wagtail_smarttags.E014" in result.stdout
    assert '"django_q" to INSTALLED_APPS' in result.stdout
    assert result.stdout.strip().endswith("migrated")


@pytest.mark.django_db
def test_migrate_keeps_the_sites_own_timing_of_the_cycle():
    schedule = schedule_periodic_cycle()
    Schedule.objects.filter(pk=schedule.pk).update(schedule_type=Schedule.HOURLY)
    call_command("migrate", verbosity=0)
    assert Schedule.objects.get(pk=schedule.pk).schedule_type == Schedule.HOURLY
