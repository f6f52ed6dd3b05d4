"""The site's own ``TASKS`` backend, through Django's task API: django-tasks-db's ``db_worker``, RQ, ...

``OPTIONS``: ``backend`` (an alias of ``TASKS``, default ``"default"``), ``queue_name`` and
``priority``, as ``Task.using()`` takes them. Django's task API has no periodic schedule, so the
daily cycle is enqueued to run a day later (``run_after``) each time it ends; the next run is
remembered in :class:`~wagtail_smarttags.models.ScheduledRun` so that ``migrate`` does not add a second.
"""

import logging
from datetime import timedelta

from django.utils import timezone

from .base import QueueProblem, TaskQueue
from .task_api import api

logger = logging.getLogger(__name__)

CYCLE_INTERVAL = timedelta(days=1)
OPTION_NAMES = ("backend", "queue_name", "priority")


def _in_process_backend_classes():
    """Backends that run a task inside the process that enqueues it (Immediate), or never (Dummy)."""
    return api.import_backend("immediate.ImmediateBackend"), api.import_backend("dummy.DummyBackend")


class DjangoTasksQueue(TaskQueue):
    label = "Django tasks"

    def _task(self, task):
        return task.using(**{name: self.options[name] for name in OPTION_NAMES if name in self.options})

    def backend(self):
        return api.task_backends[self.options.get("backend", api.DEFAULT_TASK_BACKEND_ALIAS)]

    def worker_command(self):
        backend = self.backend()
        if type(backend).__module__.startswith("django_tasks_db"):
            alias = "" if backend.alias == api.DEFAULT_TASK_BACKEND_ALIAS else f" --backend {backend.alias}"
            queue = f" --queue-name {self.options['queue_name']}" if "queue_name" in self.options else ""
            return f"python manage.py db_worker{alias}{queue}"
        return ""

    def enqueue(self, task, args):
        return self._task(task).enqueue(*args)

    def schedule_daily(self, task, *, rearm=False):
        from ..models import ScheduledRun

        backend = self.backend()
        if isinstance(backend, sum(_in_process_backend_classes(), ())) or not backend.supports_defer:
            # An Immediate backend would run the cycle inside migrate; the system check says what to configure.
            return None
        now = timezone.now()
        scheduled = ScheduledRun.objects.filter(task_path=task.module_path).first()
        if rearm and scheduled is not None and scheduled.run_after > now:
            # Another run already waits (two chains were started, e.g. by migrations at once): let this
            # chain end, so that they become one again.
            return scheduled
        if not rearm and scheduled is not None and self._still_waiting(backend, scheduled, now):
            return scheduled
        run_after = now + CYCLE_INTERVAL if rearm else now
        result = self._task(task).using(run_after=run_after).enqueue()
        scheduled, _ = ScheduledRun.objects.update_or_create(
            task_path=task.module_path,
            defaults={"backend": backend.alias, "result_id": str(result.id), "run_after": run_after},
        )
        return scheduled

    @staticmethod
    def _still_waiting(backend, scheduled, now):
        if scheduled.backend != backend.alias:
            return False
        if not backend.supports_get_result:
            # Without results to look at, trust the record for a day past its time.
            return scheduled.run_after > now - CYCLE_INTERVAL
        try:
            status = backend.get_result(scheduled.result_id).status
        except api.TaskResultDoesNotExist:
            return False
        if status == api.TaskResultStatus.RUNNING:
            # A worker killed mid-cycle leaves its run RUNNING for ever, and never scheduled the next one.
            return scheduled.run_after > now - CYCLE_INTERVAL
        return status == api.TaskResultStatus.READY

    @classmethod
    def check(cls, options):
        unknown = set(options) - set(OPTION_NAMES)
        if unknown:
            return [
                QueueProblem(
                    f"Unknown TASK_QUEUE option(s) {', '.join(sorted(unknown))} for django_tasks.",
                    hint=f"Known options: {', '.join(OPTION_NAMES)}.",
                    level="error",
                )
            ]
        alias = options.get("backend", api.DEFAULT_TASK_BACKEND_ALIAS)
        try:
            backend = api.task_backends[alias]
        except Exception as error:  # an unknown alias, or a TASKS entry that cannot be built
            return [QueueProblem(f"TASK_QUEUE names the TASKS backend {alias!r}: {error}", level="error")]
        try:
            from ..tasks import tag_asset

            cls({**options, "backend": alias})._task(tag_asset)
        except Exception as error:  # e.g. a queue_name the backend does not serve, a priority it cannot honour
            return [QueueProblem(f"The TASK_QUEUE options do not suit the TASKS backend {alias!r}: {error}",
                                 level="error")]  # fmt: skip
        immediate, dummy = _in_process_backend_classes()
        configure = (
            'Configure a backend with a worker in TASKS, e.g. {"default": {"BACKEND": '
            '"django_tasks_db.DatabaseBackend"}} and run manage.py db_worker (docs/installation.md).'
        )
        if isinstance(backend, immediate):
            return [
                QueueProblem(
                    f"The TASKS backend {alias!r} is the Immediate backend: every upload would be tagged, and every "
                    "tag model trained, inside the request that saves it, and no daily cycle is scheduled.",
                    hint=configure,
                )
            ]
        if isinstance(backend, dummy):
            return [
                QueueProblem(
                    f"The TASKS backend {alias!r} is the Dummy backend: uploads stay pending and nothing is trained.",
                    hint=configure,
                )
            ]
        if not backend.supports_defer:
            return [
                QueueProblem(
                    f"The TASKS backend {alias!r} cannot defer tasks (run_after), so the daily tagging cycle is not "
                    "scheduled.",
                    hint="Run manage.py smarttags_tag --scheduled daily from cron, or use a backend that defers.",
                )
            ]
        return []
