"""The tagging pipeline. Every path that tags goes through it: the upload task, tagging cycles, the
re-tag after a training or a rollback, and the bulk "Re-tag now".

Tagging one asset is a batch of one. A batch goes read -> decode -> embed (through the cache) ->
decide (every active tag model, then generic and colour tags) -> write -> record. Reading is I/O in the main
thread; decoding runs in a second thread with no database access, so the next batch is decoded
while the network embeds this one. The tag-model versions are captured before deciding and
compared again after writing: a retrain or rollback that landed meanwhile is caught up from the
embeddings in memory, so an asset never keeps a stale version's tags.
"""

import json
import logging
import queue
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from django.contrib.contenttypes.models import ContentType
from django.db import connections, router
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from ..conf import get_setting
from ..isolation import ReaderUnavailableError
from ..ml.colours import colour_coverage
from ..ml.errors import (
    BackboneLoadError,
    MissingDependencyError,
    NotTaggableError,
    SmartTagsError,
    format_record,
    message_record,
)
from ..models import TaggingState, TagModel
from .colours import apply_colour_tags, colour_tags_on
from .deciding import decide
from .embedding_cache import (
    LABELS_KEPT,
    CacheEntry,
    cached_embeddings,
    cached_entries,
    store_embeddings,
    usable,
)
from .generic import apply_generic_tags
from .kinds import content_type_for, file_identity, get_asset_kinds, kind_for_model
from .loading import active_tag_models, active_versions, classifier_for, get_backbone
from .sql import rows_where_in
from .writing import write_source_tags, write_trained_tags

logger = logging.getLogger(__name__)

Status = TaggingState.Status

#: How long a worker's claim on pending assets holds before another worker may take them.
CLAIM_LEASE_SECONDS = 600


@dataclass
class Item:
    """One asset on its way through the pipeline."""

    asset: object
    status: str = ""
    error: str = ""
    error_record: dict = field(default_factory=dict)
    file_hash: str = ""
    reading: object = None
    #: Visual kinds: the embedding (vector or frames matrix) and the backbone's labels per row.
    vectors: np.ndarray | None = None
    labels: list = field(default_factory=list)
    #: Visual kinds, with colour tags on: ``{colour name: coverage}`` (``ml.colours``).
    colours: dict | None = None
    #: Visual kinds, cache misses: the decoded images to embed.
    images: list | None = None
    #: Other kinds: the ``[(label, confidence)]`` to write.
    source_labels: list | None = None

    @property
    def pk(self):
        return self.asset.pk

    def fail(self, status, record):
        """Record the outcome ``status`` with the message ``record`` (see ``ml.errors.message_record``)."""
        self.status, self.error_record = status, record
        self.error = format_record(record)


@dataclass
class Batch:
    kind: object
    content_type: object
    items: list
    decoded: object = None  # a future: decoding in the second thread
    #: Visual kinds: the items the network embeds, and their images as the backbone prepared them.
    to_embed: list = field(default_factory=list)
    prepared: object = None

    @property
    def live(self):
        return [item for item in self.items if not item.status]


# Entry points ------------------------------------------------------------------------------------


def tag_asset(content_type_id, object_id):
    """Tag one asset now, whatever its state. Never raises for a bad file: the error is recorded."""
    content_type = ContentType.objects.get_for_id(content_type_id)
    kind = _kind_of(content_type, object_id)
    if kind is None:
        return _state_status(content_type, object_id)
    tag_assets(kind, [object_id])
    return _state_status(content_type, object_id)


def tag_queued(content_type_id, object_id):
    """The upload task: tag this asset if it is still pending, and every other pending asset of its kind
    that no other worker has claimed, in batches, for up to ``WORKER_DRAIN_SECONDS``.

    The tasks of assets tagged this way find them done and return at once.
    """
    content_type = ContentType.objects.get_for_id(content_type_id)
    state = TaggingState.objects.filter(content_type=content_type, object_id=object_id).first()
    if state is not None and state.status != Status.PENDING:
        return state.status
    kind = _kind_of(content_type, object_id)
    if kind is None:
        return _state_status(content_type, object_id)
    deadline = time.monotonic() + get_setting("WORKER_DRAIN_SECONDS")
    tag_assets(kind, _drain(kind, content_type, object_id, deadline))
    return _state_status(content_type, object_id)


