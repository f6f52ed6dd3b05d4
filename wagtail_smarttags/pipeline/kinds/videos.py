from dataclasses import asdict, replace

from django.utils.translation import gettext_noop

from ...conf import get_setting
from ...isolation import get_reader, image_from_plain
from ..files import checked_size, local_path, stream_hash
from .base import AssetKind, AssetSummary, Reading, file_details


class VideoKind(AssetKind):
    """Videos in wagtailmedia's library, tagged from frames sampled across them; audio items are skipped."""

    name = "video"
    app_name = "wagtailmedia"
    edit_url_name = "wagtailmedia:edit"
    visual = True
    frames = True
    # Each video is up to 16 frames through the network already.
    batch_size = 2
    listing_path = "media/"
    listing_templates = {"template_name": "wagtail_smarttags/listings/media_index.html"}

    def get_model(self):
        from wagtailmedia.models import get_media_model

        return get_media_model()

    def legacy_permission_policy(self):
        from wagtailmedia.permissions import permission_policy

        return permission_policy

    def listing_view_base(self):
        # wagtailmedia's listing is a function view; the app's class-based one shows the same.
        from ...admin.media_listing import media_index_view

        return media_index_view()

    def choosable_by(self, user):
        # wagtailmedia has no "choose" permission: its chooser offers every item to anyone who can open it.
        return self.get_model().objects.all()

    def skip_reason(self, asset):
        if getattr(asset, "type", "video") == "audio":
            return gettext_noop("This is an audio file: only videos get smart tags.")
        return ""

    def keep_pictures(self, file_hash, images):
        from ..frames import save_frame_thumbnails

        save_frame_thumbnails(file_hash, images)

    def summary(self, asset):
        from datetime import timedelta

        from ...models import TaggingState
        from ..frames import frame_thumbnail_urls

        picture = None
        if getattr(asset, "thumbnail", None):
            picture = {"url": asset.thumbnail.url, "width": None, "height": None}
        details = [str(timedelta(seconds=round(asset.duration)))] if getattr(asset, "duration", None) else []
        state = TaggingState.objects.for_asset(asset).only("file_hash").first()
        return AssetSummary(
            title=asset.title, picture=picture, details=[*details, *file_details(asset)], icon="media",
            frames=frame_thumbnail_urls(state.file_hash if state else ""),
        )  # fmt: skip

    def read(self, asset):
        limit = get_setting("VIDEO_MAX_FILE_SIZE")
        too_big = gettext_noop("The file is %(size)s bytes, more than the %(limit)s bytes allowed for a video.")
        size = checked_size(asset.file, limit, too_big)
        return Reading(file_hash=stream_hash(asset.file, limit), payload=asset.file, size=size)

    def decode_context(self, backbone):
        from ...ml.video import DEFAULT_VIDEO_LIMITS

        context = super().decode_context(backbone)
        overrides = {"max_pixels": context.max_pixels, "target_size": context.target_size}
        overrides.update(get_setting("VIDEO_LIMITS"))
        limits = replace(DEFAULT_VIDEO_LIMITS, **overrides)
        context.options["limits"] = replace(limits, max_seconds=context.soft_seconds(limits.max_seconds))
        return context

    def decode(self, reading, context):
        # FFmpeg seeks best in a real file: storages without local paths (S3) get a temporary copy.
        with local_path(reading.payload, get_setting("VIDEO_MAX_FILE_SIZE")) as path:
            limits = asdict(context.options["limits"])
            frames = get_reader().run("video", context.reader_limits, path=path, limits=limits)
        return [image_from_plain(frame) for frame in frames]
