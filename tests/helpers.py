"""What many tests read back: an asset's smart tags and tagging state, and uploads run to completion."""

from django.contrib.contenttypes.models import ContentType

from wagtail_smarttags.models import SmartTag, TaggingState


def smart_tags_of(asset, source=None, **filters):
    """The asset's smart tags, from ``source`` if given (other ``filters`` as for ``filter()``), with their tags."""
    content_type = ContentType.objects.get_for_model(asset)
    if source is not None:
        filters["source"] = source
    return SmartTag.objects.filter(content_type=content_type, object_id=asset.pk, **filters).select_related(
        "tag", "label"
    )


def smart_tags_by_name(asset, source=None, **filters):
    """``{tag or label name: SmartTag}`` of the asset."""
    return {row.name: row for row in smart_tags_of(asset, source, **filters)}


def state_of(asset):
    return TaggingState.objects.get(content_type=ContentType.objects.get_for_model(asset), object_id=asset.pk)


def uploaded(capture, create, *args, **kwargs):
    """``create(*args, **kwargs)`` an asset and run the tagging it queues, as a worker would."""
    with capture(execute=True):
        return create(*args, **kwargs)


def decision_of(version, image):
    """What ``version`` of a tag model decides for the image, from its cached embedding: ``{(tag id, confidence)}``."""
    from wagtail_smarttags.pipeline.deciding import decide
    from wagtail_smarttags.pipeline.embedding_cache import cached_embeddings
    from wagtail_smarttags.pipeline.loading import classifier_for
    from wagtail_smarttags.pipeline.writing import clamp

    file_hash = state_of(image).file_hash
    vector = cached_embeddings([file_hash], version.backbone_id)[file_hash]
    decided = decide(classifier_for(version), {image.pk: vector})[image.pk]
    return {(decided[0], round(clamp(decided[1]), 5))} if decided else set()


def applied_trained_tags(image, tag_model):
    """``{(tag id, confidence)}`` of the image's applied smart tags from ``tag_model``."""
    rows = smart_tags_of(image, tag_model=tag_model, state=SmartTag.State.APPLIED)
    return {(row.tag_id, round(row.confidence, 5)) for row in rows}


def assert_tagged_by_active_version(images, tag_model):
    """Each image has exactly the tags the model's active version decides, and its state says so."""
    tag_model.refresh_from_db()
    version = tag_model.active_version
    for image in images:
        assert applied_trained_tags(image, tag_model) == decision_of(version, image), (image.pk, version.number)
        assert state_of(image).model_versions == {str(tag_model.pk): version.pk}
