import os

from ...isolation import get_reader, image_from_plain
from ..files import checked_size, local_path, stream_hash
from .base import AssetKind, AssetSummary, Reading, file_details, reader_limits


class ImageKind(AssetKind):
    name = "image"
    app_name = "wagtail.images"
    edit_url_name = "wagtailimages:edit"
    visual = True
    listing_path = "images/"
    listing_templates = {"results_template_name": "wagtail_smarttags/listings/image_index_results.html"}

    def get_model(self):
        from wagtail.images import get_image_model

        return get_image_model()

    def legacy_permission_policy(self):
        from wagtail.images.permissions import permission_policy

        return permission_policy

    def bulk_action_base(self):
        from wagtail.images.views.bulk_actions.image_bulk_action import ImageBulkAction

        return ImageBulkAction

    def listing_view_base(self):
        from wagtail.images.views.images import IndexView

        return IndexView

    def summary(self, asset):
        from wagtail.images.shortcuts import get_rendition_or_not_found

        rendition = get_rendition_or_not_found(asset, "max-480x360")
        picture = {"url": rendition.url, "width": rendition.width, "height": rendition.height}
        pixels = f"{asset.width} × {asset.height} px"
        return AssetSummary(title=asset.title, picture=picture, details=[pixels, *file_details(asset)])

    def read(self, asset):
        from ...conf import get_setting

        limit = get_setting("MAX_FILE_SIZE")
        size = checked_size(asset.file, limit)
        return Reading(file_hash=stream_hash(asset.file, limit), payload=asset.file, size=size)

    def decode(self, reading, context):
        from ...conf import get_setting

        with local_path(reading.payload, get_setting("MAX_FILE_SIZE")) as path:
            return [decode_in_reader(path, context.target_size, context.max_pixels, context.reader_limits)]


def decode_in_reader(path, target_size, max_pixels, limits=None):
    """The image at ``path`` decoded by the reader child, as an RGB ``PIL.Image``."""
    plain = get_reader().run("image", limits or reader_limits(), path=os.fspath(path), target_size=target_size,
                             max_pixels=max_pixels)  # fmt: skip
    return image_from_plain(plain)


def decode_for_backbone(path, backbone):
    """Decode an image file as the pipeline does for ``backbone`` (commands and benchmarks read files this way)."""
    from ...conf import get_setting

    target = max(get_setting("DECODE_SIZE"), backbone.input_size)
    return decode_in_reader(path, target, get_setting("MAX_IMAGE_PIXELS"))
