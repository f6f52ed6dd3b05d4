"""What each active tag model decides for a batch of embeddings: at most one tag per model and asset."""

import numpy as np

from ..conf import get_setting


def decide(classifier, vectors):
    """``{object_id: (tag id, confidence) or None}`` for ``{object_id: embedding}``.

    An embedding is a vector (an image) or a matrix with one row per sampled frame (a video).
    Images are decided together: a library re-tag decides thousands per call.
    """
    minimum = get_setting("MIN_CONFIDENCE")
    decisions = {}
    tag_ids = [int(label) for label in classifier.labels]
    images = [object_id for object_id, vector in vectors.items() if vector.ndim == 1]
    if images:
        best, confidences, _, applied, _ = classifier.decide(np.stack([vectors[object_id] for object_id in images]))
        applied &= confidences >= minimum
        for object_id, index, confidence, is_applied in zip(
            images, best.tolist(), confidences.tolist(), applied.tolist()
        ):
            decisions[object_id] = (tag_ids[index], confidence) if is_applied else None
    share = get_setting("VIDEO_MIN_FRAME_SHARE")
    for object_id, frames in vectors.items():
        if frames.ndim == 2:
            prediction = classifier.predict_frames(frames, share)
            applied = prediction.applied and prediction.confidence >= minimum
            decisions[object_id] = (int(prediction.label), prediction.confidence) if applied else None
    return decisions