def tag_assets(kind, object_ids, progress=None):
    """Tag the assets of ``kind`` with these ids now, in batches; returns ``{status: count}``.

    ``object_ids`` may be any iterable, read lazily (the worker's queue of pending assets).
    """
    content_type = content_type_for(kind.get_model())
    outcome = Counter()
    backbone = None
    if kind.visual:
        try:
            backbone = get_backbone()
            backbone.id  # noqa: B018  (some backbones find missing weights only here)
        except (BackboneLoadError, MissingDependencyError) as error:
            return _pause(kind, content_type, list(object_ids), error, outcome)
    for batch in _decoded_batches(kind, content_type, object_ids, backbone):
        _finish(batch, backbone, outcome, progress)
    return dict(outcome)


def embed_assets(kind, object_ids):
    """``({object id: embedding}, {object id: error message})`` for assets of a visual kind.

    The pipeline's read, decode and embed steps, through the cache, tagging nothing: training
    embeds its examples this way.
    """
    backbone = get_backbone()
    vectors, errors = {}, {}
    for batch in _decoded_batches(kind, content_type_for(kind.get_model()), object_ids, backbone):
        batch.decoded.result()
        _embed(batch, backbone)
        for item in batch.items:
            if item.status:
                errors[item.pk] = item.error
            else:
                vectors[item.pk] = item.vectors
    return vectors, errors


def _decoded_batches(kind, content_type, object_ids, backbone):
    """Batches as they are read; each is handed to the decoding thread, and yielded once the next one is
    read and handed over too, so that decoding one batch overlaps the network's work on the one before."""
    context = kind.decode_context(backbone)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="smarttags-decode") as decoder:
        waiting = None
        for batch in _read_batches(kind, content_type, object_ids):
            if kind.visual:
                _look_up_cache(batch, backbone)
            batch.decoded = decoder.submit(_decode, kind, batch, context, backbone)
            if waiting is not None:
                yield waiting
            waiting = batch
        if waiting is not None:
            yield waiting


def retag_from_cache(tag_model_id, chunk_size=2000):
    """Apply a tag model's active version to every tagged image and video whose embedding is cached.

    Runs after a training or a rollback: the pipeline from its decide step, with the embeddings read
    from the cache, so nothing is decoded or embedded again. Outside a transaction (in the worker),
    the next chunk is read and decided in a second thread, on its own connection, while this one
    writes. Returns the number of assets decided.
    """
    tag_model = TagModel.objects.select_related("active_version").filter(pk=tag_model_id).first()
    version = tag_model.active_version if tag_model else None
    backbone = get_backbone()
    if version is None or version.backbone_id != backbone.id or not version.parameters:
        return 0
    classifier = classifier_for(version)

    def decided_chunks():
        for chunk in cached_chunks(backbone, chunk_size):
            yield {
                content_type_id: (assets, decide(classifier, {oid: v for oid, (_, _, v) in assets.items()}))
                for content_type_id, assets in chunk.items()
            }

    # Inside a transaction a second connection would not see what it has written: read in this thread.
    in_transaction = connections[router.db_for_read(TaggingState)].in_atomic_block
    applied = 0
    for chunk in decided_chunks() if in_transaction else read_ahead(decided_chunks):
        for content_type_id, (assets, decisions) in chunk.items():
            if write_trained_tags(tag_model, version, content_type_id, decisions):
                written = {str(tag_model.pk): version.pk}
                _record_versions([(pk, versions) for pk, versions, _ in assets.values()], written)
            applied += len(assets)
    return applied


def read_ahead(produce):
    """The items of ``produce()``, made one ahead in a second thread with its own database connection."""
    items, finished, stop = queue.Queue(maxsize=1), object(), threading.Event()

    def run():
        try:
            for item in produce():
                while not stop.is_set():
                    try:
                        items.put(item, timeout=0.5)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            items.put(finished)
        except BaseException as error:  # handed to the consumer, which raises it
            items.put(error)
        finally:
            connections.close_all()

    producer = threading.Thread(target=run, name="smarttags-read-ahead", daemon=True)
    producer.start()
    try:
        while (item := items.get()) is not finished:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        producer.join()


def cached_chunks(backbone, chunk_size):
    """``{content type id: {object id: (state id, model versions, embedding)}}`` for done visual assets."""
    visual_types = [content_type_for(kind.get_model()).pk for kind in get_asset_kinds(visual=True).values()]
    states = TaggingState.objects.filter(status=Status.DONE, content_type_id__in=visual_types).exclude(file_hash="")
    # The ids first, then chunks by id: paging with "id > last ORDER BY id LIMIT n" makes a database that
    # uses the status index sort every done state again for each chunk.
    state_ids = sorted(states.values_list("pk", flat=True))
    for start in range(0, len(state_ids), chunk_size):
        columns = ["pk", "content_type", "object_id", "file_hash", "model_versions"]
        rows = rows_where_in(TaggingState, columns, "pk", state_ids[start : start + chunk_size])
        vectors = cached_embeddings({row[3] for row in rows}, backbone.id)
        chunk = {}
        for pk, content_type_id, object_id, file_hash, model_versions in rows:
            if file_hash in vectors:
                if isinstance(model_versions, str):  # JSON text, as the driver gives it
                    model_versions = json.loads(model_versions)
                chunk.setdefault(content_type_id, {})[object_id] = (pk, model_versions, vectors[file_hash])
        yield chunk


