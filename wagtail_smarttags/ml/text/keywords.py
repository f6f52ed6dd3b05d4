"""Keywords that describe a text document: candidate phrases, ranked, deduplicated, mapped to tags.

How it works, and why:

1. **Candidates.** Keyphrases people choose are overwhelmingly noun phrases of one to four words
   ("neural network training", "separate-account industry"). Without a POS tagger (NLTK's needs
   downloaded data) candidates are built RAKE-style, splitting sentences at stopwords and
   punctuation, and then, for English, also at words that are almost never part of a noun phrase:
   adverbs in ``-ly``, numbers, reporting verbs ("propose", "show", "describe"), vague modifiers
   ("novel", "various") and a participle right after a noun ("the method used", "particles
   moving"), which starts a clause since English puts participles before the noun they modify.
   rake-nltk does the splitting, given those words as stopwords, a regex sentence splitter and a
   tokenizer that marks the context-dependent breaks, so RAKE's degree/frequency scores come for
   free. Phrases ending in an adjective ("pure classical") are dropped.
2. **Ranking.** Each candidate gets statistical features (RAKE score, frequency, position of first
   occurrence, length) and, when MiniLM is available, the cosine similarity between the phrase
   embedding and the document embedding (EmbedRank / KeyBERT). Similarity carries most weight: it
   is what separates "what this document is about" from "frequent words in it".
3. **Diversity.** Candidates that stem to the same words are merged; a Maximal Marginal Relevance
   pass then avoids returning five near-paraphrases of one concept.
4. **Taxonomy.** Candidates (and any taxonomy tag found verbatim in the text) that equal an
   existing tag name, up to case and plural/singular, are preferred and carry the tag name.

The public entry point is :func:`extract_keywords`.
"""

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from typing import NamedTuple

from .language import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES, guess_language, stopwords

MAX_PHRASE_WORDS = 4

# Beyond this the statistics are stable and embedding more text only costs time.
MAX_TEXT_CHARS = 200_000

# Only this many statistically best candidates are embedded: keeps a worker fast on long documents.
MAX_CANDIDATES_TO_EMBED = 60

# Weights of the final score. Similarity to the document dominates; the statistical features break
# ties between equally "on topic" phrases in favour of frequent, early, multi-word ones.
SIMILARITY_WEIGHT = 0.60
POSITION_WEIGHT = 0.15
FREQUENCY_WEIGHT = 0.15
LENGTH_WEIGHT = 0.10

# MMR trade-off: 1.0 is pure relevance; lower values push near-duplicates down the list.
DIVERSITY_LAMBDA = 0.75

# Without embeddings: weights of position, frequency, length and RAKE score.
FALLBACK_WEIGHTS = (0.40, 0.30, 0.15, 0.15)

# Added to the score of a candidate that names an existing taxonomy tag, before clamping to 1.
TAXONOMY_BONUS = 0.20

_SENTENCE_BOUNDARY_RE = re.compile(r"(?<=[.!?;:])\s+|\n\s*\n|[\r\n]+(?=\s*[-*•\u2022])|\t+")
_TOKEN_RE = re.compile(r"[^\W_]+(?:[-'’./][^\W_]+)*|[^\w\s]", re.UNICODE)
_LETTER_RE = re.compile(r"[^\W\d_]")


class Keyword(NamedTuple):
    """One smart tag: the phrase, a confidence in [0, 1] and the taxonomy tag it matched, if any."""

    phrase: str
    score: float
    tag: str | None = None


@dataclass
class Candidate:
    key: tuple  # stemmed, lowercase words: the identity used for counting and deduplication
    words: tuple  # lowercase words of the most frequent surface form
    surface: Counter = field(default_factory=Counter)
    count: int = 0
    first_position: int = 0
    rake_score: float = 0.0
    tag: str | None = None
    score: float = 0.0

    @property
    def phrase(self):
        return self.surface.most_common(1)[0][0]


