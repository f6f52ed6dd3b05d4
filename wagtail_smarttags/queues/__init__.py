"""Where the app's background tasks run: a task queue chosen by the ``TASK_QUEUE`` setting.

The tasks themselves are defined once, in :mod:`wagtail_smarttags.tasks`, with Django's task API
(``django.tasks`` on Django 6, the ``django-tasks`` backport before it, which Wagtail itself uses).
A queue only decides how they reach a worker:

- ``django_q`` (the default): django-q2, whose ORM broker needs no set-up and whose Redis broker serves
  production; run ``manage.py qcluster``.
- ``django_tasks``: the site's own ``TASKS`` backend (django-tasks-db's ``db_worker``, RQ, ...), the same
  one Wagtail's search indexing and focal points run on.

The upload request never waits for ML and never fails because the broker is down: if enqueueing fails
the asset simply stays pending, and the next tagging cycle (``smarttags_tag``) picks it up.
"""

import logging

from django.db import transaction
from django.utils.module_loading import import_string

from ..conf import get_setting
from .base import TaskQueue

logger = logging.getLogger(__name__)

TASK_QUEUE_ALIASES = {
    "django_q": "wagtail_smarttags.queues.django_q.DjangoQQueue",
    "django_tasks": "wagtail_smarttags.queues.django_tasks.DjangoTasksQueue",
}


def task_queue_class(backend):
    try:
        cls = import_string(TASK_QUEUE_ALIASES.get(backend, backend))
    except ImportError as error:
        raise ValueError(f"Unknown task queue {backend!r}: {error}") from None
    if not (isinstance(cls, type) and issubclass(cls, TaskQueue)):
        raise ValueError(f"{backend!r} is not a TaskQueue subclass.")
    return cls


def get_task_queue():
    """The configured :class:`TaskQueue`; cheap to build, so built each time (tests override settings)."""
    config = task_queue_config()
    return task_queue_class(config["BACKEND"])(config["OPTIONS"])


def task_queue_config():
    """``{"BACKEND", "OPTIONS"}`` of ``TASK_QUEUE``; the older ``TASK_OPTIONS`` still feed django-q2's options."""
    config = dict(get_setting("TASK_QUEUE") or {})
    backend = config.get("BACKEND", "django_q")
    options = dict(config.get("OPTIONS") or {})
    if TASK_QUEUE_ALIASES.get(backend, backend) == TASK_QUEUE_ALIASES["django_q"]:
        options = {**(get_setting("TASK_OPTIONS") or {}), **options}
    return {"BACKEND": backend, "OPTIONS": options}


def enqueue_on_commit(task, *args):
    """Enqueue ``task(*args)`` once the surrounding transaction commits (at once outside one).

    ``task`` is a Task of :mod:`wagtail_smarttags.tasks` or its dotted path, which the service modules
    use because the tasks module imports them.
    """
    transaction.on_commit(lambda: enqueue_now(task, *args))


def enqueue_now(task, *args):
    try:
        task = import_string(task) if isinstance(task, str) else task
        return get_task_queue().enqueue(task, args)
    except Exception:
        # A broker outage must not break the request that triggered the task.
        logger.exception("Could not enqueue %s%r; it will be picked up by the next tagging cycle.", task, args)
        return None


def schedule_periodic_cycle(*, rearm=False):
    """Make sure the periodic tagging cycle runs once a day on the configured queue.

    ``rearm`` is set by the cycle itself when it ends, for queues that schedule one run at a time.
    """
    if not get_setting("SCHEDULE_CYCLES"):
        return None
    try:
        from ..tasks import run_scheduled_cycle

        return get_task_queue().schedule_daily(run_scheduled_cycle, rearm=rearm)
    except Exception:
        logger.exception("Could not schedule the periodic tagging cycle; run manage.py smarttags_tag instead.")
        return None


__all__ = [
    "TASK_QUEUE_ALIASES",
    "TaskQueue",
    "enqueue_now",
    "enqueue_on_commit",
    "get_task_queue",
    "schedule_periodic_cycle",
    "task_queue_class",
]
