"""Read asset files safely and turn images into embeddings, through the cache."""

import hashlib
import io

from django.db import connections

from .conf import get_setting
from .ml.arrays import decode_array, encode_array
from .ml.errors import UnreadableAssetError
from .ml.images import decode_image
from .models import EmbeddingCache


def read_file(file_field):
    """Return ``(bytes, sha1 hex)`` of a stored file, refusing files over ``MAX_FILE_SIZE``."""
    limit = get_setting("MAX_FILE_SIZE")
    try:
        size = file_field.size
    except (OSError, ValueError):
        raise UnreadableAssetError("The file is missing from storage.") from None
    if size == 0:
        raise UnreadableAssetError("The file is empty.")
    if size > limit:
        raise UnreadableAssetError(f"The file is {size:,} bytes, more than the {limit:,} bytes allowed.")
    try:
        file_field.open("rb")
        try:
            data = file_field.read(limit + 1)
        finally:
            file_field.close()
    except (OSError, ValueError) as error:
        raise UnreadableAssetError(f"The file could not be read from storage: {error}") from None
    if len(data) > limit:
        raise UnreadableAssetError(f"The file is more than the {limit:,} bytes allowed.")
    if not data:
        raise UnreadableAssetError("The file is empty.")
    return data, hashlib.sha1(data).hexdigest()


def stream_hash(file_field, chunk_size=1024 * 1024):
    """SHA-1 of a stored file read in chunks, so large documents are never held in memory whole."""
    digest = hashlib.sha1()
    try:
        if file_field.size == 0:
            raise UnreadableAssetError("The file is empty.")
        file_field.open("rb")
        try:
            for chunk in iter(lambda: file_field.read(chunk_size), b""):
                digest.update(chunk)
        finally:
            file_field.close()
    except (OSError, ValueError) as error:
        raise UnreadableAssetError(f"The file could not be read from storage: {error}") from None
    return digest.hexdigest()


def decode_for_backbone(data, backbone):
    target = max(get_setting("DECODE_SIZE"), getattr(backbone, "input_size", 0))
    return decode_image(io.BytesIO(data), target_size=target, max_pixels=get_setting("MAX_IMAGE_PIXELS"))


# Labels kept per image or frame in the cache: enough to apply any GENERIC_MAX_TAGS a site chooses later.
LABELS_KEPT = 10


def cached_embeddings(file_hashes, backbone_id):
    """``{file_hash: vector}`` for the hashes already in the cache."""
    rows = EmbeddingCache.objects.filter(file_hash__in=list(file_hashes), backbone_id=backbone_id)
    binary_rows = _postgresql_binary_rows(rows, list(file_hashes), backbone_id)
    if binary_rows is not None:
        return {file_hash: decode_array(vector) for file_hash, vector in binary_rows}
    return {file_hash: decode_array(vector) for file_hash, vector in rows.values_list("file_hash", "vector")}


def _postgresql_binary_rows(queryset, file_hashes, backbone_id):
    """``[(file_hash, vector bytes)]`` read in PostgreSQL's binary format, or None on other databases.

    Django's psycopg cursors bind on the client, which returns bytea as hex text: twice the bytes
    to send and decode. A library re-tag reads a gigabyte of embeddings, so it is read in binary.
    """
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    try:
        import psycopg
    except ImportError:
        return None  # psycopg2: the ORM's query below
    connection.ensure_connection()
    if not isinstance(connection.connection, psycopg.Connection):
        return None
    table = connection.ops.quote_name(EmbeddingCache._meta.db_table)
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(
            f"SELECT file_hash, vector FROM {table} WHERE file_hash = ANY(%s) AND backbone_id = %s",
            [file_hashes, backbone_id],
            binary=True,
        )
        return cursor.fetchall()


def cached_entries(file_hashes, backbone_id):
    """``{file_hash: (vector, labels)}`` for the hashes already in the cache."""
    rows = EmbeddingCache.objects.filter(file_hash__in=list(file_hashes), backbone_id=backbone_id)
    return {
        file_hash: (decode_array(vector), labels)
        for file_hash, vector, labels in rows.values_list("file_hash", "vector", "labels")
    }


def store_embedding(file_hash, backbone_id, vector, labels=()):
    labels = [[[name, round(float(score), 6)] for name, score in row] for row in labels]
    # One upsert: a row cached before labels existed gets them; two workers caching the same file
    # at once write the same vector.
    EmbeddingCache.objects.bulk_create(
        [EmbeddingCache(file_hash=file_hash, backbone_id=backbone_id, vector=encode_array(vector), labels=labels)],
        update_conflicts=True,
        unique_fields=["file_hash", "backbone_id"],
        update_fields=["vector", "labels"],
    )


