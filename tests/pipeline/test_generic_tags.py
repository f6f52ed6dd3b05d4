"""Generic tags: labels from the backbone itself, before any training, that never override a trained model."""

import json

import numpy as np
import pytest
from django.contrib.contenttypes.models import ContentType
from PIL import Image
from taggit.models import Tag

from wagtail_smarttags.ml.backbones.base import top_labels
from wagtail_smarttags.ml.backbones.efficientnet_lite import imagenet_labels
from wagtail_smarttags.ml.labels import choose_generic_labels, mean_label_scores
from wagtail_smarttags.models import SmartTag, SmartTagLabel, TaggingState
from wagtail_smarttags.pipeline.cycles import run_cycle
from wagtail_smarttags.pipeline.loading import reset_backbones
from wagtail_smarttags.training.service import request_training
from wagtail_smarttags.wagtail_hooks import moderation_url

from ..datasets import clothing_images
from ..factories import create_image, create_tag_model, solid_image_bytes
from ..helpers import smart_tags_by_name, uploaded

# (class folder, ImageNet label, validation photos whose top ImageNet class is that label at over 0.9).
T_SHIRT = ("t-shirt", "T-shirt", (1, 4))
JEANS = ("pants", "jeans", (2, 4))


def unseen(garment, which=0):
    index = garment[2][which]
    return clothing_images("validation", [garment[0]], per_class=index + 1)[garment[0]][index]


# Labels, no database ---------------------------------------------------------------------


def test_repeated_labels_add_up_and_rank():
    probabilities = np.array([[0.1, 0.5, 0.4], [0.6, 0.1, 0.3]])
    assert top_labels(probabilities, ["a", "b", "a"], 2) == [
        [("a", pytest.approx(0.5)), ("b", pytest.approx(0.5))],
        [("a", pytest.approx(0.9)), ("b", pytest.approx(0.1))],
    ]
    assert top_labels(probabilities, ["a", "b", "c"], 0) == [[], []]


def test_imagenet_labels_are_readable_and_complete():
    labels = imagenet_labels()
    assert len(labels) == 1000 and len(set(labels)) == 998  # "missile" and "sunglasses" twice
    assert labels[0] == "tench" and "T-shirt" in labels and "jeans" in labels
    assert all(label.strip() == label and "_" not in label for label in labels)


def test_frames_scores_are_averaged_over_the_whole_video():
    frames = [[("cat", 0.9), ("dog", 0.1)], [("cat", 0.7)], [("car", 0.8)], [("cat", 0.6)]]
    assert mean_label_scores(frames) == pytest.approx({"cat": 0.55, "dog": 0.025, "car": 0.2})
    assert choose_generic_labels(frames, 0.1, 5) == [("cat", pytest.approx(0.55)), ("car", pytest.approx(0.2))]
    assert choose_generic_labels(frames, 0.1, 1) == [("cat", pytest.approx(0.55))]
    assert choose_generic_labels(frames, 0.1, 5, excluded={"cat"}) == [("car", pytest.approx(0.2))]
    assert choose_generic_labels([], 0.1, 5) == []


def test_the_default_backbone_labels_images_in_the_same_pass_it_embeds_them(backbone):
    images = [Image.open(unseen(T_SHIRT)).convert("RGB"), Image.open(unseen(JEANS)).convert("RGB")]
    vectors, labels = backbone.embed_with_labels(images, top_k=3)
    assert np.array_equal(vectors, backbone.embed(images))
    assert [row[0][0] for row in labels] == [T_SHIRT[1], JEANS[1]]
    for row in labels:
        assert len(row) == 3 and row[0][1] >= row[1][1] >= row[2][1] and 0 < sum(p for _, p in row) <= 1


# Through the pipeline --------------------------------------------------------------------




@pytest.mark.django_db
def test_uploads_get_generic_tags_without_any_training(django_capture_on_commit_callbacks):
    image = uploaded(django_capture_on_commit_callbacks, create_image, unseen(T_SHIRT))
    generic = smart_tags_by_name(image, SmartTag.Source.GENERIC)
    assert T_SHIRT[1] in generic
    assert all(0.3 <= row.confidence <= 1 and row.state == SmartTag.State.APPLIED for row in generic.values())
    assert len(generic) <= 3
    # "T-shirt" is none of the site's tags: the smart tag is of the app's own label, and the site's
    # vocabulary (what the tag autocomplete suggests) is unchanged.
    assert generic[T_SHIRT[1]].tag is None and generic[T_SHIRT[1]].label.name == T_SHIRT[1]
    assert not Tag.objects.exists() and SmartTagLabel.objects.filter(name=T_SHIRT[1]).exists()


