"""Create real assets for tests: Wagtail images from files on disk or from bytes."""

import io
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from PIL import Image as PILImage
from taggit.models import Tag
from wagtail.images import get_image_model
from wagtail.models import Collection

from wagtail_smarttags.models import TagModel, TagModelTag, TrainingExample


def create_image(source, title=None, name=None, width=None, height=None):
    """An image in the library. ``source`` is a Path or bytes.

    Files Pillow can read are saved as an upload would save them; anything else is stored
    as a file that was corrupted after upload (its dimensions kept from the upload).
    """
    data = Path(source).read_bytes() if isinstance(source, Path) else source
    name = name or (source.name if isinstance(source, Path) else "upload.jpg")
    image = get_image_model()(title=title or Path(name).stem, collection=root_collection())
    try:
        PILImage.open(io.BytesIO(data)).size  # noqa: B018  (raises for anything Pillow cannot identify)
        readable = True
    except Exception:
        readable = False
    if readable and width is None:
        image.file = ImageFile(io.BytesIO(data), name=name)
    else:
        image.file.save(name, ContentFile(data), save=False)
        image.width, image.height = width or 1, height or 1
    image.save()
    return image


def root_collection():
    """Wagtail's root collection; transactional tests flush the one its migrations made."""
    return Collection.get_first_root_node() or Collection.add_root(name="Root")


def solid_image_bytes(colour=(128, 128, 128), size=(64, 64), format="PNG"):
    buffer = io.BytesIO()
    PILImage.new("RGB", size, colour).save(buffer, format=format)
    return buffer.getvalue()


def create_tag_model(title, examples):
    """A tag model whose tags are the keys of ``examples`` ({tag name: [Path, ...]})."""
    tag_model = TagModel.objects.create(title=title)
    for position, (tag_name, paths) in enumerate(examples.items()):
        tag, _ = Tag.objects.get_or_create(name=tag_name)
        TagModelTag.objects.create(tag_model=tag_model, tag=tag, sort_order=position)
        for path in paths:
            TrainingExample.objects.create(tag_model=tag_model, tag=tag, image=create_image(path))
    return tag_model


def create_document(data, name, title=None):
    from wagtail.documents import get_document_model

    document = get_document_model()(title=title or Path(name).stem, collection=root_collection())
    document.file.save(name, ContentFile(data), save=False)
    document.save()
    return document


def add_smart_tags(asset, smart_tags, source="trained", labels=False):
    """Give ``asset`` smart tags without ML: ``[(tag name, confidence[, state]), ...]``; with ``labels``,
    as the app's own labels (document keywords), not taggit tags."""
    from django.contrib.contenttypes.models import ContentType
    from taggit.models import Tag

    from wagtail_smarttags.models import SmartTag, SmartTagLabel

    content_type = ContentType.objects.get_for_model(asset)
    for name, confidence, *state in smart_tags:
        term = {"label": SmartTagLabel.objects.get_or_create(name=name)[0]} if labels else {
            "tag": Tag.objects.get_or_create(name=name)[0]
        }
        SmartTag.objects.create(
            content_type=content_type,
            object_id=asset.pk,
            confidence=confidence,
            source=source,
            state=state[0] if state else SmartTag.State.APPLIED,
            **term,
        )
