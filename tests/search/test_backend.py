"""The smart-tag search backend wrapper, on the database backend of whichever database the run uses."""

import os

import pytest
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from taggit.models import Tag
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import Collection, Page
from wagtail.search.backends import get_search_backend

from wagtail_smarttags.models import SmartTag
from wagtail_smarttags.search.backend import SmartTagSearchBackend, split_terms
from wagtail_smarttags.search.words import names_matching_terms

from ..factories import add_smart_tags, create_image, root_collection, solid_image_bytes

# InnoDB applies FULLTEXT index changes at commit: on MySQL, searches only see committed rows.
pytestmark = pytest.mark.django_db(transaction=os.environ.get("SMARTTAGS_TEST_DATABASE") == "mysql")

SMART_SEARCH = {
    "default": {
        "BACKEND": "wagtail_smarttags.search.backend",
        "WRAPPED_BACKEND": "wagtail.search.backends.database",
    }
}


@pytest.fixture(autouse=True)
def smart_search_backend(settings):
    settings.WAGTAILSEARCH_BACKENDS = SMART_SEARCH
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "AUTO_TAG": False}


def image(title, tags=(), smart=(), collection=None):
    """An image with ordinary ``tags`` and ``smart`` tags: ``[(name, confidence[, state])]``."""
    created = create_image(solid_image_bytes(), title=title, name=f"{title[:20]}.png")
    if collection is not None:
        created.collection = collection
        created.save()
    if tags:
        created.tags.add(*tags)
        created.save()  # re-index with the tags, as the admin's edit form does
    add_smart_tags(created, smart)
    return created


@pytest.fixture
def library():
    """The product's example: a search for "woman running". A promoted smart tag is also an ordinary tag."""
    return {
        "title_both": image("Woman running in the park"),
        "tags_both": image("Portrait at dawn", tags=["woman", "running"]),
        "promoted_both": image(
            "Track day", tags=["woman", "running"], smart=[("running", 0.4, SmartTag.State.PROMOTED)]
        ),
        "smart_both_high": image("IMG_0001", smart=[("woman", 0.9), ("running", 0.8)]),
        "smart_both_low": image("IMG_0002", smart=[("woman", 0.6), ("running", 0.7)]),
        "smart_running": image("IMG_0003", smart=[("running", 0.99), ("hat", 0.9)]),
        "title_woman_smart_running": image("Woman with a hat", smart=[("running shoes", 0.5)]),
        "smart_woman_low": image("IMG_0004", smart=[("woman", 0.2)]),
        "removed_only": image("IMG_0005", smart=[("running", 0.99, SmartTag.State.REMOVED)]),
        "title_woman_only": image("A woman"),
        "unrelated": image("Sunset", smart=[("sky", 0.9)]),
    }


def titles(results):
    return [item.title for item in results]


def test_groups_metadata_then_all_terms_in_smart_tags_then_any_term(library):
    results = get_image_model().objects.search("woman running")
    found = titles(results)
    assert set(found[:3]) == {"Woman running in the park", "Portrait at dawn", "Track day"}
    assert found[3:] == [
        "IMG_0001",  # both terms in smart tags, higher confidence
        "IMG_0002",
        "IMG_0003",  # one term, most confident first
        "Woman with a hat",
        "IMG_0004",
    ]
    assert "IMG_0005" not in found, "a removed smart tag never matches"
    assert "A woman" not in found, "metadata must match every term"
    assert results.count() == len(found) == 8


def test_autocomplete_matches_smart_tag_prefixes(library):
    found = titles(get_search_backend().autocomplete("woman runn", get_image_model()))
    assert found[3:5] == ["IMG_0001", "IMG_0002"]
    assert "IMG_0005" not in found


def test_slicing_count_and_paginator_agree_with_the_full_result(library):
    results = get_image_model().objects.search("woman running")
    everything = titles(results)
    fresh = get_image_model().objects.search("woman running")
    assert fresh.count() == 8
    assert titles(fresh[2:5]) == everything[2:5]
    assert fresh[4].title == everything[4]
    assert fresh[6:].count() == 2
    paginator = Paginator(get_image_model().objects.search("woman running"), 3)
    assert paginator.count == 8 and paginator.num_pages == 3
    pages = [titles(paginator.page(number).object_list) for number in (1, 2, 3)]
    assert pages == [everything[0:3], everything[3:6], everything[6:]]


