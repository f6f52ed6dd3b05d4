"""Image backbones: pluggable networks that turn images into embedding vectors.

:func:`load_backbone` builds one from a backend name (an alias below or a dotted path to an
:class:`ImageBackbone` subclass) and its options, without importing any heavy library.
"""

import importlib

from ..errors import BackboneLoadError
from .base import ImageBackbone

BACKBONE_ALIASES = {
    "efficientnet_lite": "wagtail_smarttags.ml.backbones.efficientnet_lite.EfficientNetLiteBackbone",
    "open_clip": "wagtail_smarttags.ml.backbones.open_clip.OpenCLIPBackbone",
    "ensemble": "wagtail_smarttags.ml.backbones.ensemble.EnsembleBackbone",
}


def backbone_class(backend):
    path = BACKBONE_ALIASES.get(backend, backend)
    module_name, _, class_name = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError) as error:
        raise BackboneLoadError(f"Unknown image backbone {backend!r}: {error}") from None


def load_backbone(backend, options=None):
    try:
        return backbone_class(backend)(**(options or {}))
    except TypeError as error:
        raise BackboneLoadError(f"Bad options for the image backbone {backend!r}: {error}") from None


__all__ = ["BACKBONE_ALIASES", "ImageBackbone", "backbone_class", "load_backbone"]