def split_sentences(text):
    """Sentences and other phrase-breaking units (lines of a list, table cells), without NLTK's punkt."""
    return [part.strip() for part in _SENTENCE_BOUNDARY_RE.split(text) if part and part.strip()]


def tokenize(sentence):
    """Words (keeping inner hyphens, apostrophes and dots, as in "web-based" or "U.S.") and punctuation."""
    return _TOKEN_RE.findall(sentence)


@cache
def _word_list(name):
    text = resources.files(__package__).joinpath("stopwords", name).read_text(encoding="utf-8")
    words = (line.strip().lower() for line in text.splitlines())
    return frozenset(word for word in words if word and not word.startswith("#"))


def _verb_forms(base):
    """Base, third person, past and gerund forms of a regular English verb, good enough for a blocklist."""
    if base.endswith("e"):
        stem = base[:-1]
        return {base, base + "s", base + "d", stem + "ing"}
    if base.endswith("y") and base[-2:-1] not in set("aeiou"):
        stem = base[:-1]
        return {base, stem + "ies", stem + "ied", base + "ing"}
    if base.endswith(("s", "sh", "ch", "x", "z")):
        return {base, base + "es", base + "ed", base + "ing"}
    return {base, base + "s", base + "ed", base + "ing"}


@cache
def phrase_breakers(language):
    """Words that end a candidate phrase: stopwords, plus for English verbs and vague modifiers."""
    words = set(stopwords(language))
    if language == "en":
        words |= _word_list("en_extra.txt")
        for base in _word_list("en_verbs.txt"):
            words |= _verb_forms(base)
    return frozenset(words)


@cache
def _stemmer(language):
    from nltk.stem import PorterStemmer
    from nltk.stem.snowball import SnowballStemmer

    names = {"fr": "french", "de": "german", "es": "spanish"}
    # Porter is what keyphrase benchmarks use for English; Snowball has the other languages, no data needed.
    return PorterStemmer() if language == "en" else SnowballStemmer(names.get(language, "english"))


@lru_cache(maxsize=200_000)
def _stem(word, language):
    # Porter stemming is pure Python and the same words recur in every document: cache it.
    return _stemmer(language).stem(word)


def stem_words(words, language=DEFAULT_LANGUAGE):
    return tuple(_stem(word.lower(), language) for word in words)


_ADVERB_EXCEPTIONS = frozenset(
    "family supply assembly anomaly monopoly reply italy july poly fly ally rally early daily weekly monthly "
    "yearly quarterly friendly elderly bully jelly belly holly lily polly".split()
)


def _is_breaker(word, breakers, language):
    if word in breakers or not _LETTER_RE.search(word):
        return True
    if language == "en" and len(word) > 4 and word.endswith("ly") and word not in _ADVERB_EXCEPTIONS:
        return True
    return len(word) == 1 and word not in {"c", "r"}


# Nouns (and the odd adjective used as one) that merely look like verb forms or adjectives.
_NOT_VERB_FORMS = frozenset(
    "speed seed need feed breed bed shed hundred kindred embed red bred bleed creed greed weed "
    "thing string spring ring king wing ceiling building evening morning".split()
)
_ADJECTIVE_SUFFIXES = ("ous", "ful", "less", "able", "ible", "ical", "ive")
_NOT_ADJECTIVES = frozenset(
    "table variable cable vegetable timetable deliverable chemical musical periodical objective alternative "
    "derivative initiative incentive perspective executive representative detective directive archive adhesive "
    "explosive narrative relative drive motive olive hive native five bible crucible".split()
)


def _starts_verb_phrase(word, previous):
    """True for a verb form right after a noun ("the method used", "particles moving", "models admitting"):
    in English a noun phrase puts its participles before the noun, so here a clause begins."""
    if word in _NOT_VERB_FORMS or "-" in word:
        return False
    if word.endswith("ed") and len(word) > 4:
        return True
    plural_before = previous.endswith("s") and not previous.endswith(("ss", "us", "is"))
    return word.endswith("ing") and len(word) > 5 and plural_before


