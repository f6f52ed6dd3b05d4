"""Read asset files safely and turn images into embeddings, through the cache."""

import hashlib
import io

from django.db import IntegrityError, transaction

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


def cached_embeddings(file_hashes, backbone_id):
    """``{file_hash: vector}`` for the hashes already in the cache."""
    rows = EmbeddingCache.objects.filter(file_hash__in=list(file_hashes), backbone_id=backbone_id)
    return {file_hash: decode_array(vector) for file_hash, vector in rows.values_list("file_hash", "vector")}


def store_embedding(file_hash, backbone_id, vector):
    try:
        with transaction.atomic():
            EmbeddingCache.objects.get_or_create(
                file_hash=file_hash, backbone_id=backbone_id, defaults={"vector": encode_array(vector)}
            )
    except IntegrityError:
        pass  # Another worker cached the same file first; its vector is the same.


def embed_image_file(file_field, backbone):
    """Return ``(vector, sha1)`` for an image file, decoding and embedding only on a cache miss."""
    data, file_hash = read_file(file_field)
    cached = cached_embeddings([file_hash], backbone.id)
    if file_hash in cached:
        return cached[file_hash], file_hash
    vector = backbone.embed([decode_for_backbone(data, backbone)])[0]
    store_embedding(file_hash, backbone.id, vector)
    return vector, file_hash


def embed_image_files(files, backbone, hashes=None):
    """Embed many image files at once: ``files`` is ``[(key, file_field), ...]``.

    Returns ``(vectors, errors)``: ``{key: vector}`` for the files that could be used
    and ``{key: message}`` for those that could not. Cache misses are decoded and
    pushed through the network in batches. ``hashes``, if given, receives ``{key: sha1}``.
    """
    vectors, errors, pending = {}, {}, {}
    hashes = {} if hashes is None else hashes
    for key, file_field in files:
        try:
            data, file_hash = read_file(file_field)
        except UnreadableAssetError as error:
            errors[key] = str(error)
            continue
        hashes[key] = file_hash
        pending[key] = data
    cached = cached_embeddings(set(hashes.values()), backbone.id)
    to_embed = []
    for key, data in pending.items():
        if hashes[key] in cached:
            vectors[key] = cached[hashes[key]]
            continue
        try:
            to_embed.append((key, decode_for_backbone(data, backbone)))
        except UnreadableAssetError as error:
            errors[key] = str(error)
    pending.clear()
    for start in range(0, len(to_embed), backbone.batch_size):
        chunk = to_embed[start : start + backbone.batch_size]
        for (key, _), vector in zip(chunk, backbone.embed([image for _, image in chunk])):
            vectors[key] = vector
            store_embedding(hashes[key], backbone.id, vector)
    return vectors, errors
