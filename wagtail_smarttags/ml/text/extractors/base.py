"""Shared pieces of text extraction: limits, the result type, the source wrapper and the registry.

Each format family lives in its own module and registers one function per format with
:func:`register`. An extractor receives a :class:`Source` (the file, opened once), the
:class:`ExtractionLimits` and a :class:`Deadline`, and returns a :class:`Extracted` (text plus how
it was read); :func:`wagtail_smarttags.ml.text.extractors.extract_text` does the dispatching and
the checks common to every format.
"""

import codecs
import contextlib
import os
import shutil
import tempfile
import time
from dataclasses import dataclass

from ...errors import UnreadableAssetError, gettext_noop, message_record

MB = 1024 * 1024


def display_name(filename):
    """How a message names a file: ``filename``, or "The file" (translated with the message) without one."""
    return filename or message_record(gettext_noop("The file"))


class UnsupportedFormatError(UnreadableAssetError):
    """The file's format is not one this package extracts text from."""


class UnsupportedHereError(UnreadableAssetError):
    """The format is supported, but the converter it needs is not installed on this machine."""


class ExtractionTimeout(UnreadableAssetError):
    """Reading took longer than ``ExtractionLimits.max_seconds`` before any text was read."""


@dataclass(frozen=True)
class ExtractionLimits:
    """Bounds on the work done for one file; every field can be overridden per call or per site.

    * ``max_file_bytes``: formats that must be parsed whole (PDF, DOCX, PPTX, DOC, PPT) are refused
      above this size; streamed formats (TXT, CSV, SRT, VTT, HTML, RTF) read only this many bytes.
    * ``max_chars``: text beyond this many characters is dropped and the result flagged truncated.
    * ``max_pages``: PDF pages and presentation slides read; later ones are dropped (truncated).
    * ``max_seconds``: wall-clock budget. Checked between pages, paragraphs and chunks and inside
      PDF rendering; converters run with a subprocess timeout. A PDF keeps the pages read before
      the deadline (truncated); other formats, or a PDF with no text yet, are refused.
    * ``max_uncompressed_bytes``: zip-based formats (DOCX, PPTX) are refused when their members
      declare, or actually inflate to, more than this: a zip bomb check made before parsing.
    * ``max_zip_members``: zip-based formats with more entries than this are refused, from their
      directory's end record or while it is read, before any zip library parses it.
    * ``max_stream_bytes``: a PDF stream (page content, object stream, font) inflating to more than
      this is refused as a flate bomb; pages read before it are kept (truncated).
    """

    max_file_bytes: int = 50 * MB
    max_chars: int = 1_000_000
    max_pages: int = 300
    max_seconds: float = 30.0
    max_uncompressed_bytes: int = 200 * MB
    max_zip_members: int = 10_000
    max_stream_bytes: int = 64 * MB


DEFAULT_LIMITS = ExtractionLimits()


@dataclass(frozen=True)
class ExtractedText:
    """Text read from a file, and how it was read.

    ``truncated`` is true when a limit stopped reading early; ``truncated_by`` then names it
    (``"max_chars"``, ``"max_pages"``, ``"max_seconds"``, ``"max_file_bytes"``, or ``"malformed"``
    for a PDF whose later pages are broken).
    ``language`` is a two-letter guess from :mod:`..language`; ``encoding`` is set for formats
    stored as encoded text; ``pages`` counts PDF pages or slides read.
    """

    text: str
    format: str
    language: str | None = None
    truncated: bool = False
    truncated_by: str | None = None
    encoding: str | None = None
    pages: int | None = None

    def __str__(self):
        return self.text


@dataclass
class Extracted:
    """What an individual extractor returns, before the common post-processing."""

    text: str
    truncated_by: str | None = None
    encoding: str | None = None
    pages: int | None = None


class DeadlineExceeded(Exception):
    """Raised inside an extractor when the time budget is spent; never escapes extract_text."""


class Deadline:
    def __init__(self, seconds):
        self.seconds = seconds
        self.expires_at = time.monotonic() + seconds

    def remaining(self):
        return self.expires_at - time.monotonic()

    def expired(self):
        return self.remaining() <= 0

    def check(self):
        if self.expired():
            raise DeadlineExceeded()


