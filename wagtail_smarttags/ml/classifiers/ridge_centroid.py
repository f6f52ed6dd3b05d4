"""Few-shot tag classifiers over image embeddings.

One classifier per tag model. Tags inside a model are exclusive, so an image gets at
most one tag from it: the tag with the highest probability, where the probability is
the average of two simple few-shot classifiers that complement each other:

* a class-balanced ridge regression onto the tags (closed form, so training and its
  cross-validation stay fast even for 50 tags x 50 examples), turned into
  probabilities by a softmax;
* nearest-centroid: a softmax over the cosine similarities to each tag's centroid.

Two cross-validated tests then decide whether that tag is applied at all:

* its probability must reach a threshold learnt from out-of-fold predictions over the
  examples: the confidence below which only ``rejection_rate`` of the correctly
  classified out-of-fold examples fall (one threshold shared by the tags: a tag's
  own handful of out-of-fold predictions is too few to set one reliably);
* the image must lie close enough to the tag's examples (cosine similarity to the
  tag's centroid above a floor learnt from out-of-fold examples), so that an image
  that fits none of the model's tags gets none of them.

Everything is NumPy; parameters round-trip through :meth:`TagClassifier.to_arrays`
as plain arrays.
"""

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..backbones.base import l2_normalise
from .base import TagClassifier, TagMetrics


@dataclass
class TrainingOptions:
    #: Ridge penalty (on unit-norm embeddings, with class-balanced example weights summing to N).
    regularisation: float = 1.0
    #: Softmax scale applied to ridge scores (about 1 for the right tag, 0 for the others).
    scale: float = 10.0
    #: Softmax scale applied to cosine similarities to tag centroids.
    centroid_scale: float = 30.0
    #: Weight of nearest-centroid probabilities in the average with ridge probabilities.
    centroid_weight: float = 0.25
    #: Fraction of correctly classified out-of-fold examples allowed below the confidence threshold.
    #: The main knob of the trade-off between tagging images of the model's tags (lower) and
    #: leaving images that fit none of them untagged (higher).
    rejection_rate: float = 0.03
    #: Fraction of a tag's own out-of-fold examples allowed to fall below its similarity floor ...
    floor_quantile: float = 0.02
    #: ... less this slack, so the floor is not tighter than the examples justify.
    floor_margin: float = 0.05
    folds: int = 5
    seed: int = 0


@dataclass
class RidgeCentroidClassifier(TagClassifier):
    """Ridge regression and nearest-centroid probabilities, averaged; see the module's docstring."""

    name: ClassVar[str] = "ridge_centroid"
    labels: list
    weights: np.ndarray
    bias: np.ndarray
    centroids: np.ndarray
    thresholds: np.ndarray
    similarity_floors: np.ndarray
    scale: float
    centroid_scale: float = 30.0
    centroid_weight: float = 0.0

    def probabilities(self, embeddings):
        return self._probabilities_of_unit_vectors(l2_normalise(np.asarray(embeddings, dtype=np.float32)))

    def _probabilities_of_unit_vectors(self, embeddings):
        return _probabilities(
            embeddings,
            self.weights,
            self.bias,
            self.centroids,
            self.scale,
            self.centroid_scale,
            self.centroid_weight,
        )

    def decide(self, embeddings):
        """Arrays for (N, D) embeddings: best tag index, its confidence and similarity, whether it is applied,
        and every tag's probability (N, tags)."""
        embeddings = l2_normalise(np.asarray(embeddings, dtype=np.float32))
        cosines = embeddings @ self.centroids.T
        probabilities = _probabilities(
            embeddings, self.weights, self.bias, self.centroids, self.scale, self.centroid_scale,
            self.centroid_weight, cosines=cosines,
        )  # fmt: skip
        best = probabilities.argmax(axis=1)
        rows = np.arange(len(best))
        confidences = probabilities[rows, best]
        similarities = cosines[rows, best]
        applied = (confidences >= self.thresholds[best]) & (similarities >= self.similarity_floors[best])
        return best, confidences, similarities, applied, probabilities

    def to_arrays(self):
        return {
            "labels": np.asarray(self.labels, dtype=str),
            "weights": np.asarray(self.weights, dtype=np.float32),
            "bias": np.asarray(self.bias, dtype=np.float32),
            "centroids": np.asarray(self.centroids, dtype=np.float32),
            "thresholds": np.asarray(self.thresholds, dtype=np.float32),
            "similarity_floors": np.asarray(self.similarity_floors, dtype=np.float32),
            "scale": np.asarray(self.scale, dtype=np.float32),
            "centroid_scale": np.asarray(self.centroid_scale, dtype=np.float32),
            "centroid_weight": np.asarray(self.centroid_weight, dtype=np.float32),
        }

    @classmethod
    def train(cls, embeddings, labels, options=None):
        return train_classifier(embeddings, labels, options)

    @classmethod
    def from_arrays(cls, arrays):
        # Arrays saved before the centroid ensemble existed have no centroid weight: 0 restores them exactly.
        return cls(
            labels=[str(label) for label in arrays["labels"].tolist()],
            weights=np.asarray(arrays["weights"], dtype=np.float32),
            bias=np.asarray(arrays["bias"], dtype=np.float32),
            centroids=np.asarray(arrays["centroids"], dtype=np.float32),
            thresholds=np.asarray(arrays["thresholds"], dtype=np.float32),
            similarity_floors=np.asarray(arrays["similarity_floors"], dtype=np.float32),
            scale=float(arrays["scale"]),
            centroid_scale=float(arrays["centroid_scale"]) if "centroid_scale" in arrays else 30.0,
            centroid_weight=float(arrays["centroid_weight"]) if "centroid_weight" in arrays else 0.0,
        )