def _looks_adjectival(word):
    return word.endswith(_ADJECTIVE_SUFFIXES) and word not in _NOT_ADJECTIVES and "-" not in word


# rake-nltk splits phrases at stopwords and punctuation it is given as sets; context-dependent
# breaks (a verb form right after a noun, an adverb, a number) are made by the word tokenizer,
# which replaces such words with this marker, declared to rake-nltk as punctuation.
_BREAK = "\x00"


def _rake_tokenizer(breakers, language):
    def word_tokenizer(sentence):
        words = []
        previous = None
        for token in tokenize(sentence):
            lower = token.lower()
            if _is_breaker(lower, breakers, language) or (
                language == "en" and previous and _starts_verb_phrase(lower, previous)
            ):
                words.append(_BREAK)
                previous = None
            else:
                words.append(token)
                previous = lower
        return words

    return word_tokenizer


def _surface(original_words):
    # Keep acronyms and mixed-case names ("SL(N,C)", "MiniLM") as written, lowercase everything else.
    return " ".join(word if sum(ch.isupper() for ch in word) > 1 else word.lower() for word in original_words)


def _first_occurrences(text, word_tokenizer):
    """``{lowercase phrase: (word index, original spelling)}`` for the first standalone use of each phrase.

    rake-nltk keeps no order, and "where did this phrase first appear *as a phrase*" (not merely
    inside a longer one) is what the position feature needs, so the runs are walked once more.
    """
    first = {}
    position = 0
    for sentence in split_sentences(text):
        run = []
        for token in [*word_tokenizer(sentence), _BREAK]:
            if token != _BREAK:
                run.append(token)
            elif run:
                phrase = " ".join(run).lower()
                if phrase not in first:
                    first[phrase] = (position - len(run), _surface(run))
                run = []
            position += 1
    return first


def generate_candidates(text, language=DEFAULT_LANGUAGE, *, max_words=MAX_PHRASE_WORDS):
    """Candidate phrases of ``text`` keyed by their stemmed words, with RAKE scores and statistics.

    Phrases come from rake-nltk (given the breakers as stopwords, the regex sentence splitter and
    the breaking tokenizer, so no NLTK data is needed); RAKE's degree/frequency word scores are
    kept as a feature. Runs longer than ``max_words`` are cut into all their shorter windows.
    """
    from rake_nltk import Rake

    breakers = phrase_breakers(language)
    word_tokenizer = _rake_tokenizer(breakers, language)
    rake = Rake(
        stopwords=set(breakers),
        punctuations={_BREAK},
        sentence_tokenizer=split_sentences,
        word_tokenizer=word_tokenizer,
        include_repeated_phrases=True,
    )
    rake.extract_keywords_from_text(text)
    degree = rake.get_word_degrees()
    frequency = rake.get_word_frequency_distribution()
    occurrences = Counter(phrase for _, phrase in rake.get_ranked_phrases_with_scores())
    first = _first_occurrences(text, word_tokenizer)

    candidates = {}
    for phrase, count in occurrences.items():
        words = phrase.split()
        start, surface = first.get(phrase, (len(text), phrase))
        surface_words = surface.split()
        if len(words) <= max_words:
            pieces = [(0, len(words))]
        else:
            pieces = list(_windows(len(words), max_words))
        for begin, end in pieces:
            lowers = tuple(words[begin:end])
            if language == "en" and _looks_adjectival(lowers[-1]):
                continue  # "pure classical", "selective": a noun phrase ends with a noun
            key = stem_words(lowers, language)
            candidate = candidates.get(key)
            if candidate is None:
                candidate = candidates[key] = Candidate(key=key, words=lowers, first_position=start + begin)
                candidate.rake_score = sum(degree[word] / frequency[word] for word in lowers)
            else:
                candidate.first_position = min(candidate.first_position, start + begin)
            spelled = surface_words[begin:end] if len(surface_words) == len(words) else lowers
            candidate.surface[" ".join(spelled)] += count
            candidate.count += count
    return candidates, sum(frequency.values())