# Reading -----------------------------------------------------------------------------------------


def _read_batches(kind, content_type, object_ids):
    """Batches of at most ``BATCH_SIZE`` assets and ``BATCH_MAX_BYTES`` of file data, read in order."""
    max_count = min(kind.batch_size, get_setting("BATCH_SIZE"))
    max_bytes = get_setting("BATCH_MAX_BYTES")
    model = kind.get_model()
    pending_ids = []
    items, size = [], 0

    def load(ids):
        found = model._default_manager.in_bulk(ids)
        missing = [object_id for object_id in ids if object_id not in found]
        if missing:
            # Deleted since it was queued: nothing to tag, nothing to keep.
            TaggingState.objects.filter(content_type=content_type, object_id__in=missing).delete()
        return [found[object_id] for object_id in ids if object_id in found]

    def read_pending():
        nonlocal items, size
        for asset in load(pending_ids):
            item = _read(kind, asset)
            items.append(item)
            size += item.reading.size if item.reading else 0
            if len(items) >= max_count or size >= max_bytes:
                yield Batch(kind, content_type, items)
                items, size = [], 0
        pending_ids.clear()

    for object_id in object_ids:
        pending_ids.append(object_id)
        if len(pending_ids) >= max_count:
            yield from read_pending()
    yield from read_pending()
    if items:
        yield Batch(kind, content_type, items)


def _read(kind, asset):
    item = Item(asset)
    reason = kind.skip_reason(asset)
    if reason:
        item.fail(Status.SKIPPED, message_record(reason))
        return item
    try:
        item.reading = kind.read(asset)
        item.file_hash = item.reading.file_hash
    except Exception as error:
        item.fail(*_failure(error, asset))
    return item


def _decode(kind, batch, context, backbone):
    """In the decoding thread: decode what the cache does not hold, and prepare it for the network
    (framing, resizing), so that the main thread only runs the network. No database access here."""
    colours_wanted = kind.visual and colour_tags_on()
    for item in batch.live:
        if item.vectors is not None:
            continue
        try:
            result = kind.decode(item.reading, context)
        except Exception as error:
            item.fail(*_failure(error, item.asset))
            continue
        finally:
            item.reading.payload = None  # the file's bytes are not needed any more
        if kind.visual:
            item.images = result
            if colours_wanted:
                item.colours = colour_coverage(result)
        else:
            item.source_labels = result
    if kind.visual:
        batch.to_embed = [item for item in batch.live if item.vectors is None]
        batch.prepared = backbone.prepare([image for item in batch.to_embed for image in item.images])


# Embedding, deciding, writing --------------------------------------------------------------------


def _finish(batch, backbone, outcome, progress):
    versions = None
    try:
        versions = _process(batch, backbone)
    except (BackboneLoadError, MissingDependencyError) as error:
        logger.error("Tagging is paused: %s", error)
        for item in batch.live:
            item.fail(Status.PENDING, paused_record(error))
    except Exception as error:
        if len(batch.items) > 1:
            # Something unexpected in this batch: isolate it by tagging each asset on its own.
            logger.exception("Batch tagging failed; tagging its %d assets one by one", len(batch.items))
            for item in batch.items:
                alone = Batch(batch.kind, batch.content_type, [item], batch.decoded, to_embed=[item])
                _finish(alone, backbone, outcome, None)
            if progress:
                progress.advance(len(batch.items))
            return
        for item in batch.live:
            item.fail(*_failure(error, item.asset))
    _record(batch, versions)
    outcome.update(item.status for item in batch.items)
    if progress:
        progress.advance(len(batch.items))


