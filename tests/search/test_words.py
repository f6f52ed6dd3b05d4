"""The word index search looks terms up in: exact as tags and labels change, and no scan of their names."""

import os

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from taggit.models import Tag
from wagtail.images import get_image_model

from wagtail_smarttags.models import SearchWord, SmartTagLabel
from wagtail_smarttags.search.words import index_unindexed_words, names_matching_terms, rebuild_search_words

from ..factories import add_smart_tags, create_image, solid_image_bytes

pytestmark = pytest.mark.django_db(transaction=os.environ.get("SMARTTAGS_TEST_DATABASE") == "mysql")


@pytest.fixture(autouse=True)
def smart_search_backend(settings):
    settings.WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail_smarttags.search.backend"}}
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "AUTO_TAG": False}


def words_of(**owner):
    return sorted(SearchWord.objects.filter(**owner).values_list("word", flat=True))


def titles(results):
    return [item.title for item in results]


def test_saving_a_tag_or_a_label_indexes_the_words_of_its_name():
    tag = Tag.objects.create(name="Running Shoes")
    label = SmartTagLabel.objects.create(name="annual report, 2026")
    assert words_of(tag=tag) == ["running", "shoes"]
    assert words_of(label=label) == ["2026", "annual", "report"]
    tag.name = "Trail shoes"
    tag.save()
    assert words_of(tag=tag) == ["shoes", "trail"]
    label.delete()
    assert not SearchWord.objects.filter(label_id__isnull=False).exists()


def test_a_renamed_tag_is_found_by_its_new_name_only():
    photo = create_image(solid_image_bytes(), title="IMG_0042", name="img.png")
    add_smart_tags(photo, [("sneakers", 0.8)])
    assert titles(get_image_model().objects.search("sneakers")) == ["IMG_0042"]
    tag = Tag.objects.get(name="sneakers")
    tag.name = "trainers"
    tag.save()
    assert titles(get_image_model().objects.search("sneakers")) == []
    assert titles(get_image_model().objects.search("trainers")) == ["IMG_0042"]
    assert titles(get_image_model().objects.autocomplete("train")) == ["IMG_0042"]


def test_tags_created_in_bulk_are_indexed_by_the_repair_and_the_rebuild():
    Tag.objects.bulk_create([Tag(name="Blue jeans", slug="blue-jeans"), Tag(name="jeans", slug="jeans")])
    assert names_matching_terms(["jeans"]) == ({}, {})  # bulk_create sends no signal
    assert index_unindexed_words() == 2
    assert index_unindexed_words() == 0
    found, _ = names_matching_terms(["jeans"])
    assert set(found) == set(Tag.objects.filter(name__in=["Blue jeans", "jeans"]).values_list("pk", flat=True))
    rebuild_search_words()
    assert names_matching_terms(["jeans"])[0] == found


def test_prefixes_match_the_words_they_start_and_nothing_else():
    shoes = Tag.objects.create(name="running shoes")
    runner = Tag.objects.create(name="Runner")
    Tag.objects.create(name="rerun")
    label = SmartTagLabel.objects.create(name="runway show")
    assert names_matching_terms(["run"], prefix=True) == ({shoes.pk: {0}, runner.pk: {0}}, {label.pk: {0}})
    assert names_matching_terms(["run"]) == ({}, {})
    assert names_matching_terms(["show", "runner"], prefix=True) == ({runner.pk: {1}}, {label.pk: {0}})


def test_a_search_looks_terms_up_in_the_word_index_not_in_the_tag_names():
    photo = create_image(solid_image_bytes(), title="IMG_0043", name="img.png")
    add_smart_tags(photo, [("coffee", 0.7)])
    with CaptureQueriesContext(connection) as queries:
        results = get_image_model().objects.autocomplete("coff")
        assert results.count() == 1 and titles(results[:30]) == ["IMG_0043"]
    scans = [query["sql"] for query in queries if "taggit_tag" in query["sql"] and "LIKE" in query["sql"].upper()]
    assert scans == []
