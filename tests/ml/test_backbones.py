"""The default backbone as configured: an ensemble of two EfficientNet-Lite networks, on real photographs."""

import numpy as np
import pytest

from wagtail_smarttags.conf import DEFAULTS
from wagtail_smarttags.ml.backbones import load_backbone
from wagtail_smarttags.ml.backbones.ensemble import EnsembleBackbone
from wagtail_smarttags.ml.errors import BackboneLoadError
from wagtail_smarttags.ml.images import decode_image

from ..datasets import clothing_images


@pytest.fixture(scope="module")
def default_backbone():
    config = DEFAULTS["IMAGE_BACKBONE"]
    return load_backbone(config["BACKEND"], config["OPTIONS"])


@pytest.fixture(scope="module")
def photos():
    paths = [p for group in clothing_images("validation", ["hat", "shoes"], per_class=2).values() for p in group]
    return [decode_image(path, target_size=320) for path in paths]


def test_the_default_is_an_offline_ensemble_of_lite0_and_lite1(default_backbone):
    assert isinstance(default_backbone, EnsembleBackbone)
    assert default_backbone.id == "ensemble(efficientnet-lite0-crop+pad@2,efficientnet-lite1@1)@1"
    assert default_backbone.dimension == 2560
    assert default_backbone.input_size == 240


def test_ensemble_embeddings_concatenate_each_members_unit_vector(default_backbone, photos):
    vectors = default_backbone.embed(photos)
    assert vectors.shape == (4, 2560) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    lite0, lite1 = default_backbone.members
    np.testing.assert_allclose(vectors[:, :1280] * np.sqrt(2), lite0.embed(photos), atol=1e-5)
    np.testing.assert_allclose(vectors[:, 1280:] * np.sqrt(2), lite1.embed(photos), atol=1e-5)
    # The throughput benchmark times forward() alone on a preprocessed batch: it must equal embed().
    np.testing.assert_allclose(default_backbone.forward(default_backbone.preprocess(photos)), vectors, atol=1e-6)
    # Two hats are closer to each other than a hat to a shoe.
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > similarity[0, 2] and similarity[2, 3] > similarity[1, 3]


def test_ensemble_needs_two_members():
    with pytest.raises(BackboneLoadError, match="at least two members"):
        load_backbone("ensemble", {"members": [{"BACKEND": "efficientnet_lite"}]})
    with pytest.raises(BackboneLoadError, match="Unknown image backbone"):
        load_backbone("ensemble", {"members": [{"BACKEND": "efficientnet_lite"}, {"BACKEND": "no.such.Backbone"}]})
