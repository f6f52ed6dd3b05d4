"""django-q2: the embedded default (its ORM broker needs nothing set up) and the Redis production path.

django-q2 runs plain functions found by dotted path, so every task goes through :func:`run_task`,
which looks the ``django_tasks`` Task up by its path and calls it.
"""

from django.utils.module_loading import import_string

from .base import QueueProblem, TaskQueue

RUN_TASK = "wagtail_smarttags.queues.django_q.run_task"
SCHEDULE_NAME = "wagtail-smarttags tagging cycle"


def run_task(task_path, *args):
    """What a django-q2 worker runs: the app's task at ``task_path``."""
    return import_string(task_path).call(*args)


class DjangoQQueue(TaskQueue):
    """``OPTIONS`` are passed to django-q2's ``async_task`` (e.g. ``{"cluster": "smarttags"}``)."""

    label = "django-q2"

    def worker_command(self):
        return "python manage.py qcluster"

    def enqueue(self, task, args):
        from django_q.tasks import async_task

        options = {"task_name": f"smarttags: {task.name}", **self.options}
        return async_task(RUN_TASK, task.module_path, *args, **options)

    def schedule_daily(self, task, *, rearm=False):
        """django-q2's scheduler repeats a Schedule row; made once, and brought up to date by later versions."""
        from django.apps import apps

        if rearm or not apps.is_installed("django_q"):
            return None
        from django_q.models import Schedule

        wanted = {"func": RUN_TASK, "args": repr(task.module_path)}
        schedule, created = Schedule.objects.get_or_create(
            name=SCHEDULE_NAME, defaults={**wanted, "schedule_type": Schedule.DAILY}
        )
        if not created and (schedule.func, schedule.args) != (wanted["func"], wanted["args"]):
            # An earlier release's function; the site's own timing (an hourly or cron schedule) stays.
            Schedule.objects.filter(pk=schedule.pk).update(**wanted)
            schedule.refresh_from_db()
        return schedule

    @classmethod
    def check(cls, options):
        from django.apps import apps
        from django.conf import settings

        if not apps.is_installed("django_q"):
            return [
                QueueProblem(
                    "The app's tasks run on django-q2 (TASK_QUEUE), but django_q is not in INSTALLED_APPS.",
                    hint='Add "django_q" to INSTALLED_APPS and run manage.py migrate, or set '
                    'WAGTAIL_SMARTTAGS["TASK_QUEUE"] = {"BACKEND": "django_tasks"} to use the site\'s TASKS backend.',
                    level="error",
                )
            ]
        cluster = getattr(settings, "Q_CLUSTER", {}) or {}
        if not isinstance(cluster, dict):
            return [QueueProblem("Q_CLUSTER must be a dict.", level="error")]
        problems = []
        if cluster.get("sync"):
            problems.append(
                QueueProblem(
                    "Q_CLUSTER['sync'] is True: images are tagged and models trained inside the upload request.",
                    hint="Leave 'sync' unset in production and run manage.py qcluster.",
                )
            )
        timeout, retry = cluster.get("timeout"), cluster.get("retry", 60)
        if timeout is not None and retry is not None and retry <= timeout:
            problems.append(
                QueueProblem(
                    f"Q_CLUSTER['retry'] ({retry} s) is not above its 'timeout' ({timeout} s): a long training "
                    "or tagging batch is handed to a second worker while the first still runs it.",
                    hint='For example Q_CLUSTER = {"name": "smarttags", "orm": "default", "timeout": 600, '
                    '"retry": 900} (docs/installation.md).',
                )
            )
        return problems
