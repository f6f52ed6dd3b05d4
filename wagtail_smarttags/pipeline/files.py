"""Stored asset files: sizes checked before anything opens them, hashes streamed, local paths for
the reader child, which opens files itself rather than receiving their bytes."""

import contextlib
import hashlib
import os
import tempfile

from django.utils.translation import gettext_noop

from ..conf import get_setting
from ..ml.errors import UnreadableAssetError

CHUNK_BYTES = 1024 * 1024


def checked_size(file_field, limit, too_big=None):
    """The stored file's size; refuses a missing or empty file, or one over ``limit`` bytes.

    ``too_big`` is the message for a file over the limit (marked with ``gettext_noop``), with ``%(size)s``
    and ``%(limit)s`` (in bytes).
    """
    try:
        size = file_field.size
    except (OSError, ValueError):
        raise UnreadableAssetError(gettext_noop("The file is missing from storage.")) from None
    if size == 0:
        raise UnreadableAssetError(gettext_noop("The file is empty."))
    if size > limit:
        message = too_big or gettext_noop("The file is %(size)s bytes, more than the %(limit)s bytes allowed.")
        raise UnreadableAssetError(message, size=size, limit=limit)
    return size


def stream_hash(file_field, limit=None):
    """SHA-1 of a stored file read in chunks, never held in memory whole; at most ``limit`` bytes are
    read (the storage's size may be wrong)."""
    digest, read = hashlib.sha1(), 0
    for chunk in read_chunks(file_field, get_setting("MAX_FILE_SIZE") if limit is None else limit):
        read += len(chunk)
        digest.update(chunk)
    if not read:
        raise UnreadableAssetError(gettext_noop("The file is empty."))
    return digest.hexdigest()


@contextlib.contextmanager
def local_path(file_field, limit):
    """A filesystem path to the stored file: its own, or, for storages without paths (S3), a
    temporary copy of at most ``limit`` bytes, removed afterwards."""
    try:
        path = file_field.path
    except (NotImplementedError, AttributeError, ValueError):
        path = None
    # Some storages name a path that holds no file (Django's InMemoryStorage).
    if path and os.path.isfile(path):
        yield path
        return
    suffix = os.path.splitext(file_field.name or "")[1]
    with tempfile.NamedTemporaryFile(suffix=suffix, prefix="smarttags-") as copy:
        for chunk in read_chunks(file_field, limit):
            copy.write(chunk)
        copy.flush()
        yield copy.name


def read_chunks(file_field, limit):
    """The stored file's bytes, a MiB at a time, refusing more than ``limit`` whatever its size said."""
    read = 0
    try:
        file_field.open("rb")
        try:
            while chunk := file_field.read(CHUNK_BYTES):
                read += len(chunk)
                if read > limit:
                    message = gettext_noop("The file is more than the %(limit)s bytes allowed.")
                    raise UnreadableAssetError(message, limit=limit)
                yield chunk
        finally:
            file_field.close()
    except (OSError, ValueError) as error:
        # Translators: %(error)s is the storage's own error message (in English).
        message = gettext_noop("The file could not be read from storage: %(error)s")
        raise UnreadableAssetError(message, error=error) from None
