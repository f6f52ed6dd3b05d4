"""The registry of asset kinds: everything that differs between images, documents and videos.

Search, moderation, bulk actions, commands and the pipeline iterate :func:`get_asset_kinds`
instead of keeping lists of their own. A site can add a kind with :func:`register_asset_kind`.
"""

from django.contrib.contenttypes.models import ContentType

from .base import AssetKind, DecodeContext, Reading
from .documents import DocumentKind
from .images import ImageKind
from .videos import VideoKind

IMAGE = ImageKind.name
DOCUMENT = DocumentKind.name
VIDEO = VideoKind.name

_registry = {kind.name: kind for kind in (ImageKind(), DocumentKind(), VideoKind())}


def register_asset_kind(kind):
    """Add (or replace) an :class:`AssetKind` instance, e.g. from an app's ``ready()``."""
    _registry[kind.name] = kind


def get_asset_kinds(visual=None):
    """``{name: kind}`` for the kinds whose app is installed on this site, optionally only (not) visual ones."""
    return {
        name: kind
        for name, kind in _registry.items()
        if kind.is_installed() and (visual is None or kind.visual == visual)
    }


def get_asset_kind(name):
    return get_asset_kinds().get(name)


def get_asset_models():
    """``{kind name: model}`` for every asset model installed on this site."""
    return {name: kind.get_model() for name, kind in get_asset_kinds().items()}


def kind_for_model(model):
    """The kind whose model ``model`` is (or subclasses), or None."""
    for kind in get_asset_kinds().values():
        asset_model = kind.get_model()
        if issubclass(model, asset_model) or model._meta.concrete_model is asset_model:
            return kind
    return None


def get_media_model_or_none():
    kind = get_asset_kind(VIDEO)
    return kind.get_model() if kind else None


def content_type_for(model):
    return ContentType.objects.get_for_model(model)


def file_identity(asset):
    """What identifies an asset's file without reading it: its stored name and, if known, its hash."""
    name = asset.file.name if asset.file else ""
    return name, getattr(asset, "file_hash", "") or ""


__all__ = [
    "DOCUMENT", "IMAGE", "VIDEO", "AssetKind", "DecodeContext", "Reading", "content_type_for",
    "file_identity", "get_asset_kind", "get_asset_kinds", "get_asset_models", "get_media_model_or_none",
    "kind_for_model", "register_asset_kind",
]  # fmt: skip
