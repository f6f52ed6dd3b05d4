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
        assert set(tag_metrics.as_dict()) == {
            "examples", "precision", "recall", "threshold", "similarity_floor", "automatic", "confusion", "mistakes",
        }  # fmt: skip


def test_the_out_of_fold_confusion_and_mistakes_point_at_a_mislabelled_example():
    vectors, labels, _ = clusters(n_classes=3, per_class=10, seed=3)
    labels = list(labels)
    labels[0] = "tag-1"  # an example of tag-0 filed under tag-1
    _, metrics = train_classifier(vectors, labels)
    for label, tag_metrics in metrics.items():
        assert sum(tag_metrics.confusion.values()) == tag_metrics.examples
        assert set(tag_metrics.confusion) <= {"", *metrics}
        assert all(mistake["predicted"] != label for mistake in tag_metrics.mistakes)
    assert metrics["tag-1"].mistakes[0]["example"] == 0 and metrics["tag-1"].mistakes[0]["predicted"] == "tag-0"
    assert metrics["tag-1"].confusion.get("tag-0", 0) >= 1
    confidences = [mistake["confidence"] for mistake in metrics["tag-1"].mistakes]
    assert confidences == sorted(confidences, reverse=True)


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
        assert array.dtype != object and array.dtype.kind in "fiuUb", (name, array.dtype)
    restored = RidgeCentroidClassifier.from_arrays({name: np.array(array) for name, array in arrays.items()})
    assert restored.labels == classifier.labels
    queries = np.random.default_rng(0).normal(size=(10, 32)).astype(np.float32)
    queries = np.concatenate([queries, vectors])
    assert restored.predict(queries) == classifier.predict(queries)


def test_the_largest_model_the_guidelines_allow_trains():
    # 50 tags x 50 examples in the backbone's dimension: the dual and primal ridge forms meet here.
    vectors, labels, _ = clusters(n_classes=50, per_class=50, dimension=1280, spread=1.0, seed=8)
    classifier, _ = train_classifier(vectors, labels)
    assert np.mean([p.label == label for p, label in zip(classifier.predict(vectors[::10]), labels[::10])]) > 0.9


def look_alikes(seed=11, dimension=32, per_class=12):
    """Two tags, and two other classes each halfway between a tag and a direction of its own:
    near enough to a tag that its similarity floor alone lets them in."""
    rng = np.random.default_rng(seed)
    unit = lambda array: (array / np.linalg.norm(array, axis=-1, keepdims=True)).astype(np.float32)  # noqa: E731
    tags = unit(rng.normal(size=(2, dimension)))
    others = unit(tags + 0.9 * unit(rng.normal(size=(2, dimension))))

    def around(centre, count):
        return unit(centre + 0.25 * rng.normal(size=(count, dimension)) / np.sqrt(dimension) * 4)

    examples = np.concatenate([around(tags[0], per_class), around(tags[1], per_class)])
    labels = ["tag-0"] * per_class + ["tag-1"] * per_class
    # The library: mostly the other classes, some unlabelled images of the tags, and the examples themselves.
    library = np.concatenate([around(others[0], 40), around(others[1], 40), around(tags[0], 10), examples])
    test = {"tags": np.concatenate([around(tags[0], 20), around(tags[1], 20)]),
            "others": np.concatenate([around(others[0], 20), around(others[1], 20)])}  # fmt: skip
    return examples, labels, library, test


def applied_share(classifier, vectors):
    return float(np.mean([prediction.applied for prediction in classifier.predict(vectors)]))


def test_the_library_teaches_a_model_what_its_tags_are_not():
    examples, labels, library, test = look_alikes()
    alone, _ = train_classifier(examples, labels)
    assert applied_share(alone, test["others"]) > 0.5, "the look-alikes fool a model of the examples alone"

    with_library, metrics = train_classifier(examples, labels, background=library)
    assert with_library.background_classes >= 2
    assert len(with_library.labels) == 2 and len(with_library.thresholds) == 2
    assert applied_share(with_library, test["others"]) <= 0.05
    predictions = with_library.predict(test["tags"])
    truth = ["tag-0"] * 20 + ["tag-1"] * 20
    assert np.mean([p.applied and p.label == label for p, label in zip(predictions, truth)]) >= 0.9
    assert all(set(p.probabilities) == {"tag-0", "tag-1"} for p in predictions)
    assert all(m.recall is not None and m.recall >= 0.8 for m in metrics.values())


def test_images_of_the_tags_in_the_library_are_mostly_not_learnt_as_background():
    from wagtail_smarttags.ml.classifiers.ridge_centroid import _background

    examples, labels, library, test = look_alikes()
    rng = np.random.default_rng(2)
    # A third of the library is more photos of the model's own tags.
    own = test["tags"] + 0.02 * rng.normal(size=(40, 32)).astype(np.float32)
    library = np.concatenate([library, own])
    targets = np.array([0] * 12 + [1] * 12)
    background = _background(examples, targets, 2, library, TrainingOptions())
    assert len(background.positives) >= 25 and sorted(set(background.positive_targets.tolist())) == [0, 1]
    classifier, _ = train_classifier(examples, labels, background=library)
    assert applied_share(classifier, test["others"]) <= 0.05
    # What is left of them as background costs some of the tags' images their tag (see how-it-works.md).
    assert applied_share(classifier, test["tags"]) >= 0.55
    # A library smaller than background_min_images (a new site's first uploads) is not learnt from.
    assert train_classifier(examples, labels, background=library[:60])[0].background_classes == 0


