"""Whether a worker is picking up the app's work, told from the database alone.

Uploads and trainings wait for a worker (``manage.py qcluster``); with none running they wait
forever and the admin would look just as it does when there is nothing to do. Work is *stalled*
when something has waited longer than ``WORKER_STALL_AFTER`` and nothing was finished since it was
queued: a busy worker finishes something now and then, a missing one never does.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Max, Min
from django.utils import timezone

from .conf import get_setting
from .models import TaggingState, TrainingVersion


@dataclass
class Backlog:
    assets: int = 0
    trainings: int = 0
    #: When the longest-waiting asset or training was queued.
    oldest: datetime | None = None
    #: When the worker last finished something (an asset tagged, a training done).
    last_finished: datetime | None = None
    stalled: bool = False
    #: What starts a worker of the configured task queue ("" if the admin cannot tell).
    worker_command: str = ""

    @property
    def waiting_since(self):
        return timezone.now() - self.oldest if self.oldest else None


def worker_backlog(now=None):
    """What waits for a worker, and whether it looks stalled."""
    now = now or timezone.now()
    waiting = TaggingState.objects.filter(status=TaggingState.Status.PENDING, queued_at__isnull=False)
    queued = TrainingVersion.objects.filter(status=TrainingVersion.Status.QUEUED)
    backlog = Backlog(assets=waiting.count(), trainings=queued.count(), worker_command=_worker_command())
    oldest = [
        waiting.aggregate(oldest=Min("queued_at"))["oldest"],
        queued.aggregate(oldest=Min("created_at"))["oldest"],
    ]
    oldest = [moment for moment in oldest if moment is not None]
    if not oldest:
        return backlog
    backlog.oldest = min(oldest)
    finished = [
        TaggingState.objects.exclude(status=TaggingState.Status.PENDING).aggregate(last=Max("tagged_at"))["last"],
        TrainingVersion.objects.aggregate(last=Max("finished_at"))["last"],
    ]
    finished = [moment for moment in finished if moment is not None]
    backlog.last_finished = max(finished) if finished else None
    waited_too_long = now - backlog.oldest > get_setting("WORKER_STALL_AFTER")
    nothing_since = backlog.last_finished is None or backlog.last_finished < backlog.oldest
    backlog.stalled = waited_too_long and nothing_since
    return backlog


def _worker_command():
    from .queues import get_task_queue

    try:
        return get_task_queue().worker_command()
    except Exception:  # a misconfigured queue is the system checks' to report, not the dashboard's
        return ""
