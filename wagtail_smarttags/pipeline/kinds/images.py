import io

from ...ml.images import decode_image
from ..files import read_file
from .base import AssetKind, Reading


class ImageKind(AssetKind):
    name = "image"
    app_name = "wagtail.images"
    edit_url_name = "wagtailimages:edit"
    visual = True

    def get_model(self):
        from wagtail.images import get_image_model

        return get_image_model()

    def bulk_action_base(self):
        from wagtail.images.views.bulk_actions.image_bulk_action import ImageBulkAction

        return ImageBulkAction

    def read(self, asset):
        data, file_hash = read_file(asset.file)
        return Reading(file_hash=file_hash, payload=data, size=len(data))

    def decode(self, reading, context):
        return [decode_image(io.BytesIO(reading.payload), target_size=context.target_size,
                             max_pixels=context.max_pixels)]  # fmt: skip


def decode_for_backbone(data, backbone):
    """Decode image bytes as the pipeline does for ``backbone`` (commands and benchmarks read files this way)."""
    from ...conf import get_setting

    target = max(get_setting("DECODE_SIZE"), backbone.input_size)
    return decode_image(io.BytesIO(data), target_size=target, max_pixels=get_setting("MAX_IMAGE_PIXELS"))
