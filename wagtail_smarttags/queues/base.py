"""The interface every task queue implements; ``TASK_QUEUE`` chooses one."""

from dataclasses import dataclass


@dataclass(frozen=True)
class QueueProblem:
    """A configuration problem a system check reports; ``level`` is ``"error"`` or ``"warning"``."""

    message: str
    hint: str = ""
    level: str = "warning"


class TaskQueue:
    """Runs the app's tasks (``django_tasks`` Task objects) in a worker, outside the request."""

    #: Shown in messages and docs.
    label = ""

    def worker_command(self):
        """The command that runs this queue's worker, for the admin to show when none seems to run; "" if
        the queue's workers are started some other way."""
        return ""

    def __init__(self, options):
        self.options = options

    def enqueue(self, task, args):
        """Send ``task(*args)`` to a worker. May raise: callers keep the asset pending if it does."""
        raise NotImplementedError

    def schedule_daily(self, task, *, rearm=False):
        """Make sure ``task()`` runs once a day; called on ``migrate`` and, with ``rearm``, after each run."""
        raise NotImplementedError

    @classmethod
    def check(cls, options):
        """``[QueueProblem, ...]``: what would keep tasks from running in a worker, imported lazily."""
        return []
