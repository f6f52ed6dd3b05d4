"""The foundation's vertical slice on real clothing photographs: train, upload, tag, moderate."""

import os

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from wagtail.images import get_image_model

from wagtail_smarttags.models import EmbeddingCache, SmartTag, TaggingState, TagModel, TrainingVersion
from wagtail_smarttags.training.service import request_training

from ..datasets import clothing_images
from ..factories import create_image, create_tag_model, solid_image_bytes
from ..helpers import assert_tagged_by_active_version, smart_tags_of, state_of, uploaded

pytestmark = pytest.mark.django_db(transaction=False)

CLASSES = ["hat", "shoes", "pants"]


def unseen_hat():
    return clothing_images("validation", ["hat"], per_class=1)["hat"][0]


@pytest.mark.cold_cache
def test_first_tagging_embeds_and_caches(django_capture_on_commit_callbacks):
    path = clothing_images("validation", ["hat"], per_class=1)["hat"][0]
    image = uploaded(django_capture_on_commit_callbacks, create_image, path)
    assert state_of(image).status == TaggingState.Status.DONE
    assert EmbeddingCache.objects.filter(file_hash=state_of(image).file_hash).count() == 1


@pytest.fixture
def garments(django_capture_on_commit_callbacks):
    """A tag model trained on 10 real examples of three garments."""
    tag_model = create_tag_model("Garments", clothing_images("train", CLASSES, per_class=10))
    with django_capture_on_commit_callbacks(execute=True):
        request_training(tag_model)
    tag_model.refresh_from_db()
    return tag_model





def test_training_records_a_version_with_per_tag_metrics(garments):
    assert garments.status == TagModel.Status.TRAINED
    version = garments.active_version
    assert version.status == TrainingVersion.Status.SUCCEEDED
    assert version.backbone_id.startswith("efficientnet-lite0")
    arrays = version.get_parameters()
    assert all(array.dtype != object for array in arrays.values())
    metrics = version.metrics["tags"]
    assert sorted(tag["name"] for tag in metrics.values()) == sorted(CLASSES)
    for tag in metrics.values():
        assert tag["examples"] == 10
        assert tag["status"] == "trained"
        assert 0 <= tag["precision"] <= 1 and 0 <= tag["recall"] <= 1
    # The examples' embeddings are cached for the next training and the library re-tag.
    hashes = {example.image.get_file_hash() for example in garments.examples.select_related("image")}
    assert EmbeddingCache.objects.filter(file_hash__in=hashes, backbone_id=version.backbone_id).count() == 30


def test_unseen_uploads_get_the_right_smart_tags(garments, django_capture_on_commit_callbacks):
    unseen = clothing_images("validation", CLASSES, per_class=4)
    correct = 0
    for truth, paths in unseen.items():
        for path in paths:
            image = uploaded(django_capture_on_commit_callbacks, create_image, path)
            assert state_of(image).status == TaggingState.Status.DONE
            tags = list(smart_tags_of(image, SmartTag.Source.TRAINED))
            assert len(tags) <= 1, "tags of one model are exclusive"
            for smart_tag in tags:
                assert 0 < smart_tag.confidence <= 1
                assert smart_tag.source == SmartTag.Source.TRAINED
                assert smart_tag.version == garments.active_version
                assert smart_tag.tag_model == garments
            correct += any(smart_tag.tag.name == truth for smart_tag in tags)
    assert correct >= 10, f"only {correct} of 12 unseen images got their garment"


def test_an_image_that_fits_no_tag_gets_none(garments, django_capture_on_commit_callbacks):
    green = solid_image_bytes((40, 160, 40))
    image = uploaded(django_capture_on_commit_callbacks, create_image, green, name="green.png")
    assert state_of(image).status == TaggingState.Status.DONE
    assert not smart_tags_of(image, SmartTag.Source.TRAINED).exists()


def test_editor_decisions_survive_retagging_and_retraining(garments, django_capture_on_commit_callbacks):
    path = clothing_images("validation", ["hat"], per_class=1)["hat"][0]
    image = uploaded(django_capture_on_commit_callbacks, create_image, path)
    smart_tag = smart_tags_of(image, SmartTag.Source.TRAINED).get()
    smart_tag.state = SmartTag.State.REMOVED
    smart_tag.save()

    from wagtail_smarttags.pipeline.tagging import tag_asset

    tag_asset(ContentType.objects.get_for_model(image).pk, image.pk)
    assert smart_tags_of(image, SmartTag.Source.TRAINED).get().state == SmartTag.State.REMOVED

    with django_capture_on_commit_callbacks(execute=True):
        version = request_training(garments)
    assert version.status in (TrainingVersion.Status.QUEUED, TrainingVersion.Status.SUCCEEDED)
    garments.refresh_from_db()
    assert garments.active_version.number == 2
    survivor = smart_tags_of(image, SmartTag.Source.TRAINED).get()
    assert survivor.state == SmartTag.State.REMOVED
    assert survivor.version.number == 1, "the version that made the decision, which version 2 repeats"
    assert state_of(image).model_versions == {str(garments.pk): garments.active_version.pk}


def test_retraining_retags_the_library_from_cached_embeddings(garments, django_capture_on_commit_callbacks):
    paths = clothing_images("validation", CLASSES, per_class=1)
    images = [uploaded(django_capture_on_commit_callbacks, create_image, p) for group in paths.values() for p in group]
    cached = EmbeddingCache.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        request_training(garments)
    assert EmbeddingCache.objects.count() == cached
    assert_tagged_by_active_version(images, garments)


