"""What differs by asset kind: how the pipeline finds, reads and decodes an image, a document or a video.

The pipeline (``pipeline.tagging``) is the same for every kind: read the file (its size and hash,
in the worker's main thread), decode it (in a second thread, with no database access, by the reader
child of ``wagtail_smarttags.isolation`` under hard memory and time limits), then embed, decide,
write and record. A kind fills in the first two steps and says where its assets live in the admin.
"""

from dataclasses import dataclass, field

from django.apps import apps
from django.urls import reverse

from ...isolation import ReaderLimits


@dataclass
class Reading:
    """What reading one asset's file gave: its hash, and what the decode step needs."""

    file_hash: str
    #: The stored file, handed to :meth:`AssetKind.decode`; None once decoded.
    payload: object = None
    #: The file's size, counted against a batch's ``BATCH_MAX_BYTES``.
    size: int = 0


@dataclass
class AssetSummary:
    """What the Smart tags screen shows of an asset, so that an editor decides with it in view."""

    title: str
    #: ``{"url", "width", "height"}`` of a picture of the asset, or None.
    picture: dict | None = None
    #: Short facts: the file's name and size, an image's pixels, a video's duration.
    details: list = field(default_factory=list)
    #: The Wagtail admin icon shown when there is no picture.
    icon: str = "doc-full"
    #: Pictures of what the asset was tagged from (a video's sampled frames): their URLs, in order.
    frames: list = field(default_factory=list)


#: The least time a parser's own budget leaves before the reader's hard limit.
SOFT_MARGIN_SECONDS = 1.0


@dataclass
class DecodeContext:
    """Everything :meth:`AssetKind.decode` may need, read from settings and the database beforehand."""

    target_size: int = 0
    max_pixels: int = 0
    options: dict = field(default_factory=dict)
    #: What reading one file may cost the reader child.
    reader_limits: ReaderLimits = field(default_factory=ReaderLimits)

    def soft_seconds(self, seconds):
        """A parser's own time budget, kept below the reader's hard one so that it stops first and
        keeps what it has read (the pages of a long PDF, the frames of a long video).

        The gap is at least a second, not a share alone: a parser checks its budget between steps,
        and on a loaded machine one step can take a few hundred milliseconds.
        """
        hard = self.reader_limits.max_seconds
        return min(seconds, max(0.5 * hard, hard - max(SOFT_MARGIN_SECONDS, 0.2 * hard)))


class AssetKind:
    """One kind of asset. Subclasses set the attributes and implement :meth:`get_model`, :meth:`read`
    and :meth:`decode`."""

    #: The key used in URLs, commands and settings: "image", "document", "video".
    name = ""
    #: The app (its module path) that must be installed for this kind to exist.
    app_name = ""
    #: URL name of the asset's edit view in the Wagtail admin.
    edit_url_name = ""
    #: Tagged from embeddings: such assets are re-tagged when a tag model is (re)trained or rolled back.
    visual = False
    #: For kinds that are not visual: the ``SmartTag.Source`` of the labels :meth:`decode` returns.
    source = None
    #: Visual kinds: an asset is several images (a video's frames), decided together, not one vector.
    frames = False
    #: Assets read, decoded and written together.
    batch_size = 16
    #: Where Wagtail mounts this kind's listing under the admin, and the templates the app's
    #: extension of it uses instead of Wagtail's (``{"template_name": ..., "results_template_name": ...}``).
    listing_path = ""
    listing_templates: dict[str, str] = {}

    def is_installed(self):
        return apps.is_installed(self.app_name)

    def get_model(self):
        raise NotImplementedError

    def edit_url(self, object_id):
        return reverse(self.edit_url_name, args=(object_id,))

    def bulk_action_base(self):
        """The Wagtail bulk-action class of this kind's listing, or None if its listing has no bulk actions."""
        return None

    def listing_view_base(self):
        """Wagtail's class-based admin listing of this kind (an ``IndexView``), which the app extends with
        tagging states and a relevance sort; None when the listing is not one."""
        return None

    def permission_policy(self):
        """Wagtail's permission policy for this kind's model."""
        try:
            from wagtail.permissions import policy_registry  # Wagtail 8
        except ImportError:
            return self.legacy_permission_policy()
        return policy_registry.get_by_type(self.get_model())

    def legacy_permission_policy(self):
        """The policy on Wagtail 7.4, which has no registry: its ``permissions`` module's."""
        raise NotImplementedError

    def choosable_by(self, user):
        """The assets ``user`` may pick in this kind's chooser: the only ones a screen may show or accept
        from that user, whatever ids a request names."""
        return self.permission_policy().instances_user_has_any_permission_for(user, ["choose"])

    def summary(self, asset):
        """The asset's :class:`AssetSummary` for the admin; kinds add a picture and details of their own."""
        return AssetSummary(title=str(asset), details=file_details(asset))

    def skip_reason(self, asset):
        """A message (marked with ``gettext_noop``) if the asset holds nothing this kind can tag (an audio
        file): it is skipped, not failed."""
        return ""

    def keep_pictures(self, file_hash, images):
        """Visual kinds, once ``images`` are decoded for the file ``file_hash``: keep what the admin should
        show of them (a video's frames). Called in the worker's main thread; must not raise."""

    def read(self, asset):
        """Return a :class:`Reading`. I/O only, no decoding; raises ``UnreadableAssetError``."""
        raise NotImplementedError

    def decode_context(self, backbone):
        """A :class:`DecodeContext` for a batch, built in the main thread (it may query the database)."""
        from ...conf import get_setting

        return DecodeContext(
            target_size=max(get_setting("DECODE_SIZE"), backbone.input_size if backbone else 0),
            max_pixels=get_setting("MAX_IMAGE_PIXELS"),
            reader_limits=reader_limits(),
        )

    def decode(self, reading, context):
        """Visual kinds: a list of RGB images (one, or a video's frames). Others: ``[(label, confidence)]``.

        Runs in the decoding thread: no database access. Raises ``UnreadableAssetError``.
        """
        raise NotImplementedError


def file_details(asset):
    """The file's name and size, as far as storage can tell without reading it."""
    from django.template.defaultfilters import filesizeformat
    from django.utils.translation import gettext

    file = getattr(asset, "file", None)
    if not file:
        return []
    details = [file.name.rsplit("/", 1)[-1]]
    try:
        details.append(filesizeformat(file.size))
    except (OSError, ValueError):
        details.append(gettext("file missing"))
    return details


def reader_limits():
    from ...conf import get_setting

    return ReaderLimits(max_memory=get_setting("READER_MAX_MEMORY"), max_seconds=get_setting("READER_MAX_SECONDS"))