def test_annotate_score_gives_smart_matches_their_confidence(library):
    results = list(get_image_model().objects.search("woman running").annotate_score("score"))
    by_title = {item.title: item.score for item in results}
    assert by_title["IMG_0001"] == pytest.approx(1.7)
    assert by_title["IMG_0003"] == pytest.approx(0.99)


def test_never_widens_the_given_queryset(library):
    private = Collection.get_first_root_node().add_child(name="Private")
    secret = image("Secret", smart=[("woman", 0.99), ("running", 0.99)], collection=private)
    secret_title = image("Secret woman running", collection=private)
    root_only = get_image_model().objects.filter(collection=Collection.get_first_root_node())
    found = titles(root_only.search("woman running"))
    assert secret.title not in found and secret_title.title not in found
    assert len(found) == 8
    assert "Secret" in titles(get_image_model().objects.search("woman running"))


def test_explicit_ordering_keeps_the_querysets_order_over_every_match(library):
    results = get_image_model().objects.order_by("title").search("woman running", order_by_relevance=False)
    assert titles(results) == sorted(titles(get_image_model().objects.search("woman running")))
    assert results.count() == 8


def test_documents_are_found_by_smart_tags_too():
    document_model = get_document_model()
    root = root_collection()
    report = document_model.objects.create(title="Annual report", file="documents/report.pdf", collection=root)
    notes = document_model.objects.create(title="Meeting notes", file="documents/notes.pdf", collection=root)
    add_smart_tags(notes, [("budget", 0.8)])
    add_smart_tags(report, [("budget", 0.3)])
    budget_title = document_model.objects.create(title="Budget 2026", file="documents/budget.pdf", collection=root)
    assert titles(document_model.objects.search("budget")) == [budget_title.title, "Meeting notes", "Annual report"]


def test_other_models_and_field_searches_pass_through_unchanged(library):
    backend = get_search_backend()
    assert isinstance(backend, SmartTagSearchBackend)
    wrapped_class = type(backend.wrapped.search("home", Page))
    assert type(backend.search("home", Page)) is wrapped_class
    by_title = titles(get_image_model().objects.search("woman running", fields=["title"]))
    assert by_title == titles(backend.wrapped.search("woman running", get_image_model(), fields=["title"]))
    if os.environ.get("SMARTTAGS_TEST_DATABASE") != "mysql":  # Wagtail's MySQL backend searches every field
        assert by_title == ["Woman running in the park"]


def test_the_admin_listing_and_chooser_use_smart_search(library, client):
    admin = get_user_model().objects.create_superuser("admin", "admin@example.com", "pw")
    client.force_login(admin)
    listing = client.get("/admin/images/", {"q": "woman running"})
    assert listing.status_code == 200
    listed = [image.title for image in listing.context["images"]]
    assert listed[3:5] == ["IMG_0001", "IMG_0002"] and "IMG_0005" not in listed
    chooser = client.get("/admin/images/chooser/results/", {"q": "woman running"})
    assert chooser.status_code == 200
    assert "IMG_0001" in chooser.content.decode() and "IMG_0005" not in chooser.content.decode()


def test_indexing_is_delegated_to_the_wrapped_backend(library):
    backend = get_search_backend()
    assert backend.rebuilder_class is backend.wrapped.rebuilder_class
    renamed = library["unrelated"]
    renamed.title = "Woman running at sunset"
    renamed.save()
    assert "Woman running at sunset" in titles(get_image_model().objects.search("woman running")[:4])


def test_terms_and_tag_matching():
    assert split_terms("Woman, RUNNING woman") == ["woman", "running"]
    shoes = Tag.objects.create(name="Running shoes")
    runner = Tag.objects.create(name="runner")
    assert names_matching_terms(["running"]) == ({shoes.pk: {0}}, {})
    assert names_matching_terms(["run"], prefix=True) == ({shoes.pk: {0}, runner.pk: {0}}, {})


