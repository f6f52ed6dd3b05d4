"""The OpenCLIP backbone, on a tiny randomly initialised model (nothing can be downloaded here).

The tiny architecture is registered through OpenCLIP's own ``add_model_config``; it has the
real CLIP structure (ViT image tower, transformer text tower, BPE tokenizer) at a size that
builds in a fraction of a second. No database.
"""

import importlib
import json
import sys

import numpy as np
import pytest
from PIL import Image

from wagtail_smarttags.ml.backbones.base import ImageBackbone
from wagtail_smarttags.ml.backbones.open_clip import OpenCLIPBackbone
from wagtail_smarttags.ml.errors import BackboneLoadError, MissingDependencyError

open_clip = pytest.importorskip("open_clip")
torch = pytest.importorskip("torch")

TINY_MODEL = "smarttags-test-tiny"
TINY_CONFIG = {
    "embed_dim": 48,
    "vision_cfg": {"image_size": 64, "layers": 2, "width": 64, "patch_size": 16},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}


@pytest.fixture(scope="module", autouse=True)
def tiny_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("open_clip_config") / f"{TINY_MODEL}.json"
    path.write_text(json.dumps(TINY_CONFIG))
    open_clip.add_model_config(path)
    # Two threads fighting over two busy cores make small models many times slower.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield TINY_MODEL
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def backbone():
    return OpenCLIPBackbone(model_name=TINY_MODEL, pretrained=None)


def pictures():
    """Three visibly different images of different sizes and shapes."""
    stripes = Image.new("RGB", (120, 80), (255, 255, 255))
    for x in range(0, 120, 20):
        stripes.paste((0, 0, 0), (x, 0, x + 10, 80))
    gradient = Image.fromarray(np.tile(np.linspace(0, 255, 90, dtype=np.uint8), (50, 1))).convert("RGB")
    return [Image.new("RGB", (64, 64), (255, 0, 0)), stripes, gradient]


def test_is_an_image_backbone_named_open_clip(backbone):
    assert isinstance(backbone, ImageBackbone)
    assert backbone.name == "open_clip"


def test_the_settings_alias_names_this_class():
    from wagtail_smarttags.conf import BACKBONE_ALIASES

    module_path, class_name = BACKBONE_ALIASES["open_clip"].rsplit(".", 1)
    assert getattr(importlib.import_module(module_path), class_name) is OpenCLIPBackbone


def test_dimension_and_input_size_come_from_the_config_without_building_the_model():
    fresh = OpenCLIPBackbone(model_name=TINY_MODEL)
    assert fresh.dimension == 48
    assert fresh.input_size == 64
    assert fresh._model is None


def test_preprocess_uses_open_clips_evaluation_transform(backbone):
    batch = backbone.preprocess([Image.new("RGB", (200, 100), (255, 255, 255)), Image.new("RGB", (30, 90))])
    assert batch.shape == (2, 3, 64, 64)
    assert batch.dtype == torch.float32
    mean, std = np.array(open_clip.OPENAI_DATASET_MEAN), np.array(open_clip.OPENAI_DATASET_STD)
    np.testing.assert_allclose(batch[0, :, 32, 32].numpy(), (1 - mean) / std, atol=1e-4)
    np.testing.assert_allclose(batch[1, :, 32, 32].numpy(), -mean / std, atol=1e-4)


def test_embeddings_are_l2_normalised_float32_rows(backbone):
    vectors = backbone.embed(pictures())
    assert vectors.shape == (3, 48)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert np.abs(vectors[0] - vectors[1]).max() > 1e-3, "different images get different vectors"
    assert backbone.embed([]).shape == (0, 48)


def test_an_image_embeds_the_same_alone_and_in_a_batch(backbone):
    images = pictures()
    together = backbone.embed(images)
    for index, image in enumerate(images):
        np.testing.assert_allclose(backbone.embed([image])[0], together[index], atol=1e-5)


def test_random_weights_are_the_same_in_every_instance_and_leave_the_global_rng_alone():
    state = torch.random.get_rng_state()
    first = OpenCLIPBackbone(model_name=TINY_MODEL).embed(pictures())
    second = OpenCLIPBackbone(model_name=TINY_MODEL).embed(pictures())
    np.testing.assert_array_equal(first, second)
    assert torch.equal(torch.random.get_rng_state(), state)


