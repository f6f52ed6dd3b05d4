"""Enqueue the app's background tasks on django-q2, only once the surrounding transaction commits.

The upload request never waits for ML and never fails because the broker is down:
if enqueueing fails the asset simply stays pending, and the next tagging cycle
(``smarttags_tag``) picks it up.
"""

import logging

from django.db import transaction

from .conf import get_setting

logger = logging.getLogger(__name__)


def enqueue_on_commit(task_path, *args):
    transaction.on_commit(lambda: enqueue_now(task_path, *args))


def enqueue_now(task_path, *args):
    from django_q.tasks import async_task

    options = dict(get_setting("TASK_OPTIONS"))
    try:
        return async_task(task_path, *args, **options)
    except Exception:
        # A broker outage must not break the request that triggered the task.
        logger.exception("Could not enqueue %s%r; it will be picked up by the next tagging cycle.", task_path, args)
        return None
