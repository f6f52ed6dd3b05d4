"""Find similar: the assets whose embeddings are nearest to one asset's, from a compact index in memory.

A backbone's embedding is thousands of floats (2,560 for the default), 10 KB an asset: a million of them
do not fit a web process. The index keeps each asset as a *compact vector* instead: the embedding mapped
by a fixed random projection to ``COMPACT_DIMENSION`` floats (512 bytes) and normalised, which keeps
cosine similarities close (Johnson-Lindenstrauss). A query scores every compact vector in one matrix
product, and the best few hundred may be ranked again on their full embeddings (:func:`rerank`).

The projection is drawn from NumPy's legacy ``RandomState``, whose stream NumPy keeps fixed across
releases: compact vectors computed by one worker, stored, and read by another process years later stay
comparable. A video is one compact vector, the mean of its frames'.

No Django here: the pipeline stores compact vectors; the admin's view filters by what the editor may see.
"""

import numpy as np

COMPACT_DIMENSION = 128

_projections: dict[tuple[int, int], np.ndarray] = {}


def projection(dimension, compact_dimension=COMPACT_DIMENSION):
    """The fixed ``(dimension, compact_dimension)`` projection matrix, float32 (built once per process)."""
    key = (dimension, compact_dimension)
    if key not in _projections:
        state = np.random.RandomState(dimension * 7919 + compact_dimension)
        matrix = state.standard_normal((dimension, compact_dimension)) / np.sqrt(compact_dimension)
        _projections[key] = matrix.astype(np.float32)
    return _projections[key]


def compact_vectors(embeddings, compact_dimension=COMPACT_DIMENSION):
    """Compact, unit-length vectors of ``(n, dimension)`` embeddings, as a ``(n, compact_dimension)`` array."""
    embeddings = np.atleast_2d(np.asarray(embeddings, dtype=np.float32))
    projected = embeddings @ projection(embeddings.shape[1], compact_dimension)
    norms = np.linalg.norm(projected, axis=1, keepdims=True)
    return np.divide(projected, norms, out=np.zeros_like(projected), where=norms > 0)


def asset_vector(embedding):
    """An asset's unit embedding: an image's own, a video's mean over its frames."""
    embedding = np.asarray(embedding, dtype=np.float32)
    vector = embedding.mean(axis=0) if embedding.ndim == 2 else embedding
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


class CompactIndex:
    """Compact vectors by key (any hashable: the pipeline uses ``(content type id, object id)``), kept exact
    by :meth:`upsert` and :meth:`remove` as embeddings change, searched by :meth:`nearest`.

    Rows live in one preallocated float32 matrix that grows by doubling; a removed row is blanked and
    reused, so that scoring stays one matrix product over contiguous memory.
    """

    def __init__(self, compact_dimension=COMPACT_DIMENSION, capacity=1024):
        self.compact_dimension = compact_dimension
        self._matrix = np.zeros((capacity, compact_dimension), dtype=np.float32)
        self._keys: list = [None] * capacity
        self._rows: dict = {}
        self._free: list[int] = []
        self._used = 0

    def __len__(self):
        return len(self._rows)

    def __contains__(self, key):
        return key in self._rows

    @property
    def nbytes(self):
        """The memory the index holds for its vectors."""
        return self._matrix.nbytes

    def upsert(self, keys, vectors):
        """Set the compact vectors (``(n, compact_dimension)``, unit length) of these keys."""
        vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        for key, vector in zip(keys, vectors, strict=True):
            row = self._rows.get(key)
            if row is None:
                row = self._take_row()
                self._rows[key], self._keys[row] = row, key
            self._matrix[row] = vector

    def remove(self, keys):
        for key in keys:
            row = self._rows.pop(key, None)
            if row is not None:
                self._matrix[row] = 0
                self._keys[row] = None
                self._free.append(row)

    def vector(self, key):
        row = self._rows.get(key)
        return None if row is None else self._matrix[row].copy()

    def nearest(self, vector, count, exclude=(), allowed=None):
        """``[(key, similarity)]``: the ``count`` keys nearest ``vector`` (a compact vector), best first.

        ``allowed``, if given, is a predicate on the keys of a candidate batch (``list -> list of bool``),
        asked about the best candidates in turn until ``count`` pass: the caller's permissions, checked
        for a few hundred keys instead of the whole library.
        """
        if not self._rows or count <= 0:
            return []
        scores = self._matrix[: self._used] @ np.asarray(vector, dtype=np.float32)
        for row in (self._rows[key] for key in exclude if key in self._rows):
            scores[row] = -np.inf
        for row in self._free:
            scores[row] = -np.inf
        blocked = np.isneginf(scores)
        usable = self._used - int(blocked.sum())
        found, looked, size = [], set(), min(usable, max(4 * count, 64))
        while size:
            # The best ``size`` rows in one pass (a partial sort), widened only if too few of them pass.
            part = np.argpartition(-scores, size - 1)[:size] if size < self._used else np.arange(self._used)
            rows = [int(row) for row in part[np.argsort(-scores[part], kind="stable")]]
            rows = [row for row in rows if row not in looked and not blocked[row]]
            looked.update(rows)
            keys = [self._keys[row] for row in rows]
            passes = allowed(keys) if allowed is not None and keys else [True] * len(keys)
            found.extend((key, float(scores[row])) for key, row, ok in zip(keys, rows, passes, strict=True) if ok)
            if len(found) >= count or size >= usable:
                break
            size = min(usable, 4 * size)
        return found[:count]

    def _take_row(self):
        if self._free:
            return self._free.pop()
        if self._used == len(self._matrix):
            grown = np.zeros((2 * len(self._matrix), self.compact_dimension), dtype=np.float32)
            grown[: self._used] = self._matrix[: self._used]
            self._matrix = grown
            self._keys.extend([None] * (len(grown) - len(self._keys)))
        self._used += 1
        return self._used - 1


def rerank(query_embedding, candidates):
    """``[(key, similarity)]`` of ``candidates`` (``{key: full embedding}``) by exact cosine similarity to
    ``query_embedding``, best first."""
    query = asset_vector(query_embedding)
    scored = [(key, float(asset_vector(embedding) @ query)) for key, embedding in candidates.items()]
    return sorted(scored, key=lambda pair: -pair[1])
