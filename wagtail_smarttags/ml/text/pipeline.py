"""The one call a worker (and the ``smarttags_keywords`` command) makes for a text document."""

from dataclasses import dataclass

from .extractors import ExtractedText, extract_text
from .keywords import Keyword, extract_keywords

DEFAULT_TOP_N = 10


@dataclass(frozen=True)
class DocumentKeywords:
    """The smart tags for one document and the extraction they came from (format, language, truncation)."""

    keywords: list[Keyword]
    extracted: ExtractedText


def keywords_for_file(path, filename=None, *, taxonomy=(), top_n=DEFAULT_TOP_N, limits=None, use_embeddings=True):
    """Extract the text of a document and choose its keywords.

    ``path`` is a filesystem path or a binary file object; ``filename`` (defaults to the path's
    name) selects the format by extension. ``taxonomy`` holds existing tag names to prefer.
    Raises :class:`~wagtail_smarttags.ml.errors.UnreadableAssetError` for files that yield no text.
    """
    extracted = extract_text(path, filename, limits)
    keywords = extract_keywords(
        extracted.text, top_n=top_n, taxonomy=taxonomy, language=extracted.language, use_embeddings=use_embeddings
    )
    return DocumentKeywords(keywords=keywords, extracted=extracted)
