from ...conf import get_setting
from ...ml.errors import UnreadableAssetError
from ..files import stream_hash
from .base import AssetKind, Reading


class VideoKind(AssetKind):
    """Videos in wagtailmedia's library, tagged from frames sampled across them; audio items are skipped."""

    name = "video"
    app_name = "wagtailmedia"
    edit_url_name = "wagtailmedia:edit"
    visual = True
    frames = True
    # Each video is up to 16 frames through the network already.
    batch_size = 2

    def get_model(self):
        from wagtailmedia.models import get_media_model

        return get_media_model()

    def skip_reason(self, asset):
        if getattr(asset, "type", "video") == "audio":
            return "This is an audio file: only videos get smart tags."
        return ""

    def read(self, asset):
        limit = get_setting("VIDEO_MAX_FILE_SIZE")
        try:
            size = asset.file.size
        except (OSError, ValueError):
            raise UnreadableAssetError("The file is missing from storage.") from None
        if size > limit:
            raise UnreadableAssetError(
                f"The file is {size:,} bytes, more than the {limit:,} bytes allowed for a video."
            )
        return Reading(file_hash=stream_hash(asset.file), payload=asset.file)

    def decode_context(self, backbone):
        from dataclasses import replace

        from ...ml.video import DEFAULT_VIDEO_LIMITS

        context = super().decode_context(backbone)
        overrides = {"max_pixels": context.max_pixels, "target_size": context.target_size}
        overrides.update(get_setting("VIDEO_LIMITS"))
        context.options["limits"] = replace(DEFAULT_VIDEO_LIMITS, **overrides)
        return context

    def decode(self, reading, context):
        from ...ml.video import sample_frames

        stored = reading.payload
        # FFmpeg seeks best in a real file; storages without local paths (S3) are read as a file object.
        try:
            path = stored.path
        except (NotImplementedError, AttributeError, ValueError):
            path = None
        if path:
            return sample_frames(path, context.options["limits"]).images
        try:
            stored.open("rb")
        except (OSError, ValueError) as error:
            raise UnreadableAssetError(f"The file could not be read from storage: {error}") from None
        try:
            return sample_frames(stored.file, context.options["limits"]).images
        finally:
            stored.close()
