"""The site's vocabulary stays the editors': keywords and generic labels are the app's own labels until an
editor promotes one, and nothing the app writes makes a phrase score higher later.

Real keyword extraction on abstracts of the Inspec keyphrase set, and real generic labels.
"""

import pytest
from django.contrib.contenttypes.models import ContentType
from taggit.models import Tag
from wagtail.documents import get_document_model

from wagtail_smarttags import moderation
from wagtail_smarttags.models import SmartTag, SmartTagLabel
from wagtail_smarttags.tasks import tag_asset

from .datasets import KEYPHRASES, require
from .factories import add_smart_tags, create_document, create_image, solid_image_bytes
from .helpers import smart_tags_by_name, smart_tags_of, uploaded

pytestmark = pytest.mark.django_db


@pytest.fixture
def abstracts():
    root = require(KEYPHRASES / "Inspec")
    return [path.read_text(encoding="utf-8") for path in sorted((root / "docsutf8").glob("*.txt"))[:6]]


@pytest.fixture
def editor(django_user_model):
    return django_user_model.objects.create_user("editor", "editor@example.com", "password")


def keywords_of(document):
    return {row.name.lower(): row.confidence for row in smart_tags_of(document, source=SmartTag.Source.TEXT)}


def retag(document):
    tag_asset.call(ContentType.objects.get_for_model(document).pk, document.pk)


def test_keywords_are_labels_not_tags_of_the_site(abstracts, django_capture_on_commit_callbacks):
    document = uploaded(django_capture_on_commit_callbacks, create_document, abstracts[0].encode(), "a.txt")
    rows = list(smart_tags_of(document, source=SmartTag.Source.TEXT))
    assert rows and all(row.tag is None and row.label is not None for row in rows)
    assert not Tag.objects.exists(), "the tag autocomplete suggests nothing the app made up"
    assert SmartTagLabel.objects.count() == len(rows)


def test_a_phrase_scores_the_same_however_many_documents_had_it_before(abstracts, django_capture_on_commit_callbacks):
    # A document alone: its keywords and their scores.
    probe = uploaded(django_capture_on_commit_callbacks, create_document, abstracts[0].encode(), "probe.txt")
    alone = keywords_of(probe)
    # Many documents later (every one of their keywords a label now), the same document scores the same.
    for number, text in enumerate(abstracts[1:] + abstracts[:1]):
        uploaded(django_capture_on_commit_callbacks, create_document, text.encode(), f"other-{number}.txt")
    retag(probe)
    assert keywords_of(probe) == pytest.approx(alone)


def test_an_editors_tag_is_preferred_and_a_promoted_keyword_joins_the_vocabulary(
    abstracts, editor, django_capture_on_commit_callbacks
):
    first = uploaded(django_capture_on_commit_callbacks, create_document, abstracts[0].encode(), "first.txt")
    second = uploaded(django_capture_on_commit_callbacks, create_document, abstracts[0].encode(), "second.txt")
    row = smart_tags_of(first, source=SmartTag.Source.TEXT).first()
    name = row.name
    assert moderation.promote_smart_tag(row, editor)

    tag = Tag.objects.get(name__iexact=name)
    assert tag in first.tags.all(), "promoted: one of the document's ordinary tags"
    promoted = smart_tags_by_name(first)[name]
    assert promoted.tag == tag and promoted.label is None and promoted.state == SmartTag.State.PROMOTED
    # The other document's smart tag of that phrase is now of the tag too, still undecided.
    other = smart_tags_by_name(second)[name]
    assert other.tag == tag and other.label is None and other.state == SmartTag.State.APPLIED
    assert not SmartTagLabel.objects.filter(name__iexact=name).exists()
    retag(second)
    assert smart_tags_by_name(second)[name].tag == tag


def test_a_decision_on_a_label_survives_an_editor_creating_that_tag(
    abstracts, editor, django_capture_on_commit_callbacks
):
    document = uploaded(django_capture_on_commit_callbacks, create_document, abstracts[0].encode(), "doc.txt")
    row = smart_tags_of(document, source=SmartTag.Source.TEXT).first()
    name = row.name
    moderation.remove_smart_tag(row, editor)
    # An editor types that phrase as a tag on some other asset: it becomes part of the vocabulary.
    image = create_image(solid_image_bytes(), title="Poster", name="poster.png")
    image.tags.add(name.upper())
    removed = SmartTag.objects.get(pk=row.pk)
    assert removed.tag.name == name.upper() and removed.label is None and removed.state == SmartTag.State.REMOVED
    retag(document)
    assert smart_tags_by_name(document)[name.upper()].state == SmartTag.State.REMOVED, "the decision stands"


def test_adopting_a_label_keeps_an_existing_tag_row_and_the_decision_made_on_the_label():
    from wagtail_smarttags.vocabulary import adopt_labels

    document = create_document(b"plain text", "doc.txt")
    label = SmartTagLabel.objects.create(name="solar panels")
    content_type = ContentType.objects.get_for_model(get_document_model())
    SmartTag.objects.create(
        content_type=content_type, object_id=document.pk, label=label, confidence=0.4,
        source=SmartTag.Source.TEXT, state=SmartTag.State.REMOVED,
    )  # fmt: skip
    # A tag of that name made meanwhile, without signals (a fixture, a bulk import), already on the asset.
    tag = Tag.objects.bulk_create([Tag(name="Solar panels", slug="solar-panels")])[0]
    tag = Tag.objects.get(slug="solar-panels")
    add_smart_tags(document, [("Solar panels", 0.7)])
    adopt_labels(tag)
    (row,) = smart_tags_of(document)
    assert row.tag == tag and row.state == SmartTag.State.REMOVED and row.confidence == pytest.approx(0.7)
    assert not SmartTagLabel.objects.exists()


def test_search_finds_assets_by_their_labels(abstracts, django_capture_on_commit_callbacks):
    from wagtail.search.backends import get_search_backend

    document = uploaded(django_capture_on_commit_callbacks, create_document, abstracts[0].encode(), "doc.txt")
    other = uploaded(django_capture_on_commit_callbacks, create_document, abstracts[1].encode(), "other.txt")
    phrase = next(name for name in keywords_of(document) if name not in keywords_of(other))
    found = list(get_search_backend().search(phrase, get_document_model()))
    assert document in found and other not in found
    # Removed smart tags never match (every one of them: a phrase's words may be in its other keywords).
    smart_tags_of(document).update(state=SmartTag.State.REMOVED)
    assert document not in list(get_search_backend().search(phrase, get_document_model()))
