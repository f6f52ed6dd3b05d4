"""What many tests read back: an asset's smart tags and tagging state, and uploads run to completion."""

from django.contrib.contenttypes.models import ContentType

from wagtail_smarttags.models import SmartTag, TaggingState


def smart_tags_of(asset, **filters):
    """The asset's smart tags (``filters`` as for ``SmartTag.objects.filter``), with their tags."""
    content_type = ContentType.objects.get_for_model(asset)
    return SmartTag.objects.filter(content_type=content_type, object_id=asset.pk, **filters).select_related("tag")


def smart_tags_by_name(asset, **filters):
    """``{tag name: SmartTag}`` of the asset."""
    return {row.tag.name: row for row in smart_tags_of(asset, **filters)}


def state_of(asset):
    return TaggingState.objects.get(content_type=ContentType.objects.get_for_model(asset), object_id=asset.pk)


def uploaded(capture, create, *args, **kwargs):
    """``create(*args, **kwargs)`` an asset and run the tagging it queues, as a worker would."""
    with capture(execute=True):
        return create(*args, **kwargs)