def test_backends_that_are_not_database_queries_get_the_same_order(library, monkeypatch):
    """Elasticsearch and OpenSearch results are no querysets: the wrapper pages through them instead."""
    from wagtail_smarttags.search import backend as smart_backend

    expected = titles(get_image_model().objects.search("woman running"))
    monkeypatch.setattr(smart_backend, "supports_id_queries", lambda results: False)
    results = get_image_model().objects.search("woman running")
    assert results.count() == 8
    assert titles(results) == expected
    assert titles(get_image_model().objects.search("woman running")[2:5]) == expected[2:5]
    ordered = get_image_model().objects.order_by("title").search("woman running", order_by_relevance=False)
    assert titles(ordered) == sorted(expected)


@pytest.mark.parametrize("words", [90, 400])
def test_a_long_query_of_tag_words_is_answered(words, client):
    """Each word matches a tag: the query is searched by its first SMART_TAGS_MAX_TERMS words."""
    names = [f"word{index}" for index in range(words)]
    tagged = image("IMG_9000", smart=[(names[0], 0.9), (names[-1], 0.9)])
    for name in names[1:-1]:
        Tag.objects.create(name=name)
    query = " ".join(names)
    assert titles(get_image_model().objects.search(query)) == [tagged.title]
    admin = get_user_model().objects.create_superuser("admin", "admin@example.com", "pw")
    client.force_login(admin)
    assert client.get("/admin/images/", {"q": query}).status_code == 200


def wrapped_backend():
    """The database backend alone, as a site without the app has it, on the same index."""
    return get_search_backend("wagtail.search.backends.database")


@pytest.mark.parametrize("model_getter", [get_image_model, get_document_model], ids=["image", "document"])
def test_an_empty_field_list_matches_nothing_as_in_the_wrapped_backend(model_getter):
    model = model_getter()
    if model is get_image_model():
        image("The hobbit", smart=[("hobbit", 0.9)])
    else:
        document = get_document_model().objects.create(title="The hobbit", collection=root_collection())
        add_smart_tags(document, [("hobbit", 0.9)])
    smart = get_search_backend()
    assert list(smart.search("hobbit", model, fields=[])) == list(wrapped_backend().search(
        "hobbit", model, fields=[]
    )) == []  # fmt: skip
    assert list(smart.autocomplete("hob", model, fields=[])) == []
    assert len(smart.search("hobbit", model)) == 1, "without fields, the title and the smart tag both match"


def test_facets_count_every_match_where_the_wrapped_backend_counts_its_own():
    shelf = root_collection().add_child(name="Shelf")
    image("Hobbit at home", collection=shelf)
    image("IMG_0100", smart=[("hobbit", 0.9)], collection=shelf)
    image("IMG_0101", smart=[("hobbit", 0.8)])
    image("Hobbit in the root collection")
    metadata_only = wrapped_backend().search("hobbit", get_image_model()).facet("collection_id")
    assert dict(metadata_only) == {shelf.pk: 1, root_collection().pk: 1}
    facets = get_search_backend().search("hobbit", get_image_model()).facet("collection_id")
    assert dict(facets) == {shelf.pk: 2, root_collection().pk: 2}, "the smart-tag groups count too"
    assert list(facets.values()) == sorted(facets.values(), reverse=True)


def test_facet_on_a_field_that_is_not_a_filter_field_fails_as_wagtail_does():
    from wagtail.search.backends.base import FilterFieldError

    image("Hobbit", smart=[("hobbit", 0.9)])
    with pytest.raises(FilterFieldError):
        get_search_backend().search("hobbit", get_image_model()).facet("file_hash")


def test_the_metadata_group_keeps_the_wrapped_backends_order_and_ties_page_by_page():
    """Equal scores are broken as the wrapped backend breaks them (newest first), across the ids 9 to 10 too."""
    for number in range(24):
        image(f"Red scarf {number % 3}", smart=[("scarf", 0.5)] if number % 4 == 0 else ())
    image("IMG_0099", smart=[("scarf", 0.9)])
    backend = get_search_backend()
    queryset = get_image_model().objects.all()
    for method in ("search", "autocomplete"):
        term = "scarf" if method == "search" else "sca"
        mine = getattr(backend, method)(term, queryset)
        theirs = getattr(backend.wrapped, method)(term, queryset)
        expected = [item.pk for item in theirs]
        assert len(expected) == 24
        assert [item.pk for item in mine[:10]] + [item.pk for item in mine[10:24]] == expected
        assert mine.count() == 25 and [item.title for item in mine[24:]] == ["IMG_0099"]