def test_the_id_names_the_model_and_its_weights(backbone):
    assert backbone.id == OpenCLIPBackbone(model_name=TINY_MODEL, pretrained=None).id
    tagged = OpenCLIPBackbone(model_name="ViT-B-32", pretrained="laion2b_s34b_b79k")
    assert "ViT-B-32" in tagged.id and "laion2b_s34b_b79k" in tagged.id
    ids = {
        backbone.id,
        tagged.id,
        OpenCLIPBackbone(model_name="ViT-B-32", pretrained="openai").id,
        OpenCLIPBackbone(model_name="ViT-B-16", pretrained="laion2b_s34b_b88k").id,
        OpenCLIPBackbone(model_name="ViT-B-32").id,
    }
    assert len(ids) == 5


def test_the_id_fits_the_database_column():
    long_name = "hf-hub:some-organisation/" + "a-very-long-model-repository-name-" * 4
    backbone_id = OpenCLIPBackbone(model_name=long_name).id
    assert len(backbone_id) <= 100
    assert backbone_id != OpenCLIPBackbone(model_name=long_name + "-v2").id


def test_a_local_checkpoint_loads_and_its_content_sets_the_id(backbone, tmp_path):
    path = tmp_path / "tiny.pt"
    torch.save(backbone.model.state_dict(), path)
    local = OpenCLIPBackbone(model_name=TINY_MODEL, pretrained=str(path))

    np.testing.assert_allclose(local.embed(pictures()), backbone.embed(pictures()), atol=1e-6)
    assert local.id.startswith(f"open_clip-{TINY_MODEL}-file:tiny:")
    assert local.id != backbone.id

    other = tmp_path / "other.pt"
    state = {name: value + 0.01 for name, value in backbone.model.state_dict().items()}
    torch.save(state, other)
    assert OpenCLIPBackbone(model_name=TINY_MODEL, pretrained=other).id != local.id


def test_a_missing_checkpoint_file_is_a_clear_load_error(tmp_path):
    path = tmp_path / "weights" / "missing.safetensors"
    missing = OpenCLIPBackbone(model_name=TINY_MODEL, pretrained=str(path))
    with pytest.raises(BackboneLoadError, match=f"checkpoint file {path} does not exist"):
        missing.embed(pictures())
    with pytest.raises(BackboneLoadError, match="does not exist"):
        missing.id  # noqa: B018


def test_a_corrupt_checkpoint_file_is_a_load_error(tmp_path):
    path = tmp_path / "corrupt.pt"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(BackboneLoadError, match=f"Could not load the OpenCLIP checkpoint {path}"):
        OpenCLIPBackbone(model_name=TINY_MODEL, pretrained=path).embed(pictures())


def test_unknown_models_and_tags_are_load_errors():
    with pytest.raises(BackboneLoadError, match="Unknown OpenCLIP model 'ViT-Q-99'"):
        OpenCLIPBackbone(model_name="ViT-Q-99").embed(pictures())
    with pytest.raises(BackboneLoadError, match="not a pretrained tag .*available: .*laion2b_s34b_b79k"):
        OpenCLIPBackbone(model_name="ViT-B-32", pretrained="no-such-tag").embed(pictures())


def test_weights_that_cannot_be_downloaded_are_a_load_error_that_says_what_to_do(monkeypatch, tmp_path):
    huggingface_constants = pytest.importorskip("huggingface_hub.constants")
    # Offline mode: huggingface_hub fails at once instead of retrying for most of a minute;
    # an empty cache: weights downloaded on this machine earlier are not found.
    monkeypatch.setattr(huggingface_constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_constants, "HF_HUB_CACHE", str(tmp_path))
    unreachable = OpenCLIPBackbone(model_name="ViT-B-32", pretrained="laion2b_s34b_b79k")
    with pytest.raises(BackboneLoadError, match="set OPTIONS\\['pretrained'\\] to its local path") as first:
        unreachable.embed(pictures())
    assert "laion2b_s34b_b79k" in str(first.value)
    # The failure is remembered rather than retried for every asset in the queue.
    with pytest.raises(BackboneLoadError) as second:
        unreachable.embed(pictures())
    assert second.value is first.value


