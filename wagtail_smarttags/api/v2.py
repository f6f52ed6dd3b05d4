"""Wagtail API v2 endpoints that add a ``smart_tags`` field to images, documents and media.

Register them in the site's API router in place of Wagtail's own::

    from wagtail_smarttags.api.v2 import SmartTagsDocumentsAPIViewSet, SmartTagsImagesAPIViewSet

    api_router.register_endpoint("images", SmartTagsImagesAPIViewSet)
    api_router.register_endpoint("documents", SmartTagsDocumentsAPIViewSet)
    api_router.register_endpoint("media", SmartTagsMediaAPIViewSet)  # with wagtailmedia

The field is in every detail response and, on request (``?fields=smart_tags``), in listings:
``[{"name": "poncho", "confidence": 0.93, "source": "trained", "promoted": false}, ...]``, the
applied and promoted smart tags only, most confident first. A custom serializer or viewset can add
:class:`SmartTagsField` itself.
"""

from typing import Any

from rest_framework.fields import Field

from ..models import get_smart_tags

FIELD_NAME = "smart_tags"


class SmartTagsField(Field):
    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        return instance

    def to_representation(self, asset) -> list[dict[str, Any]]:
        return [
            {
                "name": smart_tag.name,
                "confidence": round(smart_tag.confidence, 4),
                "source": smart_tag.source,
                "promoted": smart_tag.promoted,
            }
            for smart_tag in get_smart_tags(asset)
        ]


def with_smart_tags(viewset_class):
    """A subclass of a Wagtail API v2 viewset whose responses carry the asset's smart tags."""
    serializer_class = type(
        f"SmartTags{viewset_class.base_serializer_class.__name__}",
        (viewset_class.base_serializer_class,),
        {FIELD_NAME: SmartTagsField(), "__module__": __name__},
    )
    return type(
        f"SmartTags{viewset_class.__name__}",
        (viewset_class,),
        {
            "base_serializer_class": serializer_class,
            "meta_fields": [*viewset_class.meta_fields, FIELD_NAME],
            "__module__": __name__,
        },
    )


def _images():
    from wagtail.images.api.v2.views import ImagesAPIViewSet

    return with_smart_tags(ImagesAPIViewSet)


def _documents():
    from wagtail.documents.api.v2.views import DocumentsAPIViewSet

    return with_smart_tags(DocumentsAPIViewSet)


def _media():
    from wagtailmedia.api.views import MediaAPIViewSet

    return with_smart_tags(MediaAPIViewSet)


_VIEWSETS = {
    "SmartTagsImagesAPIViewSet": _images,
    "SmartTagsDocumentsAPIViewSet": _documents,
    "SmartTagsMediaAPIViewSet": _media,
}
_built: dict[str, type] = {}


def __getattr__(name):
    # Built on first use: the media endpoint needs wagtailmedia, which is optional.
    if name not in _VIEWSETS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name not in _built:
        _built[name] = _VIEWSETS[name]()
    return _built[name]
