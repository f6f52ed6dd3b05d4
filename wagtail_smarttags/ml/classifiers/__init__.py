"""Tag classifiers: a small interface (:class:`TagClassifier`) and the registry of implementations.

A trained version stores its classifier's name beside its arrays, so a site can change the
``CLASSIFIER`` setting without breaking the versions it trained before.
"""

import importlib

import numpy as np

from .base import Prediction, TagClassifier, TagMetrics

DEFAULT_CLASSIFIER = "ridge_centroid"
CLASSIFIER_ALIASES = {
    "ridge_centroid": "wagtail_smarttags.ml.classifiers.ridge_centroid.RidgeCentroidClassifier",
}
#: The array under which :func:`classifier_to_arrays` records which classifier made the others.
NAME_ARRAY = "classifier"


def classifier_class(backend=DEFAULT_CLASSIFIER):
    path = CLASSIFIER_ALIASES.get(backend, backend)
    module_name, _, class_name = path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError) as error:
        raise ValueError(f"Unknown tag classifier {backend!r}: {error}") from None
    if not (isinstance(cls, type) and issubclass(cls, TagClassifier)):
        raise ValueError(f"{path} is not a TagClassifier subclass.")
    return cls


def train_classifier(
    embeddings, labels, options=None, backend=DEFAULT_CLASSIFIER, background=None, negatives=None
):
    """Train the ``backend`` classifier; returns ``(classifier, {label: TagMetrics})``.

    ``background``: unlabelled embeddings of the site's library, or None; ``negatives``: images that are
    none of the tags they look like, or None (see :meth:`TagClassifier.train`).
    """
    extra = {} if negatives is None or not len(negatives) else {"negatives": negatives}
    return classifier_class(backend).train(embeddings, labels, options, background=background, **extra)


def classifier_to_arrays(classifier):
    """The classifier's arrays and its name: its alias, or the dotted path of a class that has none."""
    cls = type(classifier)
    path = f"{cls.__module__}.{cls.__qualname__}"
    name = classifier.name if CLASSIFIER_ALIASES.get(classifier.name) == path else path
    return {**classifier.to_arrays(), NAME_ARRAY: np.asarray(name, dtype=str)}


def classifier_from_arrays(arrays):
    """The classifier stored in ``arrays``; versions trained before the registry existed are ridge_centroid."""
    name = str(arrays[NAME_ARRAY]) if NAME_ARRAY in arrays else DEFAULT_CLASSIFIER
    return classifier_class(name).from_arrays(arrays)


__all__ = [
    "CLASSIFIER_ALIASES", "DEFAULT_CLASSIFIER", "Prediction", "TagClassifier", "TagMetrics",
    "classifier_class", "classifier_from_arrays", "classifier_to_arrays", "train_classifier",
]  # fmt: skip
