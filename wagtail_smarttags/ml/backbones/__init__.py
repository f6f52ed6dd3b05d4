"""Image backbones: pluggable networks that turn images into embedding vectors.

:func:`load_backbone` builds one from a backend name (an alias below or a dotted path to an
:class:`ImageBackbone` subclass) and its options, without importing any heavy library.
"""

import importlib

from ..errors import BackboneLoadError, gettext_noop
from .base import ImageBackbone, Problem

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
        raise BackboneLoadError(
            gettext_noop("Unknown image backbone %(backend)s: %(error)s"), backend=repr(backend), error=error
        ) from None


def check_backbone(config):
    """``[Problem, ...]`` for an ``{"BACKEND": ..., "OPTIONS": ...}`` configuration, loading no weights.

    Each backbone checks its own options and dependencies; only the class is imported, and the
    built-in classes import their heavy packages lazily.
    """
    if not isinstance(config, dict) or "BACKEND" not in config:
        return [
            Problem(
                "IMAGE_BACKBONE must be a dict with a 'BACKEND' key.",
                hint="For example {'BACKEND': 'efficientnet_lite', 'OPTIONS': {'variant': 'lite0'}}.",
                kind="unknown",
            )
        ]
    backend = config["BACKEND"]
    try:
        cls = backbone_class(backend)
    except BackboneLoadError:
        return [
            Problem(
                f"Unknown image backbone {backend!r}.",
                hint=f"Use one of {', '.join(BACKBONE_ALIASES)} or a dotted path to an ImageBackbone subclass.",
                kind="unknown",
            )
        ]
    check = getattr(cls, "check", None)
    return check(config.get("OPTIONS") or {}) if check else []


def load_backbone(backend, options=None):
    try:
        return backbone_class(backend)(**(options or {}))
    except TypeError as error:
        raise BackboneLoadError(
            gettext_noop("Bad options for the image backbone %(backend)s: %(error)s"),
            backend=repr(backend),
            error=error,
        ) from None


__all__ = ["BACKBONE_ALIASES", "ImageBackbone", "Problem", "backbone_class", "check_backbone", "load_backbone"]
