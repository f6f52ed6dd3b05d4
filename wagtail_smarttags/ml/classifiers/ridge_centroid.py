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

Given a *background* (embeddings of the site's library, unlabelled), the classifier
also learns what the model's tags are not, which the two tests above cannot: an image
of a garment the model was not made for is often as close to a tag's centroid as the
tag's own examples. The library is split into images that look like one of the tags
(a model cross-fitted on the examples and the rest of the library gives them to a tag)
and the others; the others are grouped by k-means into ``background_clusters``
classes that the ridge and the centroids learn beside the tags. A tag is applied only
when it beats every background class, so an image must look more like the tag's
examples than like anything else the site holds.

*Negatives* are images an editor said are not the tag the model gave them (removed smart
tags). They look like a tag, by definition, so the sorting above would take them for one:
they join the background as classes of their own, which no filter drops.

Everything is NumPy; parameters round-trip through :meth:`TagClassifier.to_arrays`
as plain arrays.
"""

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

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
    #: Classes learnt from the background (the site's library) beside the tags; 0 ignores the background.
    background_clusters: int = 10
    #: Library images that a model cross-fitted on the examples gives to a tag with at least this
    #: probability are taken for images of that tag and left out of the background.
    background_confidence: float = 0.5
    #: A background cluster that wins over the tags for more than this share of the held-out examples is
    #: taken for a group of the tags' own photos and dropped (1: never).
    background_steal_rate: float = 0.05
    #: Fewer library images than this left for the background, and none is learnt.
    background_min_images: int = 50
    #: Tags with fewer examples than this are trained (they still compete with the others) but never
    #: applied: a tag learnt from one or two images would be applied to half the library.
    min_examples_to_apply: int = 0
    #: Library images taken for images of a tag count as this much of an example of it (0: not at all).
    library_example_weight: float = 0.5
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
    #: Per tag: whether it may be applied at all (see ``TrainingOptions.min_examples_to_apply``).
    automatic: np.ndarray | None = None

    def __post_init__(self):
        if self.automatic is None:
            self.automatic = np.ones(len(self.labels), dtype=bool)

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
        n_tags = len(self.labels)
        best = probabilities[:, :n_tags].argmax(axis=1)
        rows = np.arange(len(best))
        confidences = probabilities[rows, best]
        similarities = cosines[rows, best]
        applied = (
            self.automatic[best]
            & (probabilities.argmax(axis=1) < n_tags)  # no background class looks more like the image
            & (confidences >= self.thresholds[best])
            & (similarities >= self.similarity_floors[best])
        )
        return best, confidences, similarities, applied, probabilities[:, :n_tags]

    @property
    def background_classes(self):
        """How many classes of the site's library were learnt beside the tags (rows after the tags')."""
        return len(self.weights) - len(self.labels)

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
            "automatic": np.asarray(self.automatic, dtype=bool),
        }

    @classmethod
    def train(cls, embeddings, labels, options=None, background=None, negatives=None):
        return train_classifier(embeddings, labels, options, background, negatives)

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
            automatic=np.asarray(arrays["automatic"], dtype=bool) if "automatic" in arrays else None,
        )


def train_classifier(embeddings, labels, options=None, background=None, negatives=None):
    """Train a classifier over ``embeddings`` (N, D) with one string label per row.

    ``background`` (M, D), optional: unlabelled embeddings of the site's library, in which images
    of the tags and of everything else are mixed (see the module's docstring). ``negatives`` (K, D),
    optional: images known to be none of the tags they look like.
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
    background = _background(embeddings, targets, n_classes, background, options, negatives)

    out_of_fold = _cross_validate(embeddings, targets, n_classes, options, background)
    if background is not None and options.background_steal_rate < 1:
        background, out_of_fold = _without_clusters_of_the_tags(
            embeddings, targets, n_classes, options, background, out_of_fold
        )
    thresholds, floors, metrics = _choose_thresholds(targets, out_of_fold, label_names, options)

    vectors, all_targets, n_all, row_weights = _with_background(
        embeddings, targets, n_classes, background, options.library_example_weight
    )
    classifier = RidgeCentroidClassifier(
        labels=label_names,
        weights=_fit_ridge(vectors, all_targets, n_all, options.regularisation, row_weights),
        bias=np.zeros(n_all, dtype=np.float32),
        centroids=_centroids(vectors, all_targets, n_all),
        thresholds=thresholds,
        similarity_floors=floors,
        scale=float(options.scale),
        centroid_scale=float(options.centroid_scale),
        centroid_weight=float(options.centroid_weight),
        automatic=np.bincount(targets, minlength=n_classes) >= options.min_examples_to_apply,
    )
    for label, automatic in zip(label_names, classifier.automatic):
        metrics[label].automatic = bool(automatic)
    return classifier, metrics


def _probabilities(embeddings, weights, bias, centroids, scale, centroid_scale, centroid_weight, cosines=None):
    probabilities = _softmax(scale * (embeddings @ weights.T) + bias)
    if centroid_weight:
        nearest = _softmax(centroid_scale * (embeddings @ centroids.T if cosines is None else cosines))
        probabilities = (1.0 - centroid_weight) * probabilities + centroid_weight * nearest
    return probabilities


class Background(NamedTuple):
    """What training learns besides the examples: ``vectors`` in background classes (``clusters``, from 0),
    and library images taken for a tag (``positives``, of ``positive_targets``). Clusters from
    ``protected_from`` on are the editors' negatives."""

    vectors: np.ndarray
    clusters: np.ndarray
    positives: np.ndarray
    positive_targets: np.ndarray
    protected_from: int

    @property
    def classes(self):
        return int(self.clusters.max()) + 1


def _background(embeddings, targets, n_classes, library, options, negatives=None):
    """The library's images that look like none of the tags, clustered, and the editors' negatives beside them.

    Images of the tags are expected in the library (the examples themselves usually are): a
    model of the tags against the rest of the library, fitted on the other folds of the library,
    decides for each image whether it belongs to a tag; those are left out. ``None`` when there
    is nothing to learn from: no library (or too little of it) and no negatives.
    """
    if options.background_clusters <= 0:
        return None
    dimension = embeddings.shape[1]
    rng = np.random.default_rng(options.seed)
    others, positives, positive_targets = _sorted_library(embeddings, targets, n_classes, library, options, rng)
    negatives = np.zeros((0, dimension), np.float32) if negatives is None else np.asarray(negatives, np.float32)
    negatives = l2_normalise(negatives.reshape(-1, dimension))
    clusters = min(options.background_clusters, len(others) // 5)
    if clusters < 1:
        others = others[:0]
    if not len(others) and not len(negatives):
        return None
    library_clusters = kmeans(others, clusters, rng) if len(others) else np.zeros(0, dtype=int)
    protected_from = int(library_clusters.max(initial=-1)) + 1
    negative_clusters = (
        kmeans(negatives, max(1, min(options.background_clusters, len(negatives) // 5)), rng)
        if len(negatives)
        else np.zeros(0, dtype=int)
    )
    return Background(
        np.concatenate([others, negatives]),
        np.concatenate([library_clusters, protected_from + negative_clusters]).astype(int),
        positives,
        positive_targets,
        protected_from,
    )


def _sorted_library(embeddings, targets, n_classes, library, options, rng):
    """``(images that look like no tag, images that look like one, the tag of each)`` of the library."""
    empty = np.zeros((0, embeddings.shape[1]), np.float32)
    if library is None or len(library) == 0:
        return empty, empty, np.zeros(0, dtype=int)
    library = l2_normalise(np.asarray(library, dtype=np.float32))
    # The examples are images of the library too; their own rows would only restate them.
    library = library[(library @ embeddings.T).max(axis=1) < 0.9999]
    if len(library) < 10:
        return empty, empty, np.zeros(0, dtype=int)
    folds = max(2, min(options.folds, len(library)))
    fold_of = rng.permutation(len(library)) % folds
    looks_like_a_tag = np.zeros(len(library), dtype=bool)
    tag_of = np.zeros(len(library), dtype=int)
    for fold in range(folds):
        held_out = fold_of == fold
        vectors = np.concatenate([embeddings, library[~held_out]])
        fold_targets = np.concatenate([targets, np.full(int((~held_out).sum()), n_classes)])
        weights = _fit_ridge(vectors, fold_targets, n_classes + 1, options.regularisation)
        probabilities = _softmax(options.scale * (library[held_out] @ weights.T))
        best = probabilities.argmax(axis=1)
        looks_like_a_tag[held_out] = (best < n_classes) & (probabilities.max(axis=1) >= options.background_confidence)
        tag_of[held_out] = best
    others = library[~looks_like_a_tag]
    if len(others) < options.background_min_images:
        # A new site's first uploads, mostly of the tags themselves: too few to tell what is not a tag.
        return empty, empty, np.zeros(0, dtype=int)
    return others, library[looks_like_a_tag], tag_of[looks_like_a_tag]


def kmeans(vectors, clusters, rng, iterations=20):
    """Spherical k-means on unit vectors: the cluster index of each row (k-means++ seeding)."""
    centres = [vectors[rng.integers(len(vectors))]]
    for _ in range(1, clusters):
        distance = np.maximum(1.0 - (vectors @ np.stack(centres).T).max(axis=1), 0.0)
        total = distance.sum()
        chosen = rng.choice(len(vectors), p=distance / total) if total > 0 else rng.integers(len(vectors))
        centres.append(vectors[chosen])
    centres = np.stack(centres)
    assignment = (vectors @ centres.T).argmax(axis=1)
    for _ in range(iterations):
        for index in range(clusters):
            members = vectors[assignment == index]
            if len(members):
                centres[index] = members.mean(axis=0)
        centres = l2_normalise(centres)
        updated = (vectors @ centres.T).argmax(axis=1)
        if np.array_equal(updated, assignment):
            break
        assignment = updated
    # Clusters left empty are dropped, so that every background class has members.
    _, assignment = np.unique(assignment, return_inverse=True)
    return assignment


def _without_clusters_of_the_tags(embeddings, targets, n_classes, options, background, out_of_fold):
    """Drop the library's background clusters that win over the tags for more than ``background_steal_rate``
    of the held-out examples: groups of the tags' own photos that the sorting left in the library (a library
    made mostly of them leaves many), not images of something else. The editors' negatives always stay."""
    probabilities = out_of_fold[0]
    winners = probabilities.argmax(axis=1)
    stolen = np.bincount(winners[winners >= n_classes] - n_classes, minlength=background.classes)
    own_photos = np.flatnonzero(stolen > options.background_steal_rate * len(targets))
    own_photos = own_photos[own_photos < background.protected_from]
    if not len(own_photos):
        return background, out_of_fold
    keep = ~np.isin(background.clusters, own_photos)
    if not keep.any():
        background = None
    else:
        _, renumbered = np.unique(background.clusters[keep], return_inverse=True)
        dropped_before_protected = int(np.isin(np.arange(background.protected_from), own_photos).sum())
        background = background._replace(
            vectors=background.vectors[keep],
            clusters=renumbered,
            protected_from=background.protected_from - dropped_before_protected,
        )
    return background, _cross_validate(embeddings, targets, n_classes, options, background)


def _positive_weights(targets, positive_targets, weight, reference=10):
    """Library images taken for a tag count as ``weight`` of an example while the tag has ``reference``
    examples or fewer, and less beyond: they help most where examples are few, and with many, the
    look-alikes among them cost more than they add."""
    counts = np.bincount(targets, minlength=int(positive_targets.max(initial=0)) + 1)
    return (weight * np.minimum(1.0, reference / np.maximum(counts[positive_targets], 1))).astype(np.float32)


def _with_background(embeddings, targets, n_classes, background, weight=0.0):
    """Examples and background rows as one training set: ``(vectors, targets, number of classes, row weights)``.
    Library images that look like a tag count as ``weight`` of an example of it."""
    if background is None:
        return embeddings, targets, n_classes, None
    vectors, clusters, positives, positive_targets, _ = background
    if not weight:
        positives, positive_targets = positives[:0], positive_targets[:0]
    return (
        np.concatenate([embeddings, vectors, positives]),
        np.concatenate([targets, n_classes + clusters, positive_targets]),
        n_classes + int(clusters.max()) + 1,
        np.concatenate([np.ones(len(targets) + len(vectors)), _positive_weights(targets, positive_targets, weight)]),
    )


def _cross_validate(embeddings, targets, n_classes, options, background=None):
    """Out-of-fold (probabilities over tags and background classes, similarity to own-fold tag centroids)
    for every example. The background is in every fold's training: it is never what is measured."""
    n = len(targets)
    n_all = _with_background(embeddings, targets, n_classes, background)[2]
    weight = options.library_example_weight
    probabilities = np.full((n, n_all), np.nan, dtype=np.float32)
    similarities = np.full((n, n_classes), np.nan, dtype=np.float32)
    for train_index, test_index in stratified_folds(targets, options.folds, options.seed):
        # A tag whose examples all sit in the test fold has nothing to learn from here.
        present_tags = np.unique(targets[train_index])
        present = np.concatenate([present_tags, np.arange(n_classes, n_all)])
        remap = np.full(n_all, -1)
        remap[present] = np.arange(len(present))
        vectors, fold_targets, _, row_weights = _with_background(
            embeddings[train_index], targets[train_index], n_classes, background, weight
        )
        fold_targets = remap[fold_targets]
        weights = _fit_ridge(vectors, fold_targets, len(present), options.regularisation, row_weights)
        centroids = _centroids(vectors, fold_targets, len(present))
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
        similarities[np.ix_(test_index, present_tags)] = embeddings[test_index] @ centroids[: len(present_tags)].T
    # A tag absent from a fold's training gets probability 0; its similarity stays NaN (unknown).
    return np.nan_to_num(probabilities, nan=0.0), similarities


def _choose_thresholds(targets, out_of_fold, label_names, options):
    probabilities, similarities = out_of_fold
    n_classes = len(label_names)
    rows = np.arange(len(targets))
    predicted = probabilities[:, :n_classes].argmax(axis=1)
    confidence = probabilities[rows, predicted]
    beats_background = probabilities.argmax(axis=1) < n_classes
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
    threshold = choose_confidence_threshold(
        confidence, (predicted == targets) & beats_background, options.rejection_rate
    )
    thresholds = np.full(n_classes, threshold, dtype=np.float32)

    applied = (
        beats_background & (confidence >= thresholds[predicted]) & (predicted_similarity >= floors[predicted])
    )
    metrics = {}
    for index, label in enumerate(label_names):
        own = targets == index
        tagged = applied & (predicted == index)
        true_positives = int((tagged & own).sum())
        given = [label_names[p] if a else "" for p, a in zip(predicted[own], applied[own])]
        metrics[label] = TagMetrics(
            examples=int(own.sum()),
            precision=true_positives / int(tagged.sum()) if tagged.any() else None,
            recall=true_positives / int(own.sum()) if own.any() else None,
            threshold=float(thresholds[index]),
            similarity_floor=float(floors[index]),
            confusion={name: given.count(name) for name in sorted(set(given))},
            mistakes=sorted(
                (
                    {"example": int(row), "predicted": label_names[predicted[row]],
                     "confidence": float(confidence[row])}  # fmt: skip
                    for row in np.flatnonzero(own & (predicted != index))
                ),
                key=lambda mistake: -mistake["confidence"],
            ),
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


def _fit_ridge(embeddings, targets, n_classes, regularisation, row_weights=None):
    """Class-balanced ridge regression onto one-hot targets; returns weights (n_classes, D).

    ``row_weights``: how much each row counts within its class (1 for all by default)."""
    n, dimension = embeddings.shape
    x = np.asarray(embeddings, dtype=np.float32)
    row_weights = np.ones(n, dtype=np.float32) if row_weights is None else np.asarray(row_weights, np.float32)
    counts = np.bincount(targets, weights=row_weights, minlength=n_classes).astype(np.float32)
    sample_weights = (row_weights * (row_weights.sum() / (n_classes * np.maximum(counts, 1e-6)))[targets]).astype(
        np.float32
    )
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
