"""Smart tags for text documents: text extraction and keyword selection, with no Django in it.

The worker and the ``smarttags_keywords`` management command both call :func:`keywords_for_file`.
The building blocks are public too: :func:`extract_text` (CSV, DOC, DOCX, HTML, PDF, PPT, PPTX,
RTF, SRT, TXT, VTT under :class:`ExtractionLimits`) and :func:`extract_keywords`.
"""

from .extractors import (
    DEFAULT_LIMITS,
    ExtractedText,
    ExtractionLimits,
    ExtractionTimeout,
    UnsupportedFormatError,
    UnsupportedHereError,
    extract_text,
    supported_formats,
)
from .keywords import Keyword, extract_keywords
from .language import SUPPORTED_LANGUAGES, guess_language
from .pipeline import DEFAULT_TOP_N, DocumentKeywords, keywords_for_file

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_TOP_N",
    "SUPPORTED_LANGUAGES",
    "DocumentKeywords",
    "ExtractedText",
    "ExtractionLimits",
    "ExtractionTimeout",
    "Keyword",
    "UnsupportedFormatError",
    "UnsupportedHereError",
    "extract_keywords",
    "extract_text",
    "guess_language",
    "keywords_for_file",
    "supported_formats",
]