def test_replacing_the_file_retags_but_editing_the_title_does_not(garments, django_capture_on_commit_callbacks):
    hat, shoe = clothing_images("validation", ["hat", "shoes"], per_class=1).values()
    image = uploaded(django_capture_on_commit_callbacks, create_image, hat[0])
    assert smart_tags_of(image, SmartTag.Source.TRAINED).get().tag.name == "hat"
    first_tagged = state_of(image).tagged_at

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        image.title = "A new title"
        image.save()
    assert callbacks == []
    assert state_of(image).tagged_at == first_tagged

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        image.file.save(shoe[0].name, ContentFile(shoe[0].read_bytes()), save=False)
        image.width, image.height = 400, 400
        image.save()
    assert len(callbacks) == 1
    assert [t.tag.name for t in smart_tags_of(image, SmartTag.Source.TRAINED)] == ["shoes"]


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("empty.jpg", b"", "empty"),
        ("notes.jpg", b"This is a text file, not a photograph.\n" * 20, "not an image"),
        ("truncated.jpg", None, "truncated"),
    ],
)
def test_bad_files_fail_with_a_readable_error_and_touch_nothing_else(
    garments, django_capture_on_commit_callbacks, name, data, message
):
    good = uploaded(django_capture_on_commit_callbacks, create_image, unseen_hat())
    before = list(smart_tags_of(good, SmartTag.Source.TRAINED).values_list("tag__name", "confidence", "state"))
    if data is None:
        data = clothing_images("validation", ["shoes"], per_class=1)["shoes"][0].read_bytes()[:2000]
    bad = uploaded(django_capture_on_commit_callbacks, create_image, data, name=name, width=10, height=10)
    assert get_image_model().objects.filter(pk=bad.pk).exists(), "the upload itself succeeds"
    state = state_of(bad)
    assert state.status == TaggingState.Status.FAILED
    assert message in state.error.lower()
    assert not smart_tags_of(bad, SmartTag.Source.TRAINED).exists()
    assert list(smart_tags_of(good, SmartTag.Source.TRAINED).values_list("tag__name", "confidence", "state")) == before


def test_oversized_files_are_refused_before_reading(garments, django_capture_on_commit_callbacks, settings):
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "MAX_FILE_SIZE": 1000}
    image = uploaded(django_capture_on_commit_callbacks, create_image, unseen_hat())
    state = state_of(image)
    assert state.status == TaggingState.Status.FAILED
    assert "more than the 1,000 bytes allowed" in state.error


def test_deleting_an_asset_forgets_its_smart_tags(garments, django_capture_on_commit_callbacks):
    image = uploaded(django_capture_on_commit_callbacks, create_image, unseen_hat())
    assert smart_tags_of(image, SmartTag.Source.TRAINED).exists()
    content_type, pk = ContentType.objects.get_for_model(image), image.pk
    image.delete()
    assert not SmartTag.objects.filter(content_type=content_type, object_id=pk).exists()
    assert not TaggingState.objects.filter(content_type=content_type, object_id=pk).exists()


def test_a_storage_without_local_paths_is_read_through_a_temporary_copy(
    garments, django_capture_on_commit_callbacks, settings
):
    # As with S3: the reader child opens files by path, so the pipeline copies the file for it.
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}
    image = uploaded(django_capture_on_commit_callbacks, create_image, unseen_hat())
    assert not os.path.exists(image.file.path), "the image is only in memory"
    assert state_of(image).status == TaggingState.Status.DONE, state_of(image).error
    assert smart_tags_of(image, SmartTag.Source.TRAINED).filter(tag__name="hat").exists()


def test_training_learns_from_the_library_in_the_embedding_cache(django_capture_on_commit_callbacks, settings):
    """The site's own uploads, already embedded, are what a new model learns its tags are not."""
    look_alikes = clothing_images("train", ["shorts", "longsleeve"], per_class=25)
    for paths in look_alikes.values():
        for path in paths:
            uploaded(django_capture_on_commit_callbacks, create_image, path)
    other_model = create_tag_model("Headwear", clothing_images("train", ["hat", "dress"], per_class=3, offset=30))
    tag_model = create_tag_model("Garments", clothing_images("train", ["pants", "t-shirt"], per_class=10))
    with django_capture_on_commit_callbacks(execute=True):
        version = request_training(tag_model)
    version.refresh_from_db()
    metrics = version.metrics
    cached = EmbeddingCache.objects.filter(backbone_id=version.backbone_id).count()
    # Every image cached when training began (the 50 uploads at least: fewer than TRAINING_LIBRARY_SIZE), and
    # the other model's examples, which training embeds if they were not yet.
    assert 50 + 6 <= metrics["library_images"] <= cached + other_model.examples.count()
    assert metrics["background_classes"] >= 2
    tag_model.refresh_from_db()
    assert tag_model.active_version == version

    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "TRAINING_LIBRARY_SIZE": 0}
    with django_capture_on_commit_callbacks(execute=True):
        without = request_training(tag_model)
    without.refresh_from_db()
    assert without.metrics["library_images"] == 0 and without.metrics["background_classes"] == 0
