"""Small pictures of the frames a video was tagged from, so that an editor deciding on its smart tags sees
what the worker saw.

They are written when the frames are decoded (a cache miss), as JPEGs in the default storage, named by
the file's hash: a video re-tagged from the embedding cache keeps them, and identical uploads share
them. Failing to write them never fails a tagging.
"""

import io
import logging
import re

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

logger = logging.getLogger(__name__)

FOLDER = "smarttags/frames"
#: A frame's longer side, in pixels: enough to recognise a scene in a strip of thumbnails.
THUMBNAIL_SIZE = 200
JPEG_QUALITY = 80
FRAME_NAME = re.compile(r"\d{2}\.jpg")


def frame_folder(file_hash):
    return f"{FOLDER}/{file_hash[:2]}/{file_hash}"


def save_frame_thumbnails(file_hash, images):
    """Write a thumbnail of each of ``images`` (RGB PIL images, in order) for the file ``file_hash``."""
    if not file_hash or not images:
        return
    folder = frame_folder(file_hash)
    try:
        for position, image in enumerate(images):
            name = f"{folder}/{position:02d}.jpg"
            if default_storage.exists(name):
                continue
            thumbnail = image.copy()
            thumbnail.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
            buffer = io.BytesIO()
            thumbnail.convert("RGB").save(buffer, "JPEG", quality=JPEG_QUALITY)
            default_storage.save(name, ContentFile(buffer.getvalue()))
    except Exception:  # storage is the site's: full, read-only or remote and down
        logger.warning("Could not store the frames of %s", file_hash, exc_info=True)


def frame_thumbnail_urls(file_hash):
    """The URLs of the frame thumbnails of ``file_hash``, in order; [] when there are none."""
    if not file_hash:
        return []
    folder = frame_folder(file_hash)
    try:
        _folders, files = default_storage.listdir(folder)
    except (FileNotFoundError, NotImplementedError, OSError):
        return []
    # Only the names written here: a storage that renamed a concurrent second copy (00_x1y2.jpg) holds a
    # duplicate, not another frame.
    return [default_storage.url(f"{folder}/{name}") for name in sorted(files) if FRAME_NAME.fullmatch(name)]
