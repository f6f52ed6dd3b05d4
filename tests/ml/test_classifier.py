"""The few-shot classifier: pure-NumPy units on synthetic data, then real clothing photos.

Nothing here touches the database.
"""

import dataclasses

import numpy as np
import pytest

from tests.datasets import clothing_images
from wagtail_smarttags.ml.classifiers.ridge_centroid import (
    RidgeCentroidClassifier,
    TrainingOptions,
    choose_confidence_threshold,
    stratified_folds,
    train_classifier,
)


def clusters(n_classes=3, per_class=10, dimension=32, spread=0.3, seed=0, counts=None):
    """Unit vectors around well-separated random directions, with string labels."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_classes, dimension))
    counts = counts or [per_class] * n_classes
    vectors, labels = [], []
    for index, count in enumerate(counts):
        vectors.append(centres[index] + spread * rng.normal(size=(count, dimension)) * np.sqrt(1 / dimension) * 4)
        labels += [f"tag-{index}"] * count
    vectors = np.concatenate(vectors).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True), labels, centres


# --- pure NumPy -----------------------------------------------------------------------------------


def test_stratified_folds_partition_and_spread_every_class():
    targets = np.array([0] * 10 + [1] * 7 + [2] * 2)
    folds = list(stratified_folds(targets, 5, seed=3))
    assert len(folds) == 5
    tested = np.concatenate([test for _, test in folds])
    assert sorted(tested.tolist()) == list(range(len(targets)))  # each example tested exactly once
    for train, test in folds:
        assert not set(train) & set(test)
        assert len(train) + len(test) == len(targets)
        # 10 examples over 5 folds: exactly 2 per fold; 7 examples: 1 or 2 per fold.
        assert (targets[test] == 0).sum() == 2
        assert (targets[test] == 1).sum() in (1, 2)
    # The two examples of the small class never share a test fold.
    small = [fold for fold, (_, test) in enumerate(folds) if (targets[test] == 2).any()]
    assert len(small) == 2


def test_stratified_folds_never_exceed_the_largest_class():
    folds = list(stratified_folds(np.array([0, 0, 1, 1, 1]), 5))
    assert len(folds) == 3


def test_confidence_threshold_rejects_the_requested_share_of_correct_predictions():
    confidence = np.linspace(0.01, 1.0, 100)
    correct = np.ones(100, dtype=bool)
    threshold = choose_confidence_threshold(confidence, correct, 0.05)
    assert np.mean(confidence < threshold) == pytest.approx(0.05, abs=0.011)
    # Wrong predictions do not move it: only the correct ones set the bar.
    confidence_with_errors = np.concatenate([confidence, np.full(50, 0.99)])
    correct_with_errors = np.concatenate([correct, np.zeros(50, dtype=bool)])
    assert choose_confidence_threshold(confidence_with_errors, correct_with_errors, 0.05) == threshold
    assert choose_confidence_threshold(confidence, correct, 0.0) == 0.0
    assert choose_confidence_threshold(confidence, np.zeros(100, dtype=bool), 0.05) == 0.0


def test_synthetic_clusters_are_learnt_and_thresholds_are_sane():
    vectors, labels, _ = clusters(n_classes=4, per_class=12)
    classifier, metrics = train_classifier(vectors, labels)
    predictions = classifier.predict(vectors)
    assert [p.label for p in predictions] == labels
    assert np.mean([p.applied for p in predictions]) >= 0.85
    assert set(metrics) == set(labels)
    for tag_metrics in metrics.values():
        assert tag_metrics.examples == 12
        assert 0.0 <= tag_metrics.threshold <= 1.0
        assert tag_metrics.precision is None or 0.0 <= tag_metrics.precision <= 1.0
        assert set(tag_metrics.as_dict()) == {"examples", "precision", "recall", "threshold", "similarity_floor"}


def test_an_unrelated_direction_gets_no_tag():
    vectors, labels, centres = clusters(n_classes=3, per_class=10, dimension=64, seed=1)
    classifier, _ = train_classifier(vectors, labels)
    rng = np.random.default_rng(5)
    strangers = rng.normal(size=(20, 64)).astype(np.float32)
    assert not any(p.applied for p in classifier.predict(strangers))


def test_probabilities_and_exclusivity():
    vectors, labels, _ = clusters(n_classes=5, per_class=8, seed=2)
    classifier, _ = train_classifier(vectors, labels)
    probabilities = classifier.probabilities(vectors)
    assert probabilities.shape == (len(vectors), 5)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    for prediction, row in zip(classifier.predict(vectors), probabilities):
        assert 0.0 <= prediction.confidence <= 1.0
        assert prediction.label == classifier.labels[int(row.argmax())]
        assert isinstance(prediction.applied, bool)
        assert set(prediction.probabilities) == set(classifier.labels)


def test_needs_two_tags_and_matching_lengths():
    vectors, labels, _ = clusters(n_classes=2, per_class=4)
    with pytest.raises(ValueError):
        train_classifier(vectors[:4], labels[:4])  # one tag only
    with pytest.raises(ValueError):
        train_classifier(vectors, labels[:-1])


@pytest.mark.parametrize("small", [1, 2])
def test_a_tag_with_one_or_two_examples_still_trains(small):
    vectors, labels, centres = clusters(n_classes=3, counts=[15, 15, small], seed=4)
    classifier, metrics = train_classifier(vectors, labels)
    assert metrics["tag-2"].examples == small
    assert np.isfinite(classifier.thresholds).all() and np.isfinite(classifier.similarity_floors).all()
    assert np.isfinite(classifier.weights).all()
    # Its own examples, and a fresh one near its centre, are recognised as that tag.
    near = (centres[2] / np.linalg.norm(centres[2]))[None].astype(np.float32)
    assert [p.label for p in classifier.predict(near)] == ["tag-2"]
    assert all(p.label == "tag-2" for p in classifier.predict(vectors[-small:]))


def test_unbalanced_counts_do_not_swamp_the_small_tag():
    vectors, labels, _ = clusters(n_classes=2, counts=[50, 5], spread=0.6, seed=6)
    classifier, _ = train_classifier(vectors, labels)
    predictions = classifier.predict(vectors[-5:])
    assert sum(p.label == "tag-1" for p in predictions) >= 4


def test_round_trip_through_plain_arrays():
    vectors, labels, _ = clusters(n_classes=3, per_class=6, seed=7)
    classifier, _ = train_classifier(vectors, labels, TrainingOptions(seed=1))
    arrays = classifier.to_arrays()
    for name, array in arrays.items():
        assert isinstance(array, np.ndarray), name
        assert array.dtype != object and array.dtype.kind in "fiuU", (name, array.dtype)
    restored = RidgeCentroidClassifier.from_arrays({name: np.array(array) for name, array in arrays.items()})
    assert restored.labels == classifier.labels
    queries = np.random.default_rng(0).normal(size=(10, 32)).astype(np.float32)
    queries = np.concatenate([queries, vectors])
    assert restored.predict(queries) == classifier.predict(queries)


def test_large_model_trains_quickly():
    import time

    vectors, labels, _ = clusters(n_classes=50, per_class=50, dimension=1280, spread=1.0, seed=8)
    start = time.perf_counter()
    classifier, _ = train_classifier(vectors, labels)
    assert time.perf_counter() - start < 20
    assert np.mean([p.label == label for p, label in zip(classifier.predict(vectors[::10]), labels[::10])]) > 0.9


# --- real images, real backbone ---------------------------------------------------------------------

CLASSES = ["pants", "shoes", "t-shirt"]


def embed_paths(backbone, paths):
    from wagtail_smarttags.ml.images import decode_image

    return backbone.embed([decode_image(path, target_size=max(320, backbone.input_size)) for path in paths])


@pytest.fixture(scope="module")
def clothing(backbone):
    """Embeddings of 12 train images for each of 3 classes, 6 held-out ones each, and 10 dresses and hats."""
    train = clothing_images("train", CLASSES, per_class=12)
    held_out = clothing_images("train", CLASSES, per_class=6, offset=40)
    other = clothing_images("validation", ["dress", "hat"], per_class=5)
    paths = [path for name in CLASSES for path in train[name]]
    test_paths = [path for name in CLASSES for path in held_out[name]]
    other_paths = [path for name in other for path in other[name]]
    vectors = embed_paths(backbone, paths + test_paths + other_paths)
    n, m = len(paths), len(test_paths)
    return {
        "train": (vectors[:n], [name for name in CLASSES for _ in train[name]]),
        "test": (vectors[n : n + m], [name for name in CLASSES for _ in held_out[name]]),
        "other": vectors[n + m :],
    }


@pytest.mark.slow
def test_real_photos_are_tagged_correctly(clothing):
    classifier, metrics = train_classifier(*clothing["train"])
    vectors, labels = clothing["test"]
    predictions = classifier.predict(vectors)
    accuracy = np.mean([p.label == label for p, label in zip(predictions, labels)])
    assert accuracy >= 0.9
    applied = [p for p in predictions if p.applied]
    assert len(applied) >= 0.75 * len(predictions)
    assert np.mean([p.label == label for p, label in zip(predictions, labels) if p.applied]) >= 0.9
    assert all(m.examples == 12 for m in metrics.values())


@pytest.mark.slow
def test_real_photos_of_other_things_are_mostly_rejected(clothing):
    classifier, _ = train_classifier(*clothing["train"])
    predictions = classifier.predict(clothing["other"])
    assert np.mean([not p.applied for p in predictions]) >= 0.5


@pytest.mark.slow
def test_real_photos_round_trip_and_two_example_tag(clothing):
    vectors, labels = clothing["train"]
    keep = [i for i, label in enumerate(labels) if label != "shoes" or i % 12 < 2]  # shoes: 2 examples
    classifier, metrics = train_classifier(vectors[keep], [labels[i] for i in keep])
    assert metrics["shoes"].examples == 2
    test_vectors, test_labels = clothing["test"]
    predictions = classifier.predict(test_vectors)
    shoes = [p for p, label in zip(predictions, test_labels) if label == "shoes"]
    assert sum(p.label == "shoes" for p in shoes) >= 5
    restored = RidgeCentroidClassifier.from_arrays(classifier.to_arrays())
    assert restored.predict(test_vectors) == predictions


class NearestCentroid(RidgeCentroidClassifier):
    """A classifier defined outside the registry: it is stored under its dotted path."""

    name = "nearest_centroid"


def test_a_trained_classifier_is_restored_as_the_class_that_trained_it():
    from wagtail_smarttags.ml.classifiers import classifier_from_arrays, classifier_to_arrays

    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(40, 16)).astype(np.float32)
    vectors[:20, 0] += 4
    labels = ["a"] * 20 + ["b"] * 20
    default, _ = train_classifier(vectors, labels)
    arrays = classifier_to_arrays(default)
    assert str(arrays["classifier"]) == "ridge_centroid"
    assert type(classifier_from_arrays(arrays)) is RidgeCentroidClassifier
    legacy = {name: array for name, array in arrays.items() if name != "classifier"}
    assert type(classifier_from_arrays(legacy)) is RidgeCentroidClassifier, "versions trained before the registry"

    custom = NearestCentroid(**{field.name: getattr(default, field.name) for field in dataclasses.fields(default)})
    arrays = classifier_to_arrays(custom)
    assert str(arrays["classifier"]) == f"{__name__}.NearestCentroid"
    restored = classifier_from_arrays(arrays)
    assert type(restored) is NearestCentroid
    assert np.array_equal(restored.decide(vectors)[0], default.decide(vectors)[0])
