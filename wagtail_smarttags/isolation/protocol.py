"""Frames between the worker and its reader child: a length, then a pickle.

The child parses hostile files, so the worker never trusts what it sends back: replies are
unpickled by :class:`PlainUnpickler`, which builds only the built-in types (no class is ever
looked up, so no code can run), and a reply longer than the caller allows is refused unread.
"""

import io
import os
import pickle
import select
import struct
import time

HEADER = struct.Struct("!Q")


class ChannelClosed(Exception):
    """The other end closed the pipe (the child died, or the worker went away)."""


class ReplyTimeout(Exception):
    """No complete reply before the deadline."""


class ReplyTooLarge(Exception):
    """The child announced a reply longer than the worker accepts."""


class PlainUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"A reader reply may hold only plain data, not {module}.{name}.")


def encode(message):
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(data)) + data


def write_frame(stream, message):
    stream.write(encode(message))
    stream.flush()


def read_frame(stream):
    """Blocking read of one frame from a trusted peer (the child reading the worker's requests)."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        raise ChannelClosed()
    (length,) = HEADER.unpack(header)
    data = stream.read(length)
    if len(data) < length:
        raise ChannelClosed()
    return pickle.loads(data)


def read_reply(fd, deadline, max_bytes):
    """One frame from the child's pipe ``fd``, unpickled as plain data; waits until ``deadline``
    (a ``time.monotonic()`` value) at most."""
    (length,) = HEADER.unpack(_read_exactly(fd, HEADER.size, deadline))
    if length > max_bytes:
        raise ReplyTooLarge(length)
    return PlainUnpickler(io.BytesIO(_read_exactly(fd, length, deadline))).load()


def _read_exactly(fd, count, deadline):
    parts, left = [], count
    while left:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ReplyTimeout()
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            raise ReplyTimeout()
        chunk = os.read(fd, min(left, 4 * 1024 * 1024))
        if not chunk:
            raise ChannelClosed()
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)
