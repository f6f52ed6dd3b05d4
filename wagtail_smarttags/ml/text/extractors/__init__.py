"""Text extraction from documents: one module per format family, one entry point.

:func:`extract_text` picks the format from the file name and checks it against the file's first
bytes (a PDF named ``.txt`` is read as a PDF, a DOCX named ``.doc`` as a DOCX), applies the
:class:`ExtractionLimits`, and turns every failure into
:class:`~wagtail_smarttags.ml.errors.UnreadableAssetError` with a message fit for an editor.

Formats: CSV, DOC, DOCX, HTML, PDF, PPT, PPTX, RTF, SRT, TXT, VTT (see ``supported_formats()``).
"""

from ...errors import UnreadableAssetError, gettext_noop
from ..language import guess_language
from . import legacy, markup, office, pdf, plain  # noqa: F401 - importing registers the extractors
from .base import (
    DEFAULT_LIMITS,
    EXTENSIONS,
    Deadline,
    DeadlineExceeded,
    ExtractedText,
    ExtractionLimits,
    ExtractionTimeout,
    Source,
    UnsupportedFormatError,
    UnsupportedHereError,
    display_name,
    get_extractor,
    supported_formats,
)
from .zipdir import read_zip_directory

__all__ = [
    "DEFAULT_LIMITS",
    "ExtractedText",
    "ExtractionLimits",
    "ExtractionTimeout",
    "UnsupportedFormatError",
    "UnsupportedHereError",
    "detect_format",
    "extract_text",
    "supported_formats",
]

_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _zip_flavour(source, limits):
    """``"docx"``, ``"pptx"`` or None from the archive's directory, read within ``limits`` (refused beyond them)."""
    name = display_name(source.filename)
    if source.size is None:
        raise UnreadableAssetError(
            gettext_noop("%(name)s is a zip archive of unknown size and cannot be read safely."), name=name
        )
    if source.size > limits.max_file_bytes:
        raise UnreadableAssetError(
            gettext_noop("%(name)s is %(size)s bytes, over the %(limit)s-byte limit for Office files."),
            name=name,
            size=source.size,
            limit=limits.max_file_bytes,
        )
    try:
        directory = read_zip_directory(source.file, source.size, limits, name)
    except OSError:
        return None
    finally:
        source.rewind()
    if "word" in directory.top_level:
        return "docx"
    if "ppt" in directory.top_level:
        return "pptx"
    return None


def detect_format(source, limits=DEFAULT_LIMITS):
    """The format name for ``source``: its extension, corrected by unmistakable magic bytes.

    A zip archive's directory is read to tell DOCX from PPTX, so ``limits`` (file size, members,
    declared sizes) are checked first, and an archive beyond them is refused here.
    """
    by_extension = EXTENSIONS.get(source.extension)
    head = source.head
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.lstrip().startswith(b"{\\rtf"):
        return "rtf"
    if head.startswith(_OLE_SIGNATURE):
        return by_extension if by_extension in ("doc", "ppt") else "doc"
    if head.startswith(b"PK\x03\x04"):
        return _zip_flavour(source, limits) or by_extension
    if by_extension in ("doc", "ppt", "docx", "pptx", "pdf") and head:
        # Word can save HTML under .doc; anything else with an Office extension is not that format.
        if b"<html" in head[:1024].lower():
            return "html"
    if by_extension is None:
        supported = ", ".join(supported_formats())
        if source.filename:
            raise UnsupportedFormatError(
                gettext_noop(
                    "%(name)s: text extraction does not support '.%(extension)s' files (supported: %(formats)s)."
                ),
                name=source.filename,
                extension=source.extension,
                formats=supported,
            )
        raise UnsupportedFormatError(
            gettext_noop(
                "Text extraction does not support '.%(extension)s' files (supported: %(formats)s)."
            ),
            extension=source.extension,
            formats=supported,
        )
    return by_extension


def _format_mismatch(format_name, source):
    """An Office or PDF extension whose bytes show another, unknown format."""
    head = source.head
    expected = {
        "pdf": (b"%PDF-",),
        "docx": (b"PK\x03\x04",),
        "pptx": (b"PK\x03\x04",),
        "doc": (_OLE_SIGNATURE,),
        "ppt": (_OLE_SIGNATURE,),
    }.get(format_name)
    return bool(expected) and not head.startswith(expected)


def extract_text(path_or_file, filename=None, limits=None):
    """Read the text of a document.

    ``path_or_file`` is a filesystem path or a binary file object (seekable; a Django ``File``
    works); ``filename`` gives the name whose extension selects the format (defaults to the
    path's). Returns :class:`ExtractedText`; raises ``UnreadableAssetError`` (or its subclasses
    ``UnsupportedFormatError``, ``UnsupportedHereError``, ``ExtractionTimeout``) when no text can
    be had.
    """
    limits = limits or DEFAULT_LIMITS
    source = Source(path_or_file, filename)
    try:
        name = display_name(source.filename)
        if source.size == 0 or not source.head:
            raise UnreadableAssetError(gettext_noop("%(name)s is empty."), name=name)
        format_name = detect_format(source, limits)
        extractor, whole_file = get_extractor(format_name)
        if _format_mismatch(format_name, source):
            raise UnreadableAssetError(
                gettext_noop("%(name)s is not a valid %(format)s file (wrong signature)."),
                name=name,
                format=format_name.upper(),
            )
        if whole_file and source.size is not None and source.size > limits.max_file_bytes:
            raise UnreadableAssetError(
                gettext_noop("%(name)s is %(size)s bytes, over the %(limit)s-byte limit for %(format)s files."),
                name=name,
                size=str(source.size),
                limit=str(limits.max_file_bytes),
                format=format_name.upper(),
            )
        deadline = Deadline(limits.max_seconds)
        try:
            extracted = extractor(source, limits, deadline)
        except DeadlineExceeded:
            raise ExtractionTimeout(
                gettext_noop("%(name)s: reading took longer than %(seconds)s s and was stopped."),
                name=name,
                seconds=f"{limits.max_seconds:g}",
            )
        except (UnreadableAssetError, MemoryError):
            raise
        except Exception as error:  # parsers raise many types on hostile input; none should crash a worker
            raise UnreadableAssetError(
                gettext_noop("%(name)s could not be read as %(format)s: %(error)s"),
                name=name,
                format=format_name.upper(),
                error=error,
            )
    finally:
        source.close()

    text = extracted.text.replace("\x00", "").strip()
    if not text:
        raise UnreadableAssetError(gettext_noop("%(name)s contains no extractable text."), name=name)
    return ExtractedText(
        text=text,
        format=format_name,
        language=guess_language(text),
        truncated=extracted.truncated_by is not None,
        truncated_by=extracted.truncated_by,
        encoding=extracted.encoding,
        pages=extracted.pages,
    )
