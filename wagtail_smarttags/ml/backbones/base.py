import numpy as np


class ImageBackbone:
    """Turns decoded RGB images into L2-normalised embedding vectors.

    Subclasses set :attr:`name` (the key used in settings), implement
    :meth:`preprocess` and :meth:`forward`, and report a stable :attr:`id` that
    changes whenever the same image would get a different vector: embeddings are
    cached under it, and trained tag models remember it.
    """

    name = ""
    #: Number of images pushed through the network at once.
    batch_size = 16

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

    def generic_labels(self, images, top_k=5):
        """Tags the backbone can give without training, as ``[[(label, score), ...], ...]``.

        Backbones without a label vocabulary return an empty list per image.
        """
        return [[] for _ in images]


def l2_normalise(array):
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    return array / np.maximum(norms, 1e-12)
