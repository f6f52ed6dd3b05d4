"""What every tag classifier offers the rest of the app, whatever its method.

A classifier is trained on the embeddings of a tag model's examples (one string label per
row: the tag) and decides, for any embedding, the best tag and whether it is applied at all.
Tags of one model are exclusive, so it decides one tag per image. Its parameters are plain
arrays (:meth:`to_arrays`) so that a trained version is stored as data, never as a pickle.
"""

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np


@dataclass
class TagMetrics:
    """Cross-validated figures for one tag, shown to editors on the versions screen and the report."""

    examples: int
    precision: float | None
    recall: float | None
    threshold: float
    similarity_floor: float
    #: False for a tag that is trained but never applied automatically (too few examples).
    automatic: bool = True
    #: What its examples got out of fold: ``{tag: count}``, ``""`` counting those given no tag.
    confusion: dict = field(default_factory=dict)
    #: Its examples given another best tag out of fold, the likeliest mistakes on new images:
    #: ``[{"example": row of the training embeddings, "predicted": tag, "confidence": float}]``.
    mistakes: list = field(default_factory=list)

    def as_dict(self):
        return {
            "automatic": self.automatic,
            "confusion": self.confusion,
            "mistakes": self.mistakes,
            "examples": self.examples,
            "precision": self.precision,
            "recall": self.recall,
            "threshold": self.threshold,
            "similarity_floor": self.similarity_floor,
        }


@dataclass
class Prediction:
    """The outcome for one image: the best tag, whether it is applied, and why not."""

    label: str
    confidence: float
    similarity: float
    applied: bool
    probabilities: dict = field(default_factory=dict)


class TagClassifier:
    """The interface. Subclasses set :attr:`name` (stored with the arrays) and implement the four methods."""

    #: The key under which the class is registered in ``CLASSIFIER_ALIASES`` and stored with a version.
    name: ClassVar[str] = ""
    #: The tags (strings) in the order of :meth:`decide`'s indices.
    labels: list

    @classmethod
    def train(cls, embeddings, labels, options=None, background=None, negatives=None):
        """Return ``(classifier, {label: TagMetrics})`` for (N, D) ``embeddings`` and N string labels.

        ``background`` (M, D) or None: embeddings of images of the site's library, unlabelled. Most
        images a model will see belong to none of its tags; a classifier may learn from these what
        its tags are not. Some of them are images of the tags (the examples usually are among them).
        ``negatives`` (K, D) or None: images that editors said are not the tag the model gave them,
        and so look like a tag without being one. Passed only when there are some, so a classifier
        written before they existed keeps working.
        """
        raise NotImplementedError

    def decide(self, embeddings):
        """For (N, D) embeddings, arrays of: best tag index, its confidence, its similarity to the tag's
        examples, whether it is applied, and every tag's probability (N, tags)."""
        raise NotImplementedError

    def to_arrays(self):
        """``{name: np.ndarray}``: everything :meth:`from_arrays` needs, no Python objects."""
        raise NotImplementedError

    @classmethod
    def from_arrays(cls, arrays):
        raise NotImplementedError

    def predict(self, embeddings):
        best, confidences, similarities, applied, probabilities = self.decide(embeddings)
        return [
            Prediction(
                label=self.labels[index],
                confidence=float(confidences[row]),
                similarity=float(similarities[row]),
                applied=bool(applied[row]),
                probabilities=dict(zip(self.labels, probabilities[row].tolist())),
            )
            for row, index in enumerate(best)
        ]

    def predict_frames(self, frame_embeddings, min_share=0.25):
        """One prediction for a video from its sampled frames' embeddings (F, D).

        The tag applied in the most frames wins (ties go to the higher mean confidence); it
        is applied to the video when at least ``min_share`` of the frames got it, with the
        mean confidence of those frames. A tag seen in one frame of sixteen is a glimpse, not
        what the video is about.
        """
        predictions = self.predict(np.atleast_2d(frame_embeddings))
        votes = {}
        for prediction in predictions:
            if prediction.applied:
                votes.setdefault(prediction.label, []).append(prediction)
        if not votes:
            best = max(predictions, key=lambda prediction: prediction.confidence)
            return Prediction(best.label, best.confidence, best.similarity, applied=False)
        label, chosen = max(
            votes.items(), key=lambda item: (len(item[1]), np.mean([p.confidence for p in item[1]]))
        )
        share = len(chosen) / len(predictions)
        return Prediction(
            label=label,
            confidence=float(np.mean([prediction.confidence for prediction in chosen])),
            similarity=float(np.mean([prediction.similarity for prediction in chosen])),
            applied=share >= min_share,
        )