def train_classifier(embeddings, labels, options=None):
    """Train a classifier over ``embeddings`` (N, D) with one string label per row.

    Returns ``(classifier, {label: TagMetrics})``. Needs at least two distinct labels.
    """
    options = TrainingOptions(**options) if isinstance(options, dict) else options or TrainingOptions()
    embeddings = l2_normalise(np.asarray(embeddings, dtype=np.float32))
    labels = [str(label) for label in labels]
    if len(labels) != len(embeddings):
        raise ValueError(f"Got {len(embeddings)} embeddings but {len(labels)} labels.")
    label_names = sorted(set(labels))
    if len(label_names) < 2:
        raise ValueError("A tag model needs examples of at least two tags to learn to tell them apart.")
    index_of = {label: index for index, label in enumerate(label_names)}
    targets = np.array([index_of[label] for label in labels])
    n_classes = len(label_names)

    out_of_fold = _cross_validate(embeddings, targets, n_classes, options)
    thresholds, floors, metrics = _choose_thresholds(targets, out_of_fold, label_names, options)

    weights = _fit_ridge(embeddings, targets, n_classes, options.regularisation)
    classifier = RidgeCentroidClassifier(
        labels=label_names,
        weights=weights,
        bias=np.zeros(n_classes, dtype=np.float32),
        centroids=_centroids(embeddings, targets, n_classes),
        thresholds=thresholds,
        similarity_floors=floors,
        scale=float(options.scale),
        centroid_scale=float(options.centroid_scale),
        centroid_weight=float(options.centroid_weight),
    )
    return classifier, metrics


def _probabilities(embeddings, weights, bias, centroids, scale, centroid_scale, centroid_weight, cosines=None):
    probabilities = _softmax(scale * (embeddings @ weights.T) + bias)
    if centroid_weight:
        nearest = _softmax(centroid_scale * (embeddings @ centroids.T if cosines is None else cosines))
        probabilities = (1.0 - centroid_weight) * probabilities + centroid_weight * nearest
    return probabilities


def _cross_validate(embeddings, targets, n_classes, options):
    """Out-of-fold (probabilities, similarity to own-fold centroids) for every example."""
    n = len(targets)
    probabilities = np.full((n, n_classes), np.nan, dtype=np.float32)
    similarities = np.full((n, n_classes), np.nan, dtype=np.float32)
    for train_index, test_index in stratified_folds(targets, options.folds, options.seed):
        # A tag whose examples all sit in the test fold has nothing to learn from here.
        present = np.unique(targets[train_index])
        remap = np.full(n_classes, -1)
        remap[present] = np.arange(len(present))
        fold_targets = remap[targets[train_index]]
        weights = _fit_ridge(embeddings[train_index], fold_targets, len(present), options.regularisation)
        centroids = _centroids(embeddings[train_index], fold_targets, len(present))
        fold_probabilities = _probabilities(
            embeddings[test_index],
            weights,
            np.zeros(len(present), dtype=np.float32),
            centroids,
            options.scale,
            options.centroid_scale,
            options.centroid_weight,
        )
        probabilities[np.ix_(test_index, present)] = fold_probabilities
        similarities[np.ix_(test_index, present)] = embeddings[test_index] @ centroids.T
    # A tag absent from a fold's training gets probability 0; its similarity stays NaN (unknown).
    return np.nan_to_num(probabilities, nan=0.0), similarities


