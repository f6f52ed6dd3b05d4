"""The kinds of asset the app tags, found through Wagtail's model getters."""

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from wagtail.documents import get_document_model
from wagtail.images import get_image_model

IMAGE = "image"
DOCUMENT = "document"
VIDEO = "video"


def get_asset_models():
    """``{kind: model}`` for every asset model installed on this site."""
    models = {IMAGE: get_image_model()}
    if apps.is_installed("wagtail.documents"):
        models[DOCUMENT] = get_document_model()
    media_model = get_media_model_or_none()
    if media_model is not None:
        models[VIDEO] = media_model
    return models


def get_media_model_or_none():
    if not apps.is_installed("wagtailmedia"):
        return None
    from wagtailmedia.models import get_media_model

    return get_media_model()


def asset_kind(model):
    for kind, asset_model in get_asset_models().items():
        if issubclass(model, asset_model) or model._meta.concrete_model is asset_model:
            return kind
    return None


def content_type_for(model):
    return ContentType.objects.get_for_model(model)


def file_identity(asset):
    """What identifies an asset's file without reading it: its stored name and, if known, its hash."""
    name = asset.file.name if asset.file else ""
    return name, getattr(asset, "file_hash", "") or ""
