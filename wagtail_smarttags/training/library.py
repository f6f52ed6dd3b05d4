"""What a site already has that a tag model can learn from: its library's images, unlabelled.

Most images a tag model will be applied to belong to none of its tags. The embedding cache holds
the vector of every image the site has tagged, so training can show the classifier a sample of
them as background (see ``ml.classifiers.ridge_centroid``) without reading a single file.
"""

import random

import numpy as np

from ..conf import get_setting
from ..ml.arrays import decode_array
from ..models import EmbeddingCache, TrainingExample
from ..pipeline.kinds import IMAGE, get_asset_kind
from ..pipeline.sql import rows_where_in
from ..pipeline.tagging import embed_assets

CHUNK = 1000


def library_background(tag_model, backbone, seed=None):
    """``(M, D)`` embeddings standing for the site's library, or None when the site has none yet.

    A random sample of at most ``TRAINING_LIBRARY_SIZE`` images from the embedding cache (videos'
    frame matrices are left out: a frame stands for a video only with its neighbours), and the
    example images of the site's other tag models, which editors chose as images of something else.
    """
    size = get_setting("TRAINING_LIBRARY_SIZE")
    if not size:
        return None
    rng = random.Random(tag_model.pk if seed is None else seed)
    vectors = _cached_sample(backbone.id, size, rng)
    vectors += _other_models_examples(tag_model, size, rng)
    vectors = [vector for vector in vectors if vector.shape == (backbone.dimension,)]
    return np.stack(vectors) if vectors else None


def _cached_sample(backbone_id, size, rng):
    keys = list(EmbeddingCache.objects.filter(backbone_id=backbone_id).values_list("pk", flat=True))
    chosen = rng.sample(keys, min(size, len(keys)))
    vectors = []
    for start in range(0, len(chosen), CHUNK):
        rows = rows_where_in(EmbeddingCache, ["vector"], "pk", chosen[start : start + CHUNK])
        vectors += [vector for vector in (decode_array(data) for (data,) in rows) if vector.ndim == 1]
    return vectors


def _other_models_examples(tag_model, size, rng):
    image_ids = list(
        TrainingExample.objects.exclude(tag_model=tag_model).values_list("image_id", flat=True).distinct()
    )
    image_ids = rng.sample(image_ids, min(size, len(image_ids)))
    if not image_ids:
        return []
    vectors, _ = embed_assets(get_asset_kind(IMAGE), image_ids)
    return list(vectors.values())
