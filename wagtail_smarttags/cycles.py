"""Tagging cycles: find the assets that need (re-)tagging and tag many of them fast.

An asset is due when it was never tagged, is pending, its file changed since it was tagged,
a tag model was (re)trained or rolled back since (images and videos), or its last tagging is older than
the cycle's age limit: ``CYCLE_RETAG_AFTER`` for a cycle run by hand, ``SCHEDULED_RETAG_AFTER``
for the periodic one django-q2's scheduler runs. Assets are tagged in primary-key order and each
one's state is saved as it is done, so an interrupted cycle resumes where it stopped.
"""

import logging
import time
from datetime import timedelta

from django.db.models import F
from django.utils import timezone

from .assets import IMAGE, content_type_for, file_identity, get_asset_models
from .backbones import get_backbone
from .conf import get_setting
from .embeddings import embed_image_files
from .generic import apply_generic_tags
from .ml.errors import BackboneLoadError, MissingDependencyError
from .models import TaggingState
from .tagging import VISUAL_KINDS, active_versions, apply_tag_models, tag_asset

logger = logging.getLogger(__name__)

IMAGE_BATCH_SIZE = 32


def due_assets(kinds=None, *, older_than=None, everything=False, include_failed=False, now=None):
    """``[(kind, content_type, [object ids])]`` of the assets a cycle should tag, in primary-key order."""
    now = now or timezone.now()
    versions = active_versions()
    due = []
    for kind, model in get_asset_models().items():
        if kinds and kind not in kinds:
            continue
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
            elif kind in VISUAL_KINDS and tagged_versions != versions:
                ids.append(object_id)
            elif older_than is not None and (tagged_at is None or tagged_at < now - older_than):
                ids.append(object_id)
        if ids:
            due.append((kind, content_type, ids))
    return due


def run_cycle(kinds=None, *, older_than=None, everything=False, include_failed=False, progress=None):
    """Tag every due asset; returns ``{status: count}``."""
    outcome = {}
    for kind, content_type, ids in due_assets(
        kinds, older_than=older_than, everything=everything, include_failed=include_failed
    ):
        tagger = tag_images_in_batches if kind == IMAGE else tag_one_by_one
        for status, count in tagger(content_type, ids, progress).items():
            outcome[status] = outcome.get(status, 0) + count
    return outcome


def run_scheduled_cycle():
    """The periodic cycle: everything due, re-tagging unaltered assets older than ``SCHEDULED_RETAG_AFTER``."""
    return run_cycle(older_than=get_setting("SCHEDULED_RETAG_AFTER"))


def tag_one_by_one(content_type, ids, progress=None):
    outcome = {}
    for object_id in ids:
        status = tag_asset(content_type.pk, object_id)
        outcome[status] = outcome.get(status, 0) + 1
        if progress:
            progress.advance(1)
    return outcome


def tag_images_in_batches(content_type, ids, progress=None):
    """Decode and embed images a batch at a time (one network call per batch), then apply every model."""
    model = content_type.model_class()
    outcome = {}
    try:
        backbone = get_backbone()
    except (BackboneLoadError, MissingDependencyError):
        return tag_one_by_one(content_type, ids, progress)  # records "paused" on each asset
    for start in range(0, len(ids), IMAGE_BATCH_SIZE):
        chunk_ids = ids[start : start + IMAGE_BATCH_SIZE]
        assets = {asset.pk: asset for asset in model._default_manager.filter(pk__in=chunk_ids)}
        try:
            hashes, labels = {}, {}
            vectors, errors = embed_image_files(
                [(pk, asset.file) for pk, asset in assets.items()], backbone, hashes=hashes, labels=labels
            )
            apply_tag_models(content_type.pk, vectors, backbone.id)
            apply_generic_tags(
                content_type.pk, {pk: (vector, [labels.get(pk, [])]) for pk, vector in vectors.items()}, backbone
            )
        except Exception:
            # Something unexpected in this batch: isolate it by tagging each asset on its own.
            logger.exception("Batch tagging failed; tagging its %d images one by one", len(assets))
            for status, count in tag_one_by_one(content_type, list(assets), None).items():
                outcome[status] = outcome.get(status, 0) + count
        else:
            _record_batch(content_type, assets, hashes, errors, outcome)
        if progress:
            progress.advance(len(chunk_ids))
    return outcome


def _record_batch(content_type, assets, hashes, errors, outcome):
    versions = active_versions()
    for pk, asset in assets.items():
        state, _ = TaggingState.objects.get_or_create(content_type=content_type, object_id=pk)
        state.file_name = file_identity(asset)[0]
        state.file_hash = hashes.get(pk, state.file_hash)
        state.attempts = F("attempts") + 1
        if pk in errors:
            state.mark(TaggingState.Status.FAILED, errors[pk])
        else:
            state.mark(TaggingState.Status.DONE)
        state.model_versions = versions
        state.save()
        outcome[state.status] = outcome.get(state.status, 0) + 1


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
