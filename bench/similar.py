"""Find similar at library scale: query time, memory and recall of the compact index (``ml.similarity``).

A library of ``--assets`` embeddings is made from real ones: the default backbone embeds the clothing
photos (``train/`` and ``validation/``), and each library embedding is a random mixture of two of them
plus a little noise, normalised, so that its values and similarities are distributed like a real
library's (non-negative, concentrated cosines), not like random vectors'. Rows are made in chunks of
50,000; full embeddings are never all held at once.

For ``--queries`` library rows, in one run:

* the compact index's ``nearest`` (one matrix product over every compact vector, then a partial sort),
  and the re-ranking of its shortlist on the full embeddings, timed (p50, p95);
* recall@10: the share of each query's exact 10 nearest (brute force over the full embeddings, chunk by
  chunk) that the re-ranked shortlist returns;
* the index's memory, and the time to build it.

    python bench/similar.py [--assets 100000 1000000] [--queries 50] [--shortlist 1000] [--json]
"""

import argparse
import time

import numpy as np
from _django import RESULTS, publish, require_dataset

CHUNK = 50_000
NEAREST = 10


def real_embeddings(clothing):
    """``(backbone id, embeddings)`` of every clothing photo, by the default backbone; kept in bench/results."""
    from wagtail_smarttags.conf import DEFAULTS
    from wagtail_smarttags.ml.backbones import load_backbone
    from wagtail_smarttags.ml.images import decode_image

    config = DEFAULTS["IMAGE_BACKBONE"]
    backbone = load_backbone(config["BACKEND"], config["OPTIONS"])
    paths = sorted(clothing.glob("*/*/*.jpg"))
    kept = RESULTS / "similar-embeddings.npz"
    if kept.exists():
        saved = np.load(kept)
        if str(saved["backbone"]) == backbone.id and len(saved["vectors"]) == len(paths):
            return backbone.id, saved["vectors"]
    target = max(DEFAULTS["DECODE_SIZE"], backbone.input_size)
    vectors = []
    for start in range(0, len(paths), backbone.batch_size):
        batch = paths[start : start + backbone.batch_size]
        images = [decode_image(path, target_size=target, max_pixels=DEFAULTS["MAX_IMAGE_PIXELS"]) for path in batch]
        vectors.append(backbone.embed(images))
    RESULTS.mkdir(parents=True, exist_ok=True)
    np.savez(kept, backbone=backbone.id, vectors=np.concatenate(vectors))
    return backbone.id, np.concatenate(vectors)


class Library:
    """``assets`` library embeddings, any of which can be made again cheaply: row ``k`` mixes real embeddings
    ``first[k]`` and ``second[k]`` by ``weight[k]``, adds one of 4,096 small noise vectors, and is normalised."""

    def __init__(self, real, assets, seed=0):
        rng = np.random.default_rng(seed)
        self.real = real
        self.first, self.second = rng.integers(0, len(real), assets), rng.integers(0, len(real), assets)
        self.weight = rng.uniform(0.5, 1.0, assets).astype(np.float32)
        self.noise = rng.normal(0, 0.01, (4096, real.shape[1])).astype(np.float32)
        self.noise_of = rng.integers(0, len(self.noise), assets)

    def rows(self, keys):
        keys = np.asarray(keys)
        weight = self.weight[keys, None]
        rows = weight * self.real[self.first[keys]] + (1 - weight) * self.real[self.second[keys]]
        rows += self.noise[self.noise_of[keys]]
        np.maximum(rows, 0, out=rows)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def measure(real, assets, queries, shortlist, seed=0):
    from wagtail_smarttags.ml.similarity import CompactIndex, compact_vectors, rerank

    library = Library(real, assets, seed)
    query_rows = np.random.default_rng(seed + 1).choice(assets, queries, replace=False)
    query_embeddings = library.rows(query_rows)
    index = CompactIndex(capacity=assets)
    exact_scores = np.empty((queries, assets), dtype=np.float32)
    build_seconds = 0.0
    for start in range(0, assets, CHUNK):
        keys = np.arange(start, min(assets, start + CHUNK))
        rows = library.rows(keys)
        exact_scores[:, keys] = query_embeddings @ rows.T
        began = time.perf_counter()
        index.upsert(keys.tolist(), compact_vectors(rows))
        build_seconds += time.perf_counter() - began

    nearest_ms, rerank_ms, recalls = [], [], []
    for position, row in enumerate(query_rows):
        scores = exact_scores[position]
        scores[row] = -np.inf
        exact = set(np.argpartition(-scores, NEAREST)[:NEAREST].tolist())
        query = compact_vectors(query_embeddings[position : position + 1])[0]
        began = time.perf_counter()
        candidates = index.nearest(query, shortlist, exclude=[int(row)])
        nearest_ms.append(1000 * (time.perf_counter() - began))
        # The shortlist's full embeddings, as the admin would read them from the embedding cache.
        keys = [key for key, _ in candidates]
        full = dict(zip(keys, library.rows(keys), strict=True))
        began = time.perf_counter()
        ranked = rerank(query_embeddings[position], full)[:NEAREST]
        rerank_ms.append(1000 * (time.perf_counter() - began))
        recalls.append(len(exact & {key for key, _ in ranked}) / NEAREST)
    return {
        "assets": assets,
        "queries": queries,
        "shortlist": shortlist,
        "compact_dimension": index.compact_dimension,
        "index_mb": round(index.nbytes / 2**20, 1),
        "build_seconds": round(build_seconds, 1),
        "nearest_ms_p50": round(float(np.percentile(nearest_ms, 50)), 1),
        "nearest_ms_p95": round(float(np.percentile(nearest_ms, 95)), 1),
        "rerank_ms_p50": round(float(np.percentile(rerank_ms, 50)), 1),
        "recall_at_10": round(float(np.mean(recalls)), 4),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assets", type=int, nargs="+", default=[100_000])
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--shortlist", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    backbone_id, real = real_embeddings(require_dataset("clothing"))
    results = {"backbone": backbone_id, "real_embeddings": len(real), "runs": []}
    for assets in args.assets:
        results["runs"].append(measure(real, assets, args.queries, args.shortlist))
    publish("similar", results, args.json, print_report)


def print_report(results):
    print(
        f"Find similar: a compact index over mixtures of {results['real_embeddings']} real embeddings "
        f"({results['backbone']})"
    )
    header = ["assets", "index MB", "build s", "nearest p50 ms", "nearest p95 ms", "re-rank p50 ms", "recall@10"]
    print("  ".join(f"{name:>14}" for name in header))
    for run in results["runs"]:
        values = [f"{run['assets']:,}", run["index_mb"], run["build_seconds"], run["nearest_ms_p50"],
                  run["nearest_ms_p95"], run["rerank_ms_p50"], f"{run['recall_at_10']:.1%}"]  # fmt: skip
        print("  ".join(f"{value!s:>14}" for value in values))


if __name__ == "__main__":
    main()