class TextBuilder:
    """Collects text pieces up to a character budget, remembering whether anything was dropped."""

    def __init__(self, max_chars):
        self.max_chars = max_chars
        self.parts = []
        self.length = 0
        self.full = False

    def add(self, piece, separator="\n"):
        """Append ``piece``; returns False once the budget is spent (callers stop reading)."""
        if self.full:
            return False
        if not piece:
            return True
        piece = piece + separator
        room = self.max_chars - self.length
        if len(piece) > room:
            piece = piece[:room]
            self.full = True
        self.parts.append(piece)
        self.length += len(piece)
        return not self.full

    def text(self):
        return "".join(self.parts)


class Source:
    """A file to read: a path or a binary file object, opened once, with cheap access to its head."""

    def __init__(self, path_or_file, filename=None):
        self._owned = None
        if isinstance(path_or_file, str | os.PathLike):
            self.path = os.fspath(path_or_file)
            try:
                self._owned = self.file = open(self.path, "rb")  # noqa: SIM115 - closed by close()
            except OSError as error:
                raise UnreadableAssetError(
                    gettext_noop("Cannot open %(path)s: %(error)s"), path=self.path, error=error.strerror or error
                ) from error
            self.filename = filename or os.path.basename(self.path)
        else:
            self.path = None
            self.file = path_or_file
            self.filename = filename or os.path.basename(getattr(path_or_file, "name", "") or "")
            if hasattr(self.file, "seek"):
                with contextlib.suppress(OSError, ValueError):
                    self.file.seek(0)
        self.size = self._size()
        self.head = self.read(8192)
        self.rewind()

    def _size(self):
        if self.path:
            return os.path.getsize(self.path)
        with contextlib.suppress(OSError, ValueError, AttributeError):
            return os.fstat(self.file.fileno()).st_size
        with contextlib.suppress(OSError, ValueError, AttributeError):
            position = self.file.tell()
            end = self.file.seek(0, os.SEEK_END)
            self.file.seek(position)
            return end
        return None

    @property
    def extension(self):
        return os.path.splitext(self.filename or "")[1].lower().lstrip(".")

    def rewind(self):
        self.file.seek(0)

    def read(self, size=-1):
        return self.file.read(size)

    def read_prefix(self, max_bytes):
        """At most ``max_bytes`` from the start, and whether the file goes on beyond them."""
        self.rewind()
        data = self.file.read(max_bytes + 1)
        return data[:max_bytes], len(data) > max_bytes

    @contextlib.contextmanager
    def local_path(self, max_bytes):
        """A filesystem path to the content, copying a file object to a temporary file if needed."""
        if self.path:
            yield self.path
            return
        suffix = f".{self.extension}" if self.extension else ""
        with tempfile.NamedTemporaryFile(suffix=suffix) as handle:
            self.rewind()
            shutil.copyfileobj(_limited_reader(self.file, max_bytes), handle)
            handle.flush()
            yield handle.name

    def close(self):
        if self._owned:
            self._owned.close()


class _limited_reader:  # noqa: N801 - a file-like shim, named like the functions that return one
    def __init__(self, file, limit):
        self.file = file
        self.left = limit

    def read(self, size=-1):
        if self.left <= 0:
            return b""
        size = self.left if size is None or size < 0 else min(size, self.left)
        data = self.file.read(size)
        self.left -= len(data)
        return data


# format name -> (extractor function, whether it parses the whole file)
_EXTRACTORS: dict = {}
# file extension -> format name
EXTENSIONS: dict[str, str] = {}


def register(name, *, extensions, whole_file):
    """Class the decorated function as the extractor for format ``name``.

    ``whole_file`` formats are refused above ``max_file_bytes``; the others read a prefix.
    """

    def decorator(function):
        _EXTRACTORS[name] = (function, whole_file)
        for extension in extensions:
            EXTENSIONS[extension] = name
        return function

    return decorator


def get_extractor(name):
    return _EXTRACTORS[name]


def supported_formats():
    return tuple(sorted(_EXTRACTORS))


def incremental_decode(chunks, encoding, max_chars, deadline):
    """Decode byte ``chunks`` with ``encoding`` into at most ``max_chars`` characters.

    Returns ``(text, stopped_early)``. Multi-byte characters split across chunks are handled by
    the incremental decoder, so a file can be streamed without being loaded whole.
    """
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    builder = TextBuilder(max_chars)
    for chunk in chunks:
        deadline.check()
        if not builder.add(decoder.decode(chunk), separator=""):
            return builder.text(), True
    builder.add(decoder.decode(b"", final=True), separator="")
    return builder.text(), builder.full