def test_a_missing_open_clip_package_is_a_missing_dependency(monkeypatch):
    monkeypatch.setitem(sys.modules, "open_clip", None)
    without = OpenCLIPBackbone(model_name="ViT-B-32", pretrained="laion2b_s34b_b79k")
    assert "ViT-B-32" in without.id, "the id needs nothing imported"
    with pytest.raises(MissingDependencyError, match=r'pip install "wagtail-smarttags\[openclip\]"') as raised:
        without.embed(pictures())
    assert raised.value.package == "open_clip"
    with pytest.raises(MissingDependencyError):
        without.generic_labels(pictures(), candidate_labels=["cat"])


def test_bad_options_are_refused_when_the_backbone_is_built():
    with pytest.raises(BackboneLoadError, match="model_name"):
        OpenCLIPBackbone(model_name="")
    with pytest.raises(BackboneLoadError, match="prompt_template"):
        OpenCLIPBackbone(model_name=TINY_MODEL, prompt_template="a photo")


# Text and zero-shot labels -------------------------------------------------------------------


def test_text_embeddings_are_normalised_and_stable(backbone):
    vectors = backbone.embed_texts(["a photo of a cat", "a photo of a dog", "a photo of a cat"])
    assert vectors.shape == (3, 48)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    np.testing.assert_array_equal(vectors[0], vectors[2])
    assert np.abs(vectors[0] - vectors[1]).max() > 1e-3
    assert backbone.embed_texts([]).shape == (0, 48)


def test_generic_labels_ranks_the_candidates_for_each_image(backbone):
    candidates = ["beach", "mountain", "city street", "forest", "beach"]
    labels = backbone.generic_labels(pictures(), top_k=3, candidate_labels=candidates)

    assert len(labels) == 3
    for ranked in labels:
        assert len(ranked) == 3
        assert all(isinstance(label, str) and isinstance(score, float) for label, score in ranked)
        assert {label for label, _ in ranked} <= set(candidates)
        assert len({label for label, _ in ranked}) == 3, "duplicate candidates are offered once"
        scores = [score for _, score in ranked]
        assert scores == sorted(scores, reverse=True)
        assert all(0 <= score <= 1 for score in scores)


def test_generic_label_scores_are_a_softmax_over_prompt_similarities(backbone):
    candidates = ["cat", "dog", "car"]
    image = pictures()[1]
    ranked = dict(backbone.generic_labels([image], top_k=10, candidate_labels=candidates)[0])

    assert set(ranked) == set(candidates), "top_k larger than the candidates returns them all"
    assert sum(ranked.values()) == pytest.approx(1, abs=1e-6)
    prompts = backbone.embed_texts([f"a photo of {label}" for label in candidates])
    logits = backbone.model.logit_scale.exp().item() * (backbone.embed([image]) @ prompts.T)[0]
    expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    for label, probability in zip(candidates, expected, strict=True):
        assert ranked[label] == pytest.approx(probability, abs=1e-5)


def test_generic_labels_edge_cases(backbone):
    images = pictures()[:2]
    assert backbone.generic_labels(images, candidate_labels=[]) == [[], []]
    assert backbone.generic_labels(images, top_k=0, candidate_labels=["cat"]) == [[], []]
    assert backbone.generic_labels([], candidate_labels=["cat"]) == []
    assert backbone.generic_labels(images, top_k=5, candidate_labels=["cat"]) == [[("cat", 1.0)], [("cat", 1.0)]]


def test_generic_labels_default_to_the_imagenet_classes(backbone):
    ranked = backbone.generic_labels(pictures()[:1], top_k=4)[0]
    assert len(ranked) == 4
    assert {label for label, _ in ranked} <= set(open_clip.IMAGENET_CLASSNAMES)


def test_prompt_template_is_used(backbone):
    custom = OpenCLIPBackbone(model_name=TINY_MODEL, prompt_template="{label}")
    image = pictures()[:1]
    plain = dict(custom.generic_labels(image, top_k=3, candidate_labels=["cat", "dog", "car"])[0])
    photo = dict(backbone.generic_labels(image, top_k=3, candidate_labels=["cat", "dog", "car"])[0])
    assert plain != pytest.approx(photo, abs=1e-6)