def test_negatives_teach_what_the_tags_are_not_even_without_a_library():
    examples, labels, _, test = look_alikes()
    alone, _ = train_classifier(examples, labels)
    others = test["others"]  # twenty images of each look-alike class
    moderated, unseen = np.concatenate([others[:10], others[20:30]]), np.concatenate([others[10:20], others[30:]])
    # An editor removed the tag the model gave to some of the first ten of each.
    given = np.array([prediction.applied for prediction in alone.predict(moderated)])
    assert given.sum() >= 8 and applied_share(alone, unseen) >= 0.4
    taught, metrics = train_classifier(examples, labels, negatives=moderated[given])
    assert taught.background_classes >= 1
    # The others, never moderated, are left alone; the tags' own images are still tagged.
    assert applied_share(taught, unseen) <= 0.2
    assert applied_share(taught, test["tags"]) >= applied_share(alone, test["tags"]) - 0.15
    assert all(m.recall is not None and m.recall >= 0.8 for m in metrics.values())


def test_no_filter_drops_the_negatives():
    from wagtail_smarttags.ml.classifiers.ridge_centroid import _background

    examples, labels, _, _ = look_alikes()
    targets = np.array([0] * 12 + [1] * 12)
    # As library images, near copies of the examples would be sorted out as photos of the tags; as
    # negatives (an editor's word), they stay, in classes of their own.
    near_copies = examples[:12] + 0.01
    assert _background(examples, targets, 2, near_copies, TrainingOptions()) is None
    background = _background(examples, targets, 2, None, TrainingOptions(), negatives=near_copies)
    assert background.protected_from == 0 and len(background.vectors) == 12
    classifier, _ = train_classifier(examples, labels, negatives=near_copies)
    assert classifier.background_classes >= 1


def test_a_small_or_missing_library_changes_nothing():
    examples, labels, library, test = look_alikes()
    alone, _ = train_classifier(examples, labels)
    for background in (None, library[:0], examples, library[:40]):
        classifier, _ = train_classifier(examples, labels, background=background)
        assert classifier.background_classes == 0
        assert classifier.predict(test["others"]) == alone.predict(test["others"])
    off, _ = train_classifier(examples, labels, {"background_clusters": 0}, background=library)
    assert off.background_classes == 0


def test_a_model_with_background_round_trips_and_old_arrays_still_load():
    examples, labels, library, test = look_alikes()
    classifier, _ = train_classifier(examples, labels, background=library)
    arrays = classifier.to_arrays()
    restored = RidgeCentroidClassifier.from_arrays({name: np.array(array) for name, array in arrays.items()})
    queries = np.concatenate([test["tags"], test["others"]])
    assert restored.background_classes == classifier.background_classes
    assert restored.predict(queries) == classifier.predict(queries)
    # Versions stored before tags could be held back have no "automatic" array: every tag is applied.
    legacy = {name: array for name, array in arrays.items() if name != "automatic"}
    assert RidgeCentroidClassifier.from_arrays(legacy).automatic.all()


def test_a_tag_with_fewer_examples_than_the_minimum_is_trained_but_never_applied():
    vectors, labels, centres = clusters(n_classes=3, counts=[12, 12, 2], seed=4)
    classifier, metrics = train_classifier(vectors, labels, {"min_examples_to_apply": 10})
    assert [metrics[label].automatic for label in ("tag-0", "tag-1", "tag-2")] == [True, True, False]
    near = (centres[2] / np.linalg.norm(centres[2]))[None].astype(np.float32)
    prediction = classifier.predict(near)[0]
    assert prediction.label == "tag-2" and not prediction.applied, "still recognised, never applied"
    assert all(p.applied for p in classifier.predict(vectors[:24]) if p.label != "tag-2")
    assert np.mean([p.applied for p in classifier.predict(vectors[:24])]) >= 0.85


def test_kmeans_finds_separate_groups_and_numbers_them_from_zero():
    from wagtail_smarttags.ml.classifiers.ridge_centroid import kmeans

    vectors, labels, _ = clusters(n_classes=3, per_class=15, seed=9)
    assignment = kmeans(vectors, 3, np.random.default_rng(0))
    assert sorted(set(assignment.tolist())) == [0, 1, 2]
    for label in set(labels):
        members = {int(a) for a, own in zip(assignment, labels) if own == label}
        assert len(members) == 1, "each group is one cluster"


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


LOOK_ALIKES = ["shorts", "longsleeve", "shirt"]  # of pants and t-shirts


@pytest.fixture(scope="module")
def library(backbone):
    """A small library (train photos of garments no model here knows, unlabelled ones of its tags),
    and validation photos of those garments, never in the library."""
    others = clothing_images("train", LOOK_ALIKES, per_class=30)
    own = clothing_images("train", CLASSES, per_class=6, offset=24)
    look_alikes = clothing_images("validation", LOOK_ALIKES, per_class=8)
    paths = [path for group in (others, own, look_alikes) for paths in group.values() for path in paths]
    vectors = embed_paths(backbone, paths)
    return {"library": vectors[: -8 * len(LOOK_ALIKES)], "look_alikes": vectors[-8 * len(LOOK_ALIKES) :]}


@pytest.mark.slow
def test_real_photos_of_look_alike_garments_stay_untagged_with_the_library(clothing, library):
    alone, _ = train_classifier(*clothing["train"])
    with_library, _ = train_classifier(*clothing["train"], background=library["library"])
    tagged_alone = applied_share(alone, library["look_alikes"])
    tagged = applied_share(with_library, library["look_alikes"])
    assert tagged <= 0.5 * tagged_alone and tagged <= 0.25, (tagged, tagged_alone)
    vectors, labels = clothing["test"]
    predictions = with_library.predict(vectors)
    assert np.mean([p.applied and p.label == label for p, label in zip(predictions, labels)]) >= 0.7


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