@pytest.mark.django_db
def test_generic_tags_follow_their_own_threshold_and_cap(settings, django_capture_on_commit_callbacks):
    settings.WAGTAIL_SMARTTAGS = {
        **settings.WAGTAIL_SMARTTAGS, "GENERIC_MIN_CONFIDENCE": 0.0, "GENERIC_MAX_TAGS": 5,
    }  # fmt: skip
    image = uploaded(django_capture_on_commit_callbacks, create_image, unseen(JEANS))
    assert len(smart_tags_by_name(image, SmartTag.Source.GENERIC)) == 5
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "GENERIC_MIN_CONFIDENCE": 0.99}
    run_cycle(everything=True)
    assert smart_tags_by_name(image, SmartTag.Source.GENERIC) == {}


@pytest.mark.django_db
def test_switching_generic_tags_off_removes_them_but_keeps_editors_decisions(
    settings, django_capture_on_commit_callbacks
):
    settings.WAGTAIL_SMARTTAGS = {
        **settings.WAGTAIL_SMARTTAGS, "GENERIC_MIN_CONFIDENCE": 0.0, "GENERIC_MAX_TAGS": 3,
    }  # fmt: skip
    image = uploaded(django_capture_on_commit_callbacks, create_image, unseen(T_SHIRT))
    generic = smart_tags_by_name(image, SmartTag.Source.GENERIC)
    assert len(generic) == 3
    promoted, removed, *_ = generic.values()
    SmartTag.objects.filter(pk=promoted.pk).update(state=SmartTag.State.PROMOTED)
    SmartTag.objects.filter(pk=removed.pk).update(state=SmartTag.State.REMOVED)

    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "GENERIC_TAGS": False}
    run_cycle(everything=True)
    left = smart_tags_by_name(image, SmartTag.Source.GENERIC)
    assert {name: row.state for name, row in left.items()} == {
        promoted.name: SmartTag.State.PROMOTED,
        removed.name: SmartTag.State.REMOVED,
    }

    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "GENERIC_TAGS": True}
    run_cycle(everything=True)
    assert smart_tags_by_name(image, SmartTag.Source.GENERIC)[removed.name].state == SmartTag.State.REMOVED


@pytest.mark.django_db
def test_a_trained_model_decides_on_its_own_tags(django_capture_on_commit_callbacks):
    image = uploaded(django_capture_on_commit_callbacks, create_image, unseen(T_SHIRT, which=1))
    assert T_SHIRT[1] in smart_tags_by_name(image, SmartTag.Source.GENERIC)

    # A model whose tags carry the same names as ImageNet labels: from now on it alone decides them.
    examples = clothing_images("train", [T_SHIRT[0], JEANS[0], "shoes"], per_class=10)
    names = {T_SHIRT[0]: T_SHIRT[1], JEANS[0]: JEANS[1], "shoes": "shoes"}
    tag_model = create_tag_model("Garments", {names[truth]: paths for truth, paths in examples.items()})
    with django_capture_on_commit_callbacks(execute=True):
        request_training(tag_model)
    model_tags = {T_SHIRT[1].lower(), JEANS[1].lower(), "shoes"}

    for asset in [image, uploaded(django_capture_on_commit_callbacks, create_image, unseen(JEANS, which=1))]:
        generic = smart_tags_by_name(asset, SmartTag.Source.GENERIC)
        assert not model_tags & {name.lower() for name in generic}, generic
        trained = smart_tags_by_name(asset, SmartTag.Source.TRAINED)
        assert set(trained) <= {T_SHIRT[1], JEANS[1], "shoes"}
    assert TaggingState.objects.filter(status=TaggingState.Status.DONE).count() >= 2


@pytest.mark.django_db
def test_the_moderation_screen_shows_generic_tags_apart(admin_client, settings, django_capture_on_commit_callbacks):
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "GENERIC_MIN_CONFIDENCE": 0.01}
    image = uploaded(django_capture_on_commit_callbacks, create_image, unseen(T_SHIRT))
    content_type = ContentType.objects.get_for_model(image)
    SmartTag.objects.create(
        content_type=content_type,
        object_id=image.pk,
        tag=Tag.objects.create(name="Summer range"),
        confidence=0.8,
        source=SmartTag.Source.TRAINED,
    )
    html = admin_client.get(moderation_url("image", image.pk)).content.decode()
    own, generic = html.split('data-smarttags-group="generic"')
    assert 'data-smarttags-group="own"' in own and "Summer range" in own and T_SHIRT[1] not in own
    assert "Generic tags" in generic and T_SHIRT[1] in generic and "Summer range" not in generic


# OpenCLIP zero-shot over the site's taxonomy ---------------------------------------------