def _choose_thresholds(targets, out_of_fold, label_names, options):
    probabilities, similarities = out_of_fold
    n_classes = len(label_names)
    rows = np.arange(len(targets))
    predicted = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    predicted_similarity = np.nan_to_num(similarities[rows, predicted], nan=-1.0)
    own_similarity = similarities[rows, targets]  # NaN where the tag was absent from the fold's training

    # Similarity floors: per tag from its own out-of-fold examples; tags with too few of them
    # (one or two examples) borrow the floor that all the tags' examples together would give.
    known = ~np.isnan(own_similarity)
    pooled_floor = (
        float(np.quantile(own_similarity[known], options.floor_quantile)) - options.floor_margin
        if known.any()
        else -1.0
    )
    floors = np.full(n_classes, pooled_floor, dtype=np.float32)
    for index in range(n_classes):
        own = known & (targets == index)
        if own.sum() >= 3:
            floors[index] = float(np.quantile(own_similarity[own], options.floor_quantile)) - options.floor_margin

    # One confidence threshold for all tags, from the correctly classified out-of-fold examples.
    threshold = choose_confidence_threshold(confidence, predicted == targets, options.rejection_rate)
    thresholds = np.full(n_classes, threshold, dtype=np.float32)

    applied = (confidence >= thresholds[predicted]) & (predicted_similarity >= floors[predicted])
    metrics = {}
    for index, label in enumerate(label_names):
        own = targets == index
        tagged = applied & (predicted == index)
        true_positives = int((tagged & own).sum())
        metrics[label] = TagMetrics(
            examples=int(own.sum()),
            precision=true_positives / int(tagged.sum()) if tagged.any() else None,
            recall=true_positives / int(own.sum()) if own.any() else None,
            threshold=float(thresholds[index]),
            similarity_floor=float(floors[index]),
        )
    return thresholds, floors, metrics


def choose_confidence_threshold(confidence, correct, rejection_rate):
    """The confidence below which ``rejection_rate`` of the correct predictions fall.

    Without any correct prediction to learn from, no threshold (0) is imposed.
    """
    confidence = np.asarray(confidence, dtype=np.float64)
    correct = np.asarray(correct, dtype=bool)
    if not correct.any() or rejection_rate <= 0:
        return 0.0
    return float(np.quantile(confidence[correct], min(rejection_rate, 1.0), method="lower"))


def _fit_ridge(embeddings, targets, n_classes, regularisation):
    """Class-balanced ridge regression onto one-hot targets; returns weights (n_classes, D)."""
    n, dimension = embeddings.shape
    x = np.asarray(embeddings, dtype=np.float32)
    counts = np.bincount(targets, minlength=n_classes).astype(np.float32)
    sample_weights = (n / (n_classes * np.maximum(counts, 1)))[targets].astype(np.float32)
    one_hot = np.eye(n_classes, dtype=np.float32)[targets]
    penalty = max(float(regularisation), 1e-6)
    # Products in float32 (the costly part), the solve in float64 (the penalty keeps it well conditioned).
    if n < dimension:
        # Dual form: W = X^T (S X X^T + lambda I)^-1 S Y, an N x N solve.
        gram = (sample_weights[:, None] * (x @ x.T)).astype(np.float64)
        gram[np.diag_indices(n)] += penalty
        weights = x.T @ np.linalg.solve(gram, sample_weights[:, None] * one_hot).astype(np.float32)
    else:
        weighted = x * sample_weights[:, None]
        gram = (x.T @ weighted).astype(np.float64)
        gram[np.diag_indices(dimension)] += penalty
        weights = np.linalg.solve(gram, (weighted.T @ one_hot).astype(np.float64)).astype(np.float32)
    return np.ascontiguousarray(weights.T)


def _centroids(embeddings, targets, n_classes):
    centroids = np.zeros((n_classes, embeddings.shape[1]), dtype=np.float32)
    for index in range(n_classes):
        members = embeddings[targets == index]
        if len(members):
            centroids[index] = members.mean(axis=0)
    return l2_normalise(centroids)


def _softmax(logits):
    logits = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)


def stratified_folds(targets, folds, seed=0):
    """Yield (train_index, test_index) pairs; every class is spread over the folds."""
    targets = np.asarray(targets)
    n_folds = max(2, min(folds, int(np.bincount(targets).max())))
    rng = np.random.default_rng(seed)
    assignment = np.empty(len(targets), dtype=int)
    for label in np.unique(targets):
        members = np.flatnonzero(targets == label)
        rng.shuffle(members)
        assignment[members] = (np.arange(len(members)) + rng.integers(n_folds)) % n_folds
    for fold in range(n_folds):
        test = np.flatnonzero(assignment == fold)
        train = np.flatnonzero(assignment != fold)
        if len(test) and len(train):
            yield train, test
