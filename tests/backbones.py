"""A small deterministic backbone for database tests that need embeddings but not real image features.

It reads what any decoded image has, its colours and their layout, in NumPy alone: no torch, no
weights, nothing to load in a worker process. The real networks keep their own tests, the few-shot
benchmark and the browser test.
"""

import numpy as np

from wagtail_smarttags.ml.backbones.base import ImageBackbone, l2_normalise, top_labels

# Labels from the image's average colour, so that generic tags have a fixed vocabulary to come from.
COLOURS = {
    "white": (240, 240, 240), "black": (20, 20, 20), "grey": (128, 128, 128), "red": (200, 40, 40),
    "green": (40, 160, 60), "blue": (40, 70, 200), "yellow": (230, 210, 50), "brown": (130, 90, 50),
}  # fmt: skip
GRID = 6
BINS = 8


class PixelBackbone(ImageBackbone):
    """A GRID x GRID thumbnail of each image plus its colour histograms, as one unit vector."""

    name = "test_pixels"
    input_size = 48
    has_fixed_labels = True

    @property
    def id(self):
        return f"test-pixels-{GRID}x{GRID}-{BINS}@1"

    @property
    def dimension(self):
        return GRID * GRID * 3 + BINS * 3

    def preprocess(self, images):
        size = (self.input_size, self.input_size)
        return np.stack([np.asarray(image.convert("RGB").resize(size), np.float32) for image in images])

    def forward(self, batch):
        n = len(batch)
        cells = batch.reshape(n, GRID, self.input_size // GRID, GRID, self.input_size // GRID, 3).mean(axis=(2, 4))
        histograms = [
            np.stack([np.histogram(pixels[..., channel], bins=BINS, range=(0, 256))[0] for channel in range(3)])
            for pixels in batch
        ]
        features = np.concatenate([cells.reshape(n, -1) / 255 - 0.5, np.stack(histograms).reshape(n, -1) / 2304], 1)
        return l2_normalise(features.astype(np.float32))

    def embed_with_labels(self, images, top_k=5):
        images = list(images)
        vectors = self.embed(images)
        if not images:
            return vectors, []
        means = self.preprocess(images).mean(axis=(1, 2))
        names = list(COLOURS)
        distances = np.stack([np.linalg.norm(means - np.array(COLOURS[name]), axis=1) for name in names], axis=1)
        scores = np.exp(-distances / 40)
        return vectors, top_labels(scores / scores.sum(axis=1, keepdims=True), names, top_k)