def _windows(length, max_words):
    # A run longer than any plausible keyphrase is usually two phrases glued by an unknown verb;
    # every sub-phrase of up to max_words words competes, and ranking picks the meaningful ones.
    for size in range(1, max_words + 1):
        for start in range(0, length - size + 1):
            yield start, start + size


def _singular(word):
    if len(word) <= 3 or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes", "zes")):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


def _word_forms(word):
    """Spellings a word may have in singular or plural ("tomatoes" -> tomatoe, tomato; "leaves" -> leaf)."""
    forms = {word, _singular(word)}
    if len(word) > 3 and word.endswith("es"):
        forms.add(word[:-2])
    if len(word) > 4 and word.endswith("ves"):
        forms |= {word[:-3] + "f", word[:-3] + "fe"}
    return forms


def taxonomy_key(phrase):
    """A canonical form for comparing phrases: lowercase singular words, punctuation ignored."""
    return tuple(_singular(word) for word in re.findall(r"[^\W_]+", phrase.lower()))


def taxonomy_keys(phrase):
    """Every singular/plural spelling of ``phrase`` as word tuples: two phrases match when these intersect."""
    words = re.findall(r"[^\W_]+", phrase.lower())
    keys = {()}
    for word in words[: MAX_PHRASE_WORDS + 2]:
        keys = {key + (form,) for key in keys for form in _word_forms(word)}
    return keys if words else set()


def _statistical_scores(candidates):
    """Features in [0, 1] per candidate: position (earlier is better), frequency, length, RAKE."""
    if not candidates:
        return {}
    max_count = max(candidate.count for candidate in candidates)
    max_rake = max(candidate.rake_score for candidate in candidates) or 1.0
    features = {}
    for candidate in candidates:
        position = 1.0 / math.sqrt(1.0 + candidate.first_position / 10.0)
        frequency = math.log1p(candidate.count) / math.log1p(max_count)
        length = min(len(candidate.key), 3) / 3.0
        features[candidate.key] = (position, frequency, length, candidate.rake_score / max_rake)
    return features


def _mmr(keys, relevance, vectors, top_n, diversity_lambda):
    """Greedy Maximal Marginal Relevance selection over candidate embeddings."""
    selected = []
    remaining = list(range(len(keys)))
    similarity = vectors @ vectors.T
    while remaining and len(selected) < top_n:
        if selected:
            redundancy = similarity[remaining][:, selected].max(axis=1)
        else:
            redundancy = [0.0] * len(remaining)
        scores = [
            diversity_lambda * relevance[index] - (1 - diversity_lambda) * redundancy[position]
            for position, index in enumerate(remaining)
        ]
        best = max(range(len(remaining)), key=scores.__getitem__)
        selected.append(remaining.pop(best))
    return [keys[index] for index in selected]


def _drop_contained(ranked, top_n):
    """Without embeddings: skip a phrase whose words are all inside an already chosen phrase."""
    chosen = []
    for candidate in ranked:
        if any(set(candidate.key) <= set(other.key) for other in chosen):
            continue
        chosen.append(candidate)
        if len(chosen) == top_n:
            break
    return chosen


