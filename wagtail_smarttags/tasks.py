"""The app's background tasks, defined once with Django's task API (``from django_tasks import task``).

They take primitive arguments and delegate to the service modules. The ``TASK_QUEUE`` setting decides
where they run (:mod:`wagtail_smarttags.queues`): django-q2 by default, or the site's ``TASKS`` backend.
Call one in the current process with ``.call()``, as a worker does.
"""

from .pipeline import cycles, tagging
from .queues.task_api import task
from .training import service as training


@task()
def tag_asset(content_type_id, object_id):
    """The upload task: tags the asset, and the other pending assets of its kind, in batches."""
    return tagging.tag_queued(int(content_type_id), int(object_id))


@task()
def train_version(version_id):
    version = training.train_version(int(version_id))
    return version.status if version else None


@task()
def retag_with_tag_model(tag_model_id):
    return tagging.retag_from_cache(int(tag_model_id))


@task()
def run_scheduled_cycle():
    """The daily cycle; on queues that schedule one run at a time it also schedules the next."""
    from .queues import schedule_periodic_cycle

    try:
        return cycles.run_scheduled_cycle()
    finally:
        schedule_periodic_cycle(rearm=True)


@task()
def preview_version(version_id):
    preview = training.preview_version(int(version_id))
    return preview.get("status") if preview else None