def _process(batch, backbone):
    kind, content_type_id = batch.kind, batch.content_type.pk
    if not kind.visual:
        batch.decoded.result()
        minimum = get_setting("MIN_CONFIDENCE")
        labels = {item.pk: [(n, c) for n, c in item.source_labels if c >= minimum] for item in batch.live}
        if labels:
            write_source_tags(content_type_id, kind.source, labels)
        for item in batch.live:
            item.status = Status.DONE
        return None
    batch.decoded.result()
    _embed(batch, backbone)
    live = batch.live
    vectors = {item.pk: item.vectors for item in live}
    versions = active_versions()
    models = active_tag_models(backbone.id)
    recorded = {**versions, **_apply_tag_models(content_type_id, vectors, models)}
    apply_generic_tags(content_type_id, {item.pk: (item.vectors, item.labels) for item in live}, backbone)
    apply_colour_tags(content_type_id, {item.pk: item.colours for item in live})
    recorded = _catch_up(content_type_id, vectors, recorded, backbone)
    for item in live:
        item.status = Status.DONE
    return recorded


def _look_up_cache(batch, backbone):
    """Items whose file is cached need no decoding: looked up before the batch goes to the decoding thread."""
    entries = cached_entries({item.file_hash for item in batch.live}, backbone.id)
    colours_needed = colour_tags_on()
    for item in batch.live:
        entry = entries.get(item.file_hash)
        if usable(entry, backbone, colours_needed):
            item.vectors, item.labels = entry.vectors, _label_rows(entry.vectors, entry.labels)
            item.colours = entry.colours


def _label_rows(vectors, labels):
    rows = [[tuple(pair) for pair in row] for row in labels] if labels else []
    return rows or [[] for _ in range(1 if vectors.ndim == 1 else len(vectors))]


def _embed(batch, backbone):
    """One pass through the network for every decoded image of the batch (a video's frames included)."""
    to_embed = [item for item in batch.to_embed if not item.status and item.vectors is None]
    if not to_embed:
        return
    if batch.prepared is not None and len(to_embed) == len(batch.to_embed):
        vectors, labels = backbone.embed_prepared(batch.prepared, LABELS_KEPT)
    else:  # an item failed since it was prepared, or the batch is one item of a failed batch
        images = [image for item in to_embed for image in item.images]
        vectors, labels = backbone.embed_with_labels(images, LABELS_KEPT)
    batch.prepared = None
    entries, start = {}, 0
    for item in to_embed:
        count = len(item.images)
        rows = vectors[start : start + count]
        item.labels = labels[start : start + count]
        item.vectors = rows if batch.kind.frames else rows[0]
        batch.kind.keep_pictures(item.file_hash, item.images)
        item.images = None
        entries[item.file_hash] = CacheEntry(item.vectors, item.labels, item.colours)
        start += count
    store_embeddings(entries, backbone.id)


def _apply_tag_models(content_type_id, vectors, models):
    """Decide and write each model for ``{object_id: embedding}``; returns ``{model id: version id}`` written."""
    written = {}
    if not vectors:
        return written
    for tag_model, version, classifier in models:
        if write_trained_tags(tag_model, version, content_type_id, decide(classifier, vectors)):
            written[str(tag_model.pk)] = version.pk
    return written


def _catch_up(content_type_id, vectors, recorded, backbone):
    """Re-apply the models whose active version changed while the batch was decided and written.

    The library re-tag that follows a training only sees assets already marked done, so a batch
    finishing at that moment would otherwise keep the previous version's tags.
    """
    for _ in range(3):
        current = active_versions()
        changed = {model_id for model_id, version_id in current.items() if recorded.get(model_id) != version_id}
        recorded = {model_id: recorded[model_id] for model_id in current if model_id in recorded}
        if not changed:
            break
        models = active_tag_models(backbone.id, tag_model_ids=[int(model_id) for model_id in changed])
        usable_ids = {str(tag_model.pk) for tag_model, _, _ in models}
        recorded.update({model_id: current[model_id] for model_id in changed - usable_ids})
        recorded.update(_apply_tag_models(content_type_id, vectors, models))
    return recorded


# Recording ---------------------------------------------------------------------------------------


def _record(batch, versions):
    """Save every item's state in a few statements; its claim is released.

    A done visual asset records the versions it was tagged with (``versions``); any other outcome
    records the active ones, so that a tagging cycle does not list it again until a model changes.
    """
    content_type = batch.content_type
    pks = [item.pk for item in batch.items]
    TaggingState.objects.bulk_create(
        [TaggingState(content_type=content_type, object_id=pk) for pk in pks], ignore_conflicts=True
    )
    states = {
        state.object_id: state for state in TaggingState.objects.filter(content_type=content_type, object_id__in=pks)
    }
    now = timezone.now()
    current = active_versions()
    for item in batch.items:
        state = states[item.pk]
        state.file_name = file_identity(item.asset)[0]
        state.file_hash = item.file_hash or state.file_hash
        state.status, state.error, state.error_record = item.status, item.error, item.error_record
        state.claimed_at, state.updated_at = None, now
        if item.status != Status.PENDING:
            state.tagged_at = now
            state.model_versions = versions if versions is not None and item.status == Status.DONE else current
    TaggingState.objects.bulk_update(
        list(states.values()),
        [
            *["status", "error", "error_record", "file_name", "file_hash"],
            *["model_versions", "tagged_at", "claimed_at", "updated_at"],
        ],
    )
    # Counted in the database: two workers may be tagging the same asset at once.
    TaggingState.objects.filter(pk__in=[state.pk for state in states.values()]).update(attempts=F("attempts") + 1)