def _usable(entry, backbone):
    """A cache entry is usable unless the backbone labels images and the entry predates labels."""
    return entry is not None and (bool(entry[1]) or not backbone.has_fixed_labels)


def embed_image_file(file_field, backbone):
    """Return ``(vector, labels, sha1)`` for an image file, decoding and embedding only on a cache miss.

    ``labels`` is the backbone's own ``[(label, probability), ...]`` for the image (empty without a vocabulary).
    """
    data, file_hash = read_file(file_field)
    entry = cached_entries([file_hash], backbone.id).get(file_hash)
    if _usable(entry, backbone):
        vector, labels = entry
        return vector, labels[0] if labels else [], file_hash
    vectors, labels = backbone.embed_with_labels([decode_for_backbone(data, backbone)], LABELS_KEPT)
    store_embedding(file_hash, backbone.id, vectors[0], labels)
    return vectors[0], labels[0], file_hash


def embed_image_files(files, backbone, hashes=None, labels=None):
    """Embed many image files at once: ``files`` is ``[(key, file_field), ...]``.

    Returns ``(vectors, errors)``: ``{key: vector}`` for the files that could be used
    and ``{key: message}`` for those that could not. Cache misses are decoded and
    pushed through the network in batches. ``hashes``, if given, receives ``{key: sha1}``;
    ``labels``, if given, receives ``{key: [(label, probability), ...]}``.
    """
    vectors, errors, pending = {}, {}, {}
    hashes = {} if hashes is None else hashes
    labels = {} if labels is None else labels
    for key, file_field in files:
        try:
            data, file_hash = read_file(file_field)
        except UnreadableAssetError as error:
            errors[key] = str(error)
            continue
        hashes[key] = file_hash
        pending[key] = data
    cached = cached_entries(set(hashes.values()), backbone.id)
    to_embed = []
    for key, data in pending.items():
        entry = cached.get(hashes[key])
        if _usable(entry, backbone):
            vectors[key] = entry[0]
            labels[key] = entry[1][0] if entry[1] else []
            continue
        try:
            to_embed.append((key, decode_for_backbone(data, backbone)))
        except UnreadableAssetError as error:
            errors[key] = str(error)
    pending.clear()
    for start in range(0, len(to_embed), backbone.batch_size):
        chunk = to_embed[start : start + backbone.batch_size]
        chunk_vectors, chunk_labels = backbone.embed_with_labels([image for _, image in chunk], LABELS_KEPT)
        for (key, _), vector, image_labels in zip(chunk, chunk_vectors, chunk_labels):
            vectors[key] = vector
            labels[key] = image_labels
            store_embedding(hashes[key], backbone.id, vector, [image_labels])
    return vectors, errors


def embed_video_file(file_field, backbone):
    """Return ``(frame vectors, per-frame labels, sha1)`` for a video: one row per sampled frame."""
    from dataclasses import replace

    from .ml.video import DEFAULT_VIDEO_LIMITS, sample_frames

    limit = get_setting("VIDEO_MAX_FILE_SIZE")
    try:
        size = file_field.size
    except (OSError, ValueError):
        raise UnreadableAssetError("The file is missing from storage.") from None
    if size > limit:
        raise UnreadableAssetError(f"The file is {size:,} bytes, more than the {limit:,} bytes allowed for a video.")
    file_hash = stream_hash(file_field)
    entry = cached_entries([file_hash], backbone.id).get(file_hash)
    if _usable(entry, backbone):
        return entry[0], entry[1], file_hash
    limits = replace(
        DEFAULT_VIDEO_LIMITS,
        max_pixels=get_setting("MAX_IMAGE_PIXELS"),
        target_size=max(get_setting("DECODE_SIZE"), getattr(backbone, "input_size", 0)),
        **get_setting("VIDEO_LIMITS"),
    )
    frames = _sample_stored_video(file_field, limits, sample_frames)
    vectors, labels = backbone.embed_with_labels(frames.images, LABELS_KEPT)
    store_embedding(file_hash, backbone.id, vectors, labels)
    return vectors, labels, file_hash


def _sample_stored_video(file_field, limits, sample_frames):
    # FFmpeg seeks best in a real file; storages without local paths (S3) are read as a file object.
    try:
        path = file_field.path
    except (NotImplementedError, AttributeError, ValueError):
        path = None
    if path:
        return sample_frames(path, limits)
    try:
        file_field.open("rb")
    except (OSError, ValueError) as error:
        raise UnreadableAssetError(f"The file could not be read from storage: {error}") from None
    try:
        return sample_frames(file_field.file, limits)
    finally:
        file_field.close()
