"""Tagging cycles: find the assets that need (re-)tagging and tag many of them fast.

An asset is due when it was never tagged, is pending, its file changed since it was tagged,
a tag model was (re)trained or rolled back since (images and videos), or its last tagging is older than
the cycle's age limit: ``CYCLE_RETAG_AFTER`` for a cycle run by hand, ``SCHEDULED_RETAG_AFTER``
for the periodic one django-q2's scheduler runs. Assets are tagged in primary-key order and each
batch's states are saved as it is done, so an interrupted cycle resumes where it stopped.
"""

import time
from datetime import timedelta

from django.utils import timezone

from ..conf import get_setting
from ..models import TaggingState
from .kinds import content_type_for, get_asset_kinds
from .loading import active_versions
from .tagging import tag_assets


def due_assets(kinds=None, *, older_than=None, everything=False, include_failed=False, now=None):
    """``[(kind name, content_type, [object ids])]`` of the assets a cycle should tag, in primary-key order."""
    now = now or timezone.now()
    versions = active_versions()
    due = []
    for name, kind in get_asset_kinds().items():
        if kinds and name not in kinds:
            continue
        model = kind.get_model()
        content_type = content_type_for(model)
        states = {
            row[0]: row[1:]
            for row in TaggingState.objects.filter(content_type=content_type).values_list(
                "object_id", "status", "file_name", "file_hash", "model_versions", "tagged_at"
            )
        }
        hash_field = "file_hash" if any(f.name == "file_hash" for f in model._meta.get_fields()) else "pk"
        ids = []
        for object_id, file_name, file_hash in model._default_manager.order_by("pk").values_list(
            "pk", "file", hash_field
        ):
            state = states.get(object_id)
            if everything or state is None:
                ids.append(object_id)
                continue
            status, tagged_name, tagged_hash, tagged_versions, tagged_at = state
            if status == TaggingState.Status.PENDING or (include_failed and status == TaggingState.Status.FAILED):
                ids.append(object_id)
            elif status == TaggingState.Status.FAILED:
                continue
            elif file_name != tagged_name or (
                hash_field == "file_hash" and file_hash and tagged_hash and file_hash != tagged_hash
            ):
                ids.append(object_id)
            elif kind.visual and tagged_versions != versions:
                ids.append(object_id)
            elif older_than is not None and (tagged_at is None or tagged_at < now - older_than):
                ids.append(object_id)
        if ids:
            due.append((name, content_type, ids))
    return due


def run_cycle(kinds=None, *, older_than=None, everything=False, include_failed=False, progress=None):
    """Tag every due asset through the pipeline; returns ``{status: count}``."""
    outcome = {}
    for name, _, ids in due_assets(kinds, older_than=older_than, everything=everything, include_failed=include_failed):
        for status, count in tag_assets(get_asset_kinds()[name], ids, progress).items():
            outcome[status] = outcome.get(status, 0) + count
    return outcome


def run_scheduled_cycle():
    """The periodic cycle: everything due, re-tagging unaltered assets older than ``SCHEDULED_RETAG_AFTER``;
    and the words of tags imported in bulk (which sends no signal) become searchable."""
    from ..search.words import index_unindexed_words

    index_unindexed_words()
    return run_cycle(older_than=get_setting("SCHEDULED_RETAG_AFTER"))


class Progress:
    """A progress bar on a terminal, periodic lines elsewhere."""

    def __init__(self, total, stream, interactive):
        self.total, self.done, self.stream, self.interactive = total, 0, stream, interactive
        self.started = self.last_line = time.monotonic()

    def advance(self, count):
        self.done += count
        now = time.monotonic()
        if not self.interactive and now - self.last_line < 10 and self.done < self.total:
            return
        self.last_line = now
        rate = self.done / max(now - self.started, 1e-6)
        remaining = (self.total - self.done) / rate if rate else 0
        width = 30
        filled = int(width * self.done / max(self.total, 1))
        line = (
            f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
            f"{rate:.1f} assets/s, {timedelta(seconds=int(remaining))} left"
        )
        self.stream.write(f"\r{line}" if self.interactive else line + "\n")
        self.stream.flush()

    def finish(self):
        if self.interactive:
            self.stream.write("\n")