def _record_versions(states, written):
    """After a library re-tag: these ``[(state id, model versions)]`` now carry the versions ``written``."""
    by_versions = {}
    for pk, model_versions in states:
        by_versions.setdefault(tuple(sorted({**model_versions, **written}.items())), []).append(pk)
    for versions, pks in by_versions.items():
        TaggingState.objects.filter(pk__in=pks).update(model_versions=dict(versions))


def _pause(kind, content_type, object_ids, error, outcome):
    logger.error("Tagging is paused: %s", error)
    for object_id in object_ids:
        TaggingState.objects.update_or_create(
            content_type=content_type,
            object_id=object_id,
            defaults={"claimed_at": None, **TaggingState.outcome(Status.PENDING, paused_record(error))},
        )
        outcome[Status.PENDING] += 1
    return dict(outcome)


def paused_record(error):
    """What a pending asset says while tagging cannot run at all (no backbone, a dependency or the reader missing)."""
    # Translators: %(error)s says what is missing.
    return message_record(gettext_noop("Tagging is paused: %(error)s"), error=error)


def _failure(error, asset):
    """``(status, message record)`` recorded for an asset that could not be tagged."""
    if isinstance(error, NotTaggableError):
        return Status.SKIPPED, error.record
    if isinstance(error, BackboneLoadError | MissingDependencyError | ReaderUnavailableError):
        return Status.PENDING, paused_record(error)
    if isinstance(error, SmartTagsError):
        return Status.FAILED, error.record
    # A worker must survive anything a file can do to a library; keep the traceback in the log.
    logger.error("Unexpected error while tagging %r", asset, exc_info=error)
    # Translators: %(error)s is the exception's type and message, as Python gives them (in English).
    message = gettext_noop("Unexpected error while tagging: %(error)s")
    return Status.FAILED, message_record(message, error=f"{type(error).__name__}: {error}")


# The queue of pending assets ---------------------------------------------------------------------


def _drain(kind, content_type, first_id, deadline):
    """``first_id``, then other pending assets of the kind, claimed a batch at a time until the deadline."""
    yield first_id
    taken = {first_id}
    while time.monotonic() < deadline:
        claimed = _claim(content_type, get_setting("BATCH_SIZE"))
        claimed = [object_id for object_id in claimed if object_id not in taken]
        if not claimed:
            return
        taken.update(claimed)
        yield from claimed


def _claim(content_type, count):
    """Claim up to ``count`` pending assets no live worker has claimed; returns their object ids."""
    now = timezone.now()
    stale = now - timezone.timedelta(seconds=CLAIM_LEASE_SECONDS)
    pending = (
        TaggingState.objects.filter(content_type=content_type, status=Status.PENDING)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale))
        .order_by("queued_at", "pk")
    )
    rows = list(pending.values_list("pk", "object_id")[:count])
    if not rows:
        return []
    # Conditional, so that of two workers claiming the same rows at once only one gets each.
    claimed = []
    for pk, object_id in rows:
        if (
            TaggingState.objects.filter(pk=pk, status=Status.PENDING)
            .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale))
            .update(claimed_at=now)
        ):
            claimed.append(object_id)
    return claimed


def _kind_of(content_type, object_id):
    model = content_type.model_class()
    kind = kind_for_model(model) if model else None
    if model is None or not model._default_manager.filter(pk=object_id).exists():
        TaggingState.objects.filter(content_type=content_type, object_id=object_id).delete()
        return None
    if kind is None:
        state, _ = TaggingState.objects.get_or_create(content_type=content_type, object_id=object_id)
        # Translators: %(model)s is the name of the asset's model, as Django knows it (e.g. "customimage").
        message = gettext_noop("Smart tags are not available for %(model)s assets yet.")
        state.mark(Status.SKIPPED, message_record(message, model=content_type.model))
        state.save()
    return kind


def _state_status(content_type, object_id):
    state = TaggingState.objects.filter(content_type=content_type, object_id=object_id).first()
    return state.status if state else Status.SKIPPED
