"""The words of tag and label names, indexed, so that a search term finds what it matches by a look-up.

A term matches a tag when it is one of the words of the tag's name (``running`` matches ``running
shoes``), case-insensitively; autocomplete matches the words it starts. ``SearchWord`` holds those
words; the signal handlers keep it exact in the transaction that saves a tag or a label.
"""

import re

from django.db import connections, router
from django.db.models import Q
from taggit.models import Tag

from ..models import SearchWord, SmartTagLabel

WORD = re.compile(r"\w+")
MAX_WORD_LENGTH = SearchWord._meta.get_field("word").max_length


def split_words(text):
    """The distinct lower-case words of ``text``, in order."""
    return list(dict.fromkeys(word.lower()[:MAX_WORD_LENGTH] for word in WORD.findall(text or "")))


def index_words(instance):
    """(Re-)index the words of a taggit tag's or a label's name."""
    owner = "label" if isinstance(instance, SmartTagLabel) else "tag"
    SearchWord.objects.filter(**{owner: instance}).delete()
    SearchWord.objects.bulk_create(
        [SearchWord(word=word, **{owner: instance}) for word in split_words(instance.name)]
    )


def rebuild_search_words(batch_size=5000):
    """Index every tag and label anew; what the migration and bulk imports (which send no signals) need."""
    SearchWord.objects.all().delete()
    for model, owner in ((Tag, "tag"), (SmartTagLabel, "label")):
        rows = []
        for pk, name in model.objects.values_list("pk", "name").iterator(chunk_size=batch_size):
            rows += [SearchWord(word=word, **{f"{owner}_id": pk}) for word in split_words(name)]
            if len(rows) >= batch_size:
                SearchWord.objects.bulk_create(rows)
                rows = []
        SearchWord.objects.bulk_create(rows)


def index_unindexed_words():
    """Index the tags and labels that have no words yet (created in bulk, without signals); returns how many."""
    indexed = 0
    for model, owner in ((Tag, "tag"), (SmartTagLabel, "label")):
        has_words = SearchWord.objects.filter(**{f"{owner}__isnull": False}).values(f"{owner}_id")
        for instance in model.objects.exclude(name="").exclude(pk__in=has_words).iterator():
            index_words(instance)
            indexed += 1
    return indexed


def word_condition(term, prefix):
    """``Q`` of the words ``term`` matches: itself, or with ``prefix`` every word it starts."""
    if not prefix:
        return Q(word=term)
    vendor = connections[router.db_for_read(SearchWord)].vendor
    if vendor == "sqlite":
        # SQLite's LIKE ignores case and so cannot use the index; words are lower case, and in the
        # binary order of the column every word that starts with the term sorts in this range.
        return Q(word__gte=term, word__lt=term + "\U0010ffff")
    if vendor == "mysql":
        # Django's case-sensitive LIKE BINARY cannot use an index of a case-insensitive collation.
        return Q(word__istartswith=term)
    # PostgreSQL uses the pattern index Django adds to an indexed CharField for LIKE 'term%'.
    return Q(word__startswith=term)


def names_matching_terms(terms, prefix=False):
    """``({tag id: {term positions}}, {label id: {term positions}})`` of the tags and labels whose names the
    ``terms`` (lower case) match, found through the word index."""
    tags, labels = {}, {}
    conditions = Q(*[word_condition(term, prefix) for term in terms], _connector=Q.OR)
    for word, tag_id, label_id in SearchWord.objects.filter(conditions).values_list("word", "tag_id", "label_id"):
        positions = {
            position
            for position, term in enumerate(terms)
            if word == term or (prefix and word.startswith(term))
        }
        owner = tags.setdefault(tag_id, set()) if tag_id is not None else labels.setdefault(label_id, set())
        owner |= positions
    return tags, labels