TINY_MODEL = "smarttags-generic-tiny"
TINY_CONFIG = {
    "embed_dim": 48,
    "vision_cfg": {"image_size": 64, "layers": 2, "width": 64, "patch_size": 16},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}


@pytest.fixture
def open_clip_backbone(settings, tmp_path):
    open_clip = pytest.importorskip("open_clip")
    config = tmp_path / f"{TINY_MODEL}.json"
    config.write_text(json.dumps(TINY_CONFIG))
    open_clip.add_model_config(config)
    settings.WAGTAIL_SMARTTAGS = {
        **settings.WAGTAIL_SMARTTAGS,
        "IMAGE_BACKBONE": {"BACKEND": "open_clip", "OPTIONS": {"model_name": TINY_MODEL, "pretrained": None}},
        "GENERIC_MIN_CONFIDENCE": 0.0,
        "GENERIC_MAX_TAGS": 2,
    }
    reset_backbones()
    yield
    reset_backbones()


@pytest.mark.django_db
def test_open_clip_scores_the_sites_own_taxonomy(open_clip_backbone, django_capture_on_commit_callbacks):
    taxonomy = {"harbour", "mountain", "portrait", "festival"}
    for name in taxonomy:
        Tag.objects.create(name=name)
    image = uploaded(django_capture_on_commit_callbacks, create_image, solid_image_bytes((200, 40, 40)))
    generic = smart_tags_by_name(image, SmartTag.Source.GENERIC)
    # Random weights choose arbitrarily, but only among the taxonomy, and with softmax confidences.
    assert len(generic) == 2 and set(generic) <= taxonomy
    assert 0 < sum(row.confidence for row in generic.values()) <= 1


@pytest.mark.django_db
def test_generic_labels_setting_limits_zero_shot_candidates(
    open_clip_backbone, settings, django_capture_on_commit_callbacks
):
    Tag.objects.create(name="unrelated")
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "GENERIC_LABELS": ["sea", "sky"]}
    image = uploaded(django_capture_on_commit_callbacks, create_image, solid_image_bytes((40, 40, 200)))
    assert set(smart_tags_by_name(image, SmartTag.Source.GENERIC)) == {"sea", "sky"}


# Ensembles ---------------------------------------------------------------------------------


def test_an_ensemble_averages_its_networks_imagenet_probabilities():
    from wagtail_smarttags.ml.backbones import load_backbone

    ensemble = load_backbone(
        "ensemble",
        {
            "members": [
                {"BACKEND": "efficientnet_lite", "OPTIONS": {"variant": "lite0", "views": ["pad"], "threads": 1}},
                {"BACKEND": "efficientnet_lite", "OPTIONS": {"variant": "lite0", "views": ["crop"], "threads": 1}},
            ]
        },
    )
    images = [Image.open(unseen(T_SHIRT)).convert("RGB"), Image.open(unseen(JEANS)).convert("RGB")]
    vectors, labels = ensemble.embed_with_labels(images, top_k=4)
    assert np.allclose(vectors, ensemble.embed(images), atol=1e-6)
    # Both members label the centre crop (the "pad" member in an extra pass), so the average is the same.
    expected = top_labels(ensemble.members[1].imagenet_probabilities(images), imagenet_labels(), 4)
    assert [[name for name, _ in row] for row in labels] == [[name for name, _ in row] for row in expected]
    assert labels[0][0][1] == pytest.approx(expected[0][0][1], abs=1e-5)


def test_an_ensemble_scores_text_with_its_open_clip_member_on_its_own_part_of_each_vector(
    open_clip_backbone, backbone
):
    from wagtail_smarttags.ml.backbones.ensemble import EnsembleBackbone
    from wagtail_smarttags.pipeline.loading import get_backbone

    clip = get_backbone()
    ensemble = EnsembleBackbone.__new__(EnsembleBackbone)  # members already loaded, no second model
    ensemble.members = [backbone, clip]
    images = [Image.new("RGB", (64, 64), (200, 40, 40)), Image.new("RGB", (90, 50), (20, 20, 220))]
    vectors = (np.concatenate([backbone.embed(images), clip.embed(images)], axis=1) / np.sqrt(2)).astype(np.float32)
    labels = ["harbour", "mountain", "portrait"]
    assert ensemble.supports_zero_shot and ensemble.has_fixed_labels
    scored = ensemble.zero_shot(vectors, labels, top_k=3)
    expected = clip.zero_shot(clip.embed(images), labels, top_k=3)
    assert [[name for name, _ in row] for row in scored] == [[name for name, _ in row] for row in expected]
    assert [score for _, score in scored[0]] == pytest.approx([score for _, score in expected[0]], abs=1e-4)
