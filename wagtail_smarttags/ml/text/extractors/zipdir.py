"""The central directory of a zip archive, read in a stream before any zip library parses it.

``zipfile`` builds an object per member while it opens an archive, before a caller can count them:
a 100 MB upload with 1.8 million tiny members costs it most of a gigabyte. This reader takes the
directory's declared size and member count from the end records, refuses what is over the limits
at once, and otherwise walks the directory entry by entry in constant memory, counting members
and adding up their declared uncompressed sizes (zip64 sizes included).
"""

import struct
from dataclasses import dataclass

from ...errors import UnreadableAssetError, gettext_noop, message_record
from .base import display_name

END = struct.Struct("<4s4H2LH")
END_SIGNATURE = b"PK\x05\x06"
ZIP64_LOCATOR = struct.Struct("<4sLQL")
ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"
ZIP64_END = struct.Struct("<4sQ2H2L4Q")
ZIP64_END_SIGNATURE = b"PK\x06\x06"
ENTRY = struct.Struct("<4s4B4HL2L5H2L")
ENTRY_SIGNATURE = b"PK\x01\x02"
MAX_COMMENT = 65535
#: A directory entry is 46 bytes plus its name, extra field and comment; real Office files stay far
#: below this average, and a directory larger than members x this is refused unread.
MAX_ENTRY_BYTES = 1024
CHUNK = 64 * 1024


@dataclass
class ZipDirectory:
    members: int
    declared_bytes: int
    #: The first path segment of every member ("word", "ppt", "[Content_Types].xml").
    top_level: set


def read_zip_directory(file, size, limits, name=None):
    """Check the archive in ``file`` (``size`` bytes) against ``limits`` and return its :class:`ZipDirectory`.

    Raises :class:`UnreadableAssetError` for an archive that is not a zip, or that has more than
    ``limits.max_zip_members`` members, or declares more than ``limits.max_uncompressed_bytes``.
    ``name`` names the file in messages (see :func:`~.base.display_name`).
    """
    name = display_name(name)
    end_at, members, directory_size = _end_record(file, size, name)
    if members > limits.max_zip_members:
        raise _too_many(name, members, limits)
    if directory_size > limits.max_zip_members * MAX_ENTRY_BYTES:
        raise UnreadableAssetError(
            gettext_noop(
                "%(name)s has a zip directory of %(size)s bytes, too large for %(limit)s members: "
                "refused before reading it."
            ),
            name=name,
            size=directory_size,
            limit=limits.max_zip_members,
        )
    start = end_at - directory_size
    if start < 0:
        raise _not_a_zip(name, gettext_noop("its directory lies before the file's start"))
    file.seek(start)
    return _walk(file, directory_size, limits, name)


def _end_record(file, size, name):
    """``(position of the end record, members, directory size)``, zip64 records followed."""
    tail_size = min(size, END.size + MAX_COMMENT)
    file.seek(size - tail_size)
    tail = file.read(tail_size)
    found = tail.rfind(END_SIGNATURE)
    if found < 0 or len(tail) - found < END.size:
        raise _not_a_zip(name, gettext_noop("no end of central directory"))
    _, _, _, _, members, directory_size, _, _ = END.unpack_from(tail, found)
    end_at = size - tail_size + found
    if members != 0xFFFF and directory_size != 0xFFFFFFFF:
        return end_at, members, directory_size
    locator_at = found - ZIP64_LOCATOR.size
    if locator_at < 0 or tail[locator_at : locator_at + 4] != ZIP64_LOCATOR_SIGNATURE:
        return end_at, members, directory_size
    _, _, zip64_at, _ = ZIP64_LOCATOR.unpack_from(tail, locator_at)
    # Like the end record, the zip64 one sits right before its locator (data may precede the archive).
    zip64_end_at = size - tail_size + locator_at - ZIP64_END.size
    file.seek(max(zip64_end_at, 0))
    record = file.read(ZIP64_END.size)
    if len(record) < ZIP64_END.size or record[:4] != ZIP64_END_SIGNATURE:
        raise _not_a_zip(name, gettext_noop("broken zip64 end record"))
    fields = ZIP64_END.unpack(record)
    return zip64_end_at, fields[7], fields[8]


def _walk(file, directory_size, limits, name):
    members = declared = 0
    top_level = set()
    reader = _Chunks(file, directory_size)
    while (header := reader.take(ENTRY.size)) is not None:
        fields = ENTRY.unpack(header)
        if fields[0] != ENTRY_SIGNATURE:
            raise _not_a_zip(name, gettext_noop("bad central directory entry"))
        member_name, extra = reader.take(fields[12]), reader.take(fields[13])
        if member_name is None or extra is None or reader.take(fields[14]) is None:
            raise _not_a_zip(name, gettext_noop("truncated central directory"))
        members += 1
        if members > limits.max_zip_members:
            raise _too_many(name, None, limits)
        declared += _uncompressed_size(fields[11], extra)
        if declared > limits.max_uncompressed_bytes:
            raise UnreadableAssetError(
                gettext_noop(
                    "%(name)s declares more than %(limit)s uncompressed bytes: refused as a possible zip bomb."
                ),
                name=name,
                limit=limits.max_uncompressed_bytes,
            )
        top_level.add(member_name.split(b"/", 1)[0].decode("utf-8", "replace"))
    return ZipDirectory(members=members, declared_bytes=declared, top_level=top_level)


class _Chunks:
    """Consecutive pieces of the next ``size`` bytes of ``file``, read a chunk at a time."""

    def __init__(self, file, size):
        self.file, self.left = file, size
        self.buffer, self.position = b"", 0

    def take(self, count):
        """The next ``count`` bytes, or None at the end of the directory."""
        while len(self.buffer) - self.position < count and self.left:
            chunk = self.file.read(min(CHUNK, self.left))
            if not chunk:
                self.left = 0
                break
            self.left -= len(chunk)
            self.buffer = self.buffer[self.position :] + chunk
            self.position = 0
        if len(self.buffer) - self.position < count:
            return None
        piece = self.buffer[self.position : self.position + count]
        self.position += count
        return piece


def _uncompressed_size(size, extra):
    """The member's uncompressed size, from its zip64 extra field when the 32-bit one is saturated."""
    if size != 0xFFFFFFFF:
        return size
    position = 0
    while position + 4 <= len(extra):
        header_id, length = struct.unpack_from("<2H", extra, position)
        if header_id == 1 and length >= 8:
            return struct.unpack_from("<Q", extra, position + 4)[0]
        position += 4 + length
    return size


def _too_many(name, members, limits):
    """``members`` is the count the archive declares, or None when counting passed the limit."""
    if members is None:
        return UnreadableAssetError(
            gettext_noop("%(name)s has more than %(limit)s zip members: refused."),
            name=name,
            limit=limits.max_zip_members,
        )
    return UnreadableAssetError(
        gettext_noop("%(name)s has %(members)s zip members, more than %(limit)s: refused."),
        name=name,
        members=members,
        limit=limits.max_zip_members,
    )


def _not_a_zip(name, reason):
    """``reason`` is a message marked with ``gettext_noop``: it is translated with the error."""
    return UnreadableAssetError(
        gettext_noop("%(name)s is not a valid Office Open XML (zip) file: %(reason)s."),
        name=name,
        reason=message_record(reason),
    )
