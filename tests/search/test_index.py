"""Smart tags in the site's own search index (search.index), as Elasticsearch and OpenSearch sites use them.

Run on the database backends: the wrapped backend itself, not the smart-tag wrapper, must find an asset
by the smart tags its model indexes, and stop finding it when they go.
"""

import os

import pytest
from wagtail.images import get_image_model
from wagtail.search.backends import get_search_backend

from wagtail_smarttags.models import SmartTag
from wagtail_smarttags.moderation import remove_smart_tag
from wagtail_smarttags.search.index import indexes_smart_tags, smart_tags_search_field
from wagtail_smarttags.training.service import request_training

from ..datasets import clothing_images
from ..factories import create_image, create_tag_model

# InnoDB's FULLTEXT indexes see committed rows only: on MariaDB these tests commit.
pytestmark = pytest.mark.django_db(transaction=os.environ.get("SMARTTAGS_TEST_DATABASE") == "mysql")


@pytest.fixture
def indexed_model(monkeypatch):
    """The test image model as a site declares it: search_fields = ... + [smart_tags_search_field()]."""
    model = get_image_model()
    monkeypatch.setattr(model, "search_fields", [*model.search_fields, smart_tags_search_field(boost=2)])
    assert indexes_smart_tags(model)
    return model


def engine_finds(model, query):
    """What the site's own engine (the wrapped database backend, without the smart-tag tiers) returns."""
    return {asset.pk for asset in get_search_backend("wagtail.search.backends.database").search(query, model)}


@pytest.fixture
def tag_model(django_capture_on_commit_callbacks):
    tag_model = create_tag_model("Headwear or footwear", clothing_images("train", ["hat", "shoes"], per_class=10))
    with django_capture_on_commit_callbacks(execute=True):
        request_training(tag_model, run_now=True)
    return tag_model


def tagged_upload(garment, title, capture):
    """An unseen photo of ``garment``, uploaded and tagged with everything that runs once it commits."""
    [photo] = clothing_images("validation", [garment], per_class=1)[garment]
    with capture(execute=True):
        return create_image(photo, title=title)


def test_the_engine_finds_assets_by_indexed_smart_tags_and_follows_their_changes(
    indexed_model, tag_model, django_capture_on_commit_callbacks
):
    upload = tagged_upload("hat", "Upload 1", django_capture_on_commit_callbacks)
    hat = SmartTag.objects.for_asset(upload).get(tag__name="hat")
    assert upload.pk in engine_finds(indexed_model, "hat"), "indexed once the upload was tagged"

    with django_capture_on_commit_callbacks(execute=True):
        remove_smart_tag(hat, user=None)
    assert upload.pk not in engine_finds(indexed_model, "hat"), "a removed smart tag leaves the index"


def test_a_deleted_tag_model_takes_its_tags_out_of_the_index(
    indexed_model, tag_model, django_capture_on_commit_callbacks
):
    upload = tagged_upload("shoes", "Upload 2", django_capture_on_commit_callbacks)
    assert upload.pk in engine_finds(indexed_model, "shoes")
    with django_capture_on_commit_callbacks(execute=True):
        tag_model.delete()
    assert upload.pk not in engine_finds(indexed_model, "shoes")


def test_without_the_field_nothing_is_indexed_or_re_indexed(tag_model, django_capture_on_commit_callbacks):
    model = get_image_model()
    assert not indexes_smart_tags(model)
    upload = tagged_upload("hat", "Upload 3", django_capture_on_commit_callbacks)
    assert SmartTag.objects.for_asset(upload).filter(tag__name="hat").exists()
    assert upload.pk not in engine_finds(model, "hat"), "the engine alone knows only the metadata"
