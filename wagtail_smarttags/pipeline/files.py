"""Read stored asset files within limits, and hash them."""

import hashlib

from ..conf import get_setting
from ..ml.errors import UnreadableAssetError


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
