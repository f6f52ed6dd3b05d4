"""Text extraction from documents: one module per format family, one entry point.

:func:`extract_text` picks the format from the file name and checks it against the file's first
bytes (a PDF named ``.txt`` is read as a PDF, a DOCX named ``.doc`` as a DOCX), applies the
:class:`ExtractionLimits`, and turns every failure into
:class:`~wagtail_smarttags.ml.errors.UnreadableAssetError` with a message fit for an editor.

Formats: CSV, DOC, DOCX, HTML, PDF, PPT, PPTX, RTF, SRT, TXT, VTT (see ``supported_formats()``).
"""

from ...errors import UnreadableAssetError
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
    name = source.filename or "The file"
    if source.size is None:
        raise UnreadableAssetError(f"{name} is a zip archive of unknown size and cannot be read safely.")
    if source.size > limits.max_file_bytes:
        raise UnreadableAssetError(
            f"{name} is {source.size:,} bytes, over the {limits.max_file_bytes:,}-byte limit for Office files."
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
        raise UnsupportedFormatError(
            f"{source.filename or 'The file'}: text extraction does not support "
            f"'.{source.extension}' files (supported: {', '.join(supported_formats())})."
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
        name = source.filename or "The file"
        if source.size == 0 or not source.head:
            raise UnreadableAssetError(f"{name} is empty.")
        format_name = detect_format(source, limits)
        extractor, whole_file = get_extractor(format_name)
        if _format_mismatch(format_name, source):
            raise UnreadableAssetError(f"{name} is not a valid {format_name.upper()} file (wrong signature).")
        if whole_file and source.size is not None and source.size > limits.max_file_bytes:
            raise UnreadableAssetError(
                f"{name} is {source.size} bytes, over the {limits.max_file_bytes}-byte limit for "
                f"{format_name.upper()} files."
            )
        deadline = Deadline(limits.max_seconds)
        try:
            extracted = extractor(source, limits, deadline)
        except DeadlineExceeded:
            raise ExtractionTimeout(f"{name}: reading took longer than {limits.max_seconds:g} s and was stopped.")
        except (UnreadableAssetError, MemoryError):
            raise
        except Exception as error:  # parsers raise many types on hostile input; none should crash a worker
            raise UnreadableAssetError(f"{name} could not be read as {format_name.upper()}: {error}")
    finally:
        source.close()

    text = extracted.text.replace("\x00", "").strip()
    if not text:
        raise UnreadableAssetError(f"{name} contains no extractable text.")
    return ExtractedText(
        text=text,
        format=format_name,
        language=guess_language(text),
        truncated=extracted.truncated_by is not None,
        truncated_by=extracted.truncated_by,
        encoding=extracted.encoding,
        pages=extracted.pages,
    )
