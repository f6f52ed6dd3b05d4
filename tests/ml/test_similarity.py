"""Find similar's compact index (``ml.similarity``): fixed projections, exact upkeep, nearest with permissions."""

import numpy as np
import pytest
from PIL import Image, ImageOps

from wagtail_smarttags.ml.similarity import (
    CompactIndex,
    asset_vector,
    compact_vectors,
    projection,
    rerank,
)

from ..datasets import clothing_images


def test_the_projection_is_the_same_in_every_process_and_release():
    # Stored compact vectors stay comparable only while this holds: these are NumPy's frozen legacy stream.
    expected = [[0.535222, 0.559087], [-0.215881, 0.065769], [-0.428498, -0.436416], [0.189732, 0.619054]]
    assert projection(4, 2) == pytest.approx(np.array(expected), abs=1e-6)
    assert projection(2560).shape == (2560, 128) and projection(2560).dtype == np.float32


def test_compact_vectors_are_unit_length_and_keep_zero_vectors_zero():
    vectors = compact_vectors(np.vstack([np.random.default_rng(1).standard_normal((3, 300)), np.zeros(300)]))
    assert vectors.shape == (4, 128)
    assert np.linalg.norm(vectors[:3], axis=1) == pytest.approx(1, abs=1e-5) and not vectors[3].any()


def test_a_video_is_the_mean_of_its_frames():
    frames = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    assert asset_vector(frames) == pytest.approx(np.array([1, 1]) / np.sqrt(2))
    assert asset_vector(np.array([3.0, 4.0])) == pytest.approx([0.6, 0.8])


def unit_rows(count, dimension=16, seed=0):
    rows = np.random.default_rng(seed).standard_normal((count, dimension)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_the_index_finds_the_nearest_and_stays_exact_as_vectors_change():
    vectors = unit_rows(3000)
    index = CompactIndex(compact_dimension=16, capacity=8)  # grows by doubling from a small start
    index.upsert(range(3000), vectors)
    query = vectors[42]
    exact = list(np.argsort(-(vectors @ query), kind="stable")[:10])
    assert [key for key, _ in index.nearest(query, 10)] == exact
    assert index.nearest(query, 10)[0] == (42, pytest.approx(1.0))

    # Excluded, removed and changed rows: what the index returns is what it holds now.
    assert 42 not in [key for key, _ in index.nearest(query, 10, exclude=[42])]
    index.remove([exact[1], "never there"])
    assert exact[1] not in [key for key, _ in index.nearest(query, 10)] and len(index) == 2999
    index.upsert(["new"], [query])  # takes the removed row
    assert {key for key, _ in index.nearest(query, 2)} == {42, "new"} and len(index) == 3000
    index.upsert([42], [-query])
    assert index.nearest(query, 1)[0][0] == "new"


def test_permissions_are_asked_of_the_best_candidates_until_enough_pass():
    vectors = unit_rows(5000, seed=3)
    index = CompactIndex(compact_dimension=16)
    index.upsert(range(5000), vectors)
    asked = []

    def only_multiples_of_97(keys):
        asked.append(len(keys))
        return [key % 97 == 0 for key in keys]

    found = index.nearest(vectors[0], 20, exclude=[0], allowed=only_multiples_of_97)
    allowed = [key for key in np.argsort(-(vectors @ vectors[0]), kind="stable") if key % 97 == 0 and key]
    assert [key for key, _ in found] == allowed[:20]
    assert sum(asked) == 5000 - 1 and len(asked) >= 2  # widened until every row was weighed
    assert index.nearest(vectors[0], 5, allowed=lambda keys: [False] * len(keys)) == []
    assert CompactIndex().nearest(vectors[0], 5) == []


@pytest.fixture(scope="module")
def photos():
    return {
        name: [Image.open(path).convert("RGB") for path in paths]
        for name, paths in clothing_images("validation", ["hat", "shoes", "pants"], per_class=8).items()
    }


def test_compact_vectors_find_what_full_embeddings_find_on_real_photos(backbone, photos):
    images = [image for name in photos for image in photos[name]]
    labels = [name for name in photos for _ in photos[name]]
    embeddings = backbone.embed(images)
    compact = compact_vectors(embeddings)
    index = CompactIndex()
    index.upsert(range(len(images)), compact)
    recall = []
    for row, embedding in enumerate(embeddings):
        exact = [key for key in np.argsort(-(embeddings @ embedding), kind="stable") if key != row][:5]
        shortlist = [key for key, _ in index.nearest(compact[row], 10, exclude=[row])]
        recall.append(len(set(exact) & set(shortlist)) / 5)
        # Ranked again on their full embeddings, the shortlist's best are the exact nearest.
        reranked = rerank(embedding, {key: embeddings[key] for key in shortlist})
        if set(exact) <= set(shortlist):
            assert [key for key, _ in reranked[:5]] == exact
    # Of each photo's 5 nearest, a shortlist of 10 by compact vector holds nearly all.
    assert np.mean(recall) >= 0.8

    # A mirrored copy of a photo finds that photo first.
    mirrored = backbone.embed([ImageOps.mirror(images[3])])[0]
    assert index.nearest(compact_vectors([mirrored])[0], 1)[0][0] == 3
    assert labels[3] == "hat"
