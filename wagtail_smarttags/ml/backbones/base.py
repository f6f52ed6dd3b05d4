import importlib.util
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Problem:
    """Something :meth:`ImageBackbone.check` found wrong with a configuration, before anything is loaded.

    ``kind`` is ``"invalid"`` (bad options), ``"unknown"`` (no such backbone) or ``"missing"`` (a
    package is not installed); the system checks turn problems into Django errors, so nothing here
    imports Django.
    """

    message: str
    hint: str = ""
    kind: str = "invalid"
    #: For ``"missing"``: the package that cannot be imported, and the extra of wagtail-smarttags that installs it.
    package: str = ""
    extra: str = ""


def missing_packages(requirements, backend):
    """Problems for the ``[(package, extra), ...]`` that cannot be imported."""
    return [
        Problem(
            f"The image backbone {backend!r} needs the package {package!r}, which is not installed.",
            hint=f'pip install "wagtail-smarttags[{extra}]"',
            kind="missing",
            package=package,
            extra=extra,
        )
        for package, extra in requirements
        if importlib.util.find_spec(package) is None
    ]


class ImageBackbone:
    """Turns decoded RGB images into L2-normalised embedding vectors.

    Subclasses set :attr:`name` (the key used in settings), implement
    :meth:`preprocess` and :meth:`forward`, and report a stable :attr:`id` that
    changes whenever the same image would get a different vector: embeddings are
    cached under it, and trained tag models remember it. What callers read is declared
    here: :attr:`input_size`, :attr:`batch_size`, :attr:`dimension`, :attr:`has_fixed_labels`
    and :attr:`supports_zero_shot`, and :meth:`check` for the system checks.
    """

    name = ""
    #: Number of images pushed through the network at once.
    batch_size = 16
    #: The side, in pixels, of the square the network reads; images are decoded at least this large.
    input_size = 0
    #: Packages the backbone imports, as ``[(package, extra that installs it), ...]``.
    requirements: tuple[tuple[str, str], ...] = ()

    @classmethod
    def check(cls, options):
        """``[Problem, ...]`` with these options, found without loading weights or importing heavy packages."""
        return missing_packages(cls.requirements, cls.name)

    def __init__(self, **options):
        self.options = options

    @property
    def id(self):
        raise NotImplementedError

    @property
    def dimension(self):
        raise NotImplementedError

    def preprocess(self, images):
        """Return a float tensor (N, 3, H, W) ready for :meth:`forward`."""
        raise NotImplementedError

    def forward(self, batch):
        """Return a NumPy array (N, dimension) of L2-normalised float32 embeddings."""
        raise NotImplementedError

    def embed(self, images):
        """Embed a sequence of RGB ``PIL.Image`` objects, in batches."""
        images = list(images)
        if not images:
            return np.zeros((0, self.dimension), dtype=np.float32)
        chunks = [
            self.forward(self.preprocess(images[start : start + self.batch_size]))
            for start in range(0, len(images), self.batch_size)
        ]
        return np.concatenate(chunks).astype(np.float32, copy=False)

    #: True when :meth:`embed_with_labels` gives labels from a fixed vocabulary (ImageNet classes).
    has_fixed_labels = False
    #: True when :meth:`zero_shot` can score any text label against an embedding.
    supports_zero_shot = False

    def embed_with_labels(self, images, top_k=5):
        """Embed images and label them from the backbone's own vocabulary in the same pass.

        Returns ``(vectors, labels)`` where ``labels`` is ``[[(label, probability), ...], ...]``,
        best first, one list per image (empty for backbones without a vocabulary).
        """
        return self.embed(images), [[] for _ in images]

    def prepare(self, images):
        """The CPU work before the network for ``images`` (framing, resizing, scaling), for :meth:`embed_prepared`.

        Safe to call in another thread than the one embedding: the pipeline prepares the next batch
        while the network embeds this one. The default prepares nothing.
        """
        return list(images)

    def embed_prepared(self, prepared, top_k=5):
        """``(vectors, labels)`` as :meth:`embed_with_labels` gives them, for what :meth:`prepare` returned."""
        return self.embed_with_labels(prepared, top_k)

    def zero_shot(self, vectors, labels, top_k=5):
        """The ``top_k`` best of ``labels`` for each embedding in ``vectors``, as in :meth:`embed_with_labels`."""
        raise NotImplementedError(f"The {self.name or type(self).__name__} backbone cannot compare images with text.")

    def generic_labels(self, images, top_k=5):
        """Tags the backbone can give without training, as ``[[(label, score), ...], ...]``."""
        return self.embed_with_labels(list(images), top_k)[1]


def top_labels(probabilities, labels, top_k):
    """``[[(label, probability), ...], ...]``: each row's ``top_k`` best, adding up repeated labels."""
    names = list(dict.fromkeys(labels))
    if len(names) != len(labels):
        position = {name: index for index, name in enumerate(names)}
        merged = np.zeros((probabilities.shape[0], len(names)), dtype=np.float64)
        np.add.at(merged.T, [position[label] for label in labels], probabilities.T)
        probabilities = merged
    top_k = min(int(top_k), len(names))
    if top_k <= 0:
        return [[] for _ in range(probabilities.shape[0])]
    results = []
    for row in probabilities:
        best = np.argsort(-row, kind="stable")[:top_k]
        results.append([(names[index], float(row[index])) for index in best])
    return results


def l2_normalise(array):
    """Rows scaled to unit length. Rows already of unit length (every cached embedding) are returned as they
    are: a library re-tag normalises a gigabyte of them, and one pass to check is half the cost of two."""
    squared = np.einsum("ij,ij->i", array, array)
    if array.dtype == np.float32 and np.all(np.abs(squared - 1) < 1e-5):
        return array
    return array / np.maximum(np.sqrt(squared), 1e-12)[:, None]
