"""Text documents get the keywords that occur in them as smart tags, through the same queue as images."""

import pytest
from django.contrib.contenttypes.models import ContentType
from taggit.models import Tag

from wagtail_smarttags.models import SmartTag, TaggingState
from wagtail_smarttags.tasks import tag_asset

from ..datasets import KEYPHRASES, require
from ..factories import create_document
from ..helpers import smart_tags_of, state_of, uploaded

pytestmark = pytest.mark.django_db


@pytest.fixture
def abstract():
    """A real scientific abstract from the Inspec keyphrase benchmark."""
    root = require(KEYPHRASES / "Inspec")
    path = sorted((root / "docsutf8").glob("*.txt"))[0]
    return path.read_text(encoding="utf-8"), (root / "keys" / f"{path.stem}.key").read_text(encoding="utf-8")





def test_a_text_document_gets_keywords_that_occur_in_it(abstract, django_capture_on_commit_callbacks, settings):
    text, _ = abstract
    document = uploaded(django_capture_on_commit_callbacks, create_document, text.encode("utf-8"), "abstract.txt")
    assert state_of(document).status == TaggingState.Status.DONE, state_of(document).error
    tags = list(smart_tags_of(document))
    assert 1 <= len(tags) <= settings.WAGTAIL_SMARTTAGS.get("TEXT_KEYWORDS", 5)
    lowered = text.lower()
    for smart_tag in tags:
        assert smart_tag.source == SmartTag.Source.TEXT
        assert 0 < smart_tag.confidence <= 1
        assert all(word in lowered for word in smart_tag.name.lower().split())


def test_keywords_prefer_existing_taxonomy_tags(abstract, django_capture_on_commit_callbacks):
    text, gold = abstract
    gold_phrase = next(line.strip() for line in gold.splitlines() if line.strip().lower() in text.lower())
    existing = Tag.objects.create(name=gold_phrase.title())
    document = uploaded(django_capture_on_commit_callbacks, create_document, text.encode("utf-8"), "abstract.txt")
    names = [t.name for t in smart_tags_of(document)]
    assert existing.name in names
    assert Tag.objects.filter(name__iexact=gold_phrase).count() == 1
    assert smart_tags_of(document).get(tag=existing).label is None


def test_removed_keywords_stay_removed_after_retagging(abstract, django_capture_on_commit_callbacks):
    text, _ = abstract
    document = uploaded(django_capture_on_commit_callbacks, create_document, text.encode("utf-8"), "abstract.txt")
    first = smart_tags_of(document).first()
    first.state = SmartTag.State.REMOVED
    first.save()
    tag_asset.call(ContentType.objects.get_for_model(document).pk, document.pk)
    assert smart_tags_of(document).get(label=first.label).state == SmartTag.State.REMOVED


@pytest.mark.parametrize(
    "name, data",
    [("empty.txt", b""), ("binary.txt", bytes(range(256)) * 64), ("broken.pdf", b"%PDF-1.7\n1 0 obj << /Type")],
)
def test_bad_documents_fail_with_a_readable_error(django_capture_on_commit_callbacks, name, data):
    document = uploaded(django_capture_on_commit_callbacks, create_document, data, name)
    state = state_of(document)
    assert state.status == TaggingState.Status.FAILED
    assert state.error and "Unexpected error" not in state.error
    assert not smart_tags_of(document).exists()
