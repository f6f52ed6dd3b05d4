"""Stopword lists shipped with the package, and a small offline language guess built on them.

The lists are plain text files in ``stopwords/`` (one word a line, ``#`` starts a comment), so
nothing needs NLTK's downloadable corpora. The guess counts how many of a text's words are
stopwords of each language: function words are the most frequent words of any text, so even a
short paragraph gives a clear winner without a statistical model.
"""

import re
from functools import cache
from importlib import resources

DEFAULT_LANGUAGE = "en"

# Two-letter codes of the lists in stopwords/; a new language only needs a new file here.
SUPPORTED_LANGUAGES = ("en", "fr", "de", "es")

# Below this many stopword hits the evidence is too thin to move away from the default.
MIN_STOPWORD_HITS = 3

_WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


@cache
def stopwords(language):
    """The stopword set for ``language`` (a code from :data:`SUPPORTED_LANGUAGES`)."""
    if language not in SUPPORTED_LANGUAGES:
        raise ValueError(f"No stopword list for language {language!r}; supported: {', '.join(SUPPORTED_LANGUAGES)}")
    text = resources.files(__package__).joinpath("stopwords", f"{language}.txt").read_text(encoding="utf-8")
    words = (line.strip().lower() for line in text.splitlines())
    return frozenset(word for word in words if word and not word.startswith("#"))


def guess_language(text, *, sample_chars=20_000):
    """Best guess at the language of ``text`` among :data:`SUPPORTED_LANGUAGES`, by stopword share.

    Only the first ``sample_chars`` characters are looked at: the share settles long before that.
    Falls back to :data:`DEFAULT_LANGUAGE` when too few stopwords of any language are present.
    """
    words = [word.lower().replace("’", "'") for word in _WORD_RE.findall(text[:sample_chars])]
    if not words:
        return DEFAULT_LANGUAGE
    hits = {language: sum(1 for word in words if word in stopwords(language)) for language in SUPPORTED_LANGUAGES}
    # Ties and near-ties favour the default: short English snippets share words like "a" or "in" with others.
    best = max(SUPPORTED_LANGUAGES, key=lambda language: (hits[language], language == DEFAULT_LANGUAGE))
    if hits[best] < MIN_STOPWORD_HITS or hits[best] <= hits[DEFAULT_LANGUAGE]:
        return DEFAULT_LANGUAGE
    return best