def _match_taxonomy(candidates, taxonomy, text, language):
    """Mark candidates that name a tag, and add tags found verbatim in the text that are not candidates."""
    tag_by_key = {}
    for name in taxonomy:
        for key in taxonomy_keys(name):
            tag_by_key.setdefault(key, name)
    if not tag_by_key:
        return
    matched = set()
    for candidate in candidates.values():
        for key in taxonomy_keys(" ".join(candidate.words)):
            if key in tag_by_key:
                candidate.tag = tag_by_key[key]
                matched.add(candidate.tag)
                break
    # A tag like "Fish and chips" contains a stopword and so is never a candidate: look for it directly.
    words = re.findall(r"[^\W_]+", text.lower())
    positions_by_form = {}
    for position, word in enumerate(words):
        for form in _word_forms(word):
            positions_by_form.setdefault(form, []).append(position)
    for key, name in tag_by_key.items():
        if name in matched:
            continue
        positions = [
            start
            for start in positions_by_form.get(key[0], ())
            if start + len(key) <= len(words)
            and all(key[offset] in _word_forms(words[start + offset]) for offset in range(1, len(key)))
        ]
        if not positions:
            continue
        matched.add(name)
        tag_words = tuple(re.findall(r"[^\W_]+", name.lower()))
        stem_key = stem_words(tag_words, language)
        candidate = candidates.get(stem_key)
        if candidate is None:
            candidate = candidates[stem_key] = Candidate(key=stem_key, words=tag_words, first_position=positions[0])
            candidate.surface[name] = len(positions)
            candidate.count = len(positions)
        candidate.tag = name


def extract_keywords(text, *, top_n=10, taxonomy=(), language=None, use_embeddings=True):
    """The ``top_n`` phrases that best describe ``text``, best first, as :class:`Keyword` tuples.

    ``taxonomy`` is an iterable of existing tag names: a phrase equal to one of them (ignoring case
    and plural/singular) is preferred and returned with that tag name in ``Keyword.tag``.
    ``language`` is a code from :data:`~.language.SUPPORTED_LANGUAGES`; guessed when ``None`` or unsupported.
    ``use_embeddings=False`` skips MiniLM (faster, lower quality); it is also skipped automatically
    when the model cannot be loaded.
    """
    text = (text or "")[:MAX_TEXT_CHARS]
    if not text.strip() or top_n <= 0:
        return []
    if language not in SUPPORTED_LANGUAGES:
        language = guess_language(text)
    candidates, _word_count = generate_candidates(text, language)
    _match_taxonomy(candidates, tuple(taxonomy), text, language)
    if not candidates:
        return []

    pool = list(candidates.values())
    features = _statistical_scores(pool)
    for candidate in pool:
        candidate.score = sum(weight * value for weight, value in zip(FALLBACK_WEIGHTS, features[candidate.key]))

    vectors = None
    if use_embeddings:
        from . import embeddings

        if embeddings.embeddings_available():
            pool.sort(key=lambda candidate: (candidate.tag is None, -candidate.score))
            pool = pool[:MAX_CANDIDATES_TO_EMBED]
            document_vector = embeddings.embed_document(text)
            vectors = embeddings.embed([candidate.phrase for candidate in pool])
            similarities = vectors @ document_vector
            for candidate, similarity in zip(pool, similarities, strict=True):
                position, frequency, length, _ = features[candidate.key]
                candidate.score = (
                    SIMILARITY_WEIGHT * max(float(similarity), 0.0)
                    + POSITION_WEIGHT * position
                    + FREQUENCY_WEIGHT * frequency
                    + LENGTH_WEIGHT * length
                )

    for candidate in pool:
        if candidate.tag:
            candidate.score += TAXONOMY_BONUS
        candidate.score = min(max(candidate.score, 0.0), 1.0)

    if vectors is not None:
        relevance = [candidate.score for candidate in pool]
        order = _mmr(list(range(len(pool))), relevance, vectors, top_n, DIVERSITY_LAMBDA)
        chosen = [pool[index] for index in order]
    else:
        pool.sort(key=lambda candidate: -candidate.score)
        chosen = _drop_contained(pool, top_n)
    chosen.sort(key=lambda candidate: -candidate.score)
    return [
        Keyword(candidate.tag or candidate.phrase, round(candidate.score, 4), candidate.tag) for candidate in chosen
    ]
