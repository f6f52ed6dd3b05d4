"""Create real assets for tests: Wagtail images from files on disk or from bytes."""

import io
from pathlib import Path

from django.core.files.images import ImageFile
from PIL import Image as PILImage
from taggit.models import Tag
from wagtail.images import get_image_model
from wagtail.models import Collection

from wagtail_smarttags.models import TagModel, TagModelTag, TrainingExample


def create_image(source, title=None, name=None, width=None, height=None):
    """An image in the library. ``source`` is a Path or bytes; size is read from the file when it can be."""
    data = Path(source).read_bytes() if isinstance(source, Path) else source
    name = name or (source.name if isinstance(source, Path) else "upload.jpg")
    if width is None or height is None:
        try:
            width, height = PILImage.open(io.BytesIO(data)).size
        except Exception:
            width, height = 1, 1  # what a file corrupted after upload looks like: stored size, bad bytes
    image = get_image_model()(
        title=title or Path(name).stem,
        collection=Collection.get_first_root_node(),
        file=ImageFile(io.BytesIO(data), name=name),
        width=width,
        height=height,
    )
    image.save()
    return image


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
