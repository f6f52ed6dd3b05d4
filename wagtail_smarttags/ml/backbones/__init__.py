"""Image backbones: pluggable networks that turn images into embedding vectors."""

from .base import ImageBackbone

__all__ = ["ImageBackbone"]
