"""Library images likely to belong to each tag of a model, for the editor to add as examples in one click.

Each tag's examples (their cached embeddings) make a centroid; each candidate image goes to the tag
whose centroid it is nearest, as a trained model would give it at most one tag of the model, if it is
at least as like that centroid as the tag's least typical example is like the others; each tag is
offered its nearest candidates. Nothing is read or embedded here: images the worker has
not embedded yet are neither examples to learn from nor candidates, so a page showing suggestions
costs a few queries and one matrix product, never a network pass.
"""

import numpy as np

from ..conf import get_setting
from ..models import TaggingState
from ..pipeline.embedding_cache import cached_embeddings
from ..pipeline.kinds import IMAGE, content_type_for, get_asset_kind
from ..pipeline.loading import get_backbone

#: The newest images the editor may choose that are weighed as candidates: a library of a million
#: images is not read whole to fill an edit page.
CANDIDATE_POOL = 5000


def suggest_examples(tag_model, candidates, per_tag=None):
    """``{tag id: [image id, ...]}``, the nearest first, for the tags of ``tag_model`` that have examples.

    ``candidates`` is a queryset of the images that may be suggested (those the editor may choose);
    the model's own examples never are.
    """
    per_tag = get_setting("SUGGESTED_EXAMPLES") if per_tag is None else per_tag
    examples = list(tag_model.examples.values_list("tag_id", "image_id"))
    if not per_tag or not examples:
        return {}
    content_type = content_type_for(get_asset_kind(IMAGE).get_model())
    states = TaggingState.objects.filter(content_type=content_type).exclude(file_hash="")
    example_ids = {image_id for _tag_id, image_id in examples}
    example_hashes = dict(states.filter(object_id__in=example_ids).values_list("object_id", "file_hash"))
    pool = list(
        states.filter(status=TaggingState.Status.DONE, object_id__in=candidates.values("pk"))
        .exclude(object_id__in=example_ids)
        .order_by("-object_id")
        .values_list("object_id", "file_hash")[:CANDIDATE_POOL]
    )
    vectors = cached_embeddings({*example_hashes.values(), *(file_hash for _id, file_hash in pool)}, get_backbone().id)

    centroids, tag_ids, floors = [], [], []
    for tag_id in sorted({tag_id for tag_id, _image_id in examples}):
        own = [vectors.get(example_hashes.get(image_id)) for t, image_id in examples if t == tag_id]
        own = [_unit(vector) for vector in own if vector is not None and vector.ndim == 1]
        if own:
            centroid = _unit(np.mean(own, axis=0))
            centroids.append(centroid)
            tag_ids.append(tag_id)
            floors.append(_floor(np.stack(own), centroid))
    pool = [(image_id, vectors[file_hash]) for image_id, file_hash in pool if file_hash in vectors]
    pool = [(image_id, vector) for image_id, vector in pool if vector.ndim == 1 and len(centroids)
            and vector.shape == centroids[0].shape]  # fmt: skip
    if not centroids or not pool:
        return {}
    similarity = np.stack([_unit(vector) for _id, vector in pool]) @ np.stack(centroids).T
    nearest = similarity.argmax(axis=1)
    suggestions = {}
    for column, tag_id in enumerate(tag_ids):
        # Nearest to this tag among the model's tags is not enough: an image of something else altogether
        # (shorts, for a model of hats and shoes) is nearest to one of them too. It must also be as like
        # the tag's examples as the least typical of them is like the rest (_floor).
        rows = np.flatnonzero((nearest == column) & (similarity[:, column] >= floors[column]))
        best = rows[np.argsort(-similarity[rows, column], kind="stable")][:per_tag]
        if len(best):
            suggestions[tag_id] = [pool[row][0] for row in best]
    return suggestions


def _floor(own, centroid):
    """The least similarity to ``centroid`` a candidate needs: that of the tag's least typical example, measured
    against the centroid of the others (with itself in, every example would look typical). An example filed
    under the wrong tag lowers it, and lets its look-alikes in; stricter floors (a quarter of the way up, the
    average) kept true images of the tag out, in the tests and the browser walk."""
    if len(own) < 2:
        return -1.0
    total = own.sum(axis=0)
    leave_one_out = [_unit(total - vector) for vector in own]
    similarities = [float(vector @ other) for vector, other in zip(own, leave_one_out, strict=True)]
    return min(similarities)


def _unit(vector):
    vector = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector
