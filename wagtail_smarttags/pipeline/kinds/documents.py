from dataclasses import asdict, replace

from ...conf import get_setting
from ...isolation import get_reader
from ..files import checked_size, local_path, stream_hash
from .base import AssetKind, DecodeContext, Reading, reader_limits


class DocumentKind(AssetKind):
    """Text documents get their best keywords, preferring the site's taxonomy tags."""

    name = "document"
    app_name = "wagtail.documents"
    edit_url_name = "wagtaildocs:edit"
    batch_size = 8
    listing_path = "documents/"
    listing_templates = {"template_name": "wagtail_smarttags/listings/document_index.html"}

    @property
    def source(self):
        from ...models import SmartTag

        return SmartTag.Source.TEXT

    def get_model(self):
        from wagtail.documents import get_document_model

        return get_document_model()

    def legacy_permission_policy(self):
        from wagtail.documents.permissions import permission_policy

        return permission_policy

    def bulk_action_base(self):
        from wagtail.documents.views.bulk_actions.document_bulk_action import DocumentBulkAction

        return DocumentBulkAction

    def listing_view_base(self):
        from wagtail.documents.views.documents import IndexView

        return IndexView

    def read(self, asset):
        # Documents are extracted from the stored file by the reader, never held in memory whole.
        limit = get_setting("MAX_FILE_SIZE")
        size = checked_size(asset.file, limit)
        return Reading(file_hash=stream_hash(asset.file, limit), payload=asset.file, size=size)

    def decode_context(self, backbone):
        from taggit.models import Tag

        context = DecodeContext(reader_limits=reader_limits())
        context.options = {
            "limits": text_limits(context),
            "taxonomy": list(Tag.objects.values_list("name", flat=True)),
            "top_n": get_setting("TEXT_KEYWORDS"),
        }
        return context

    def decode(self, reading, context):
        stored = reading.payload
        with local_path(stored, get_setting("MAX_FILE_SIZE")) as path:
            keywords, _ = keywords_in_reader(
                path,
                stored.name,
                context.reader_limits,
                text=context.options["limits"],
                taxonomy=context.options["taxonomy"],
                top_n=context.options["top_n"],
            )
        return [(keyword.tag or keyword.phrase, keyword.score) for keyword in keywords]


def text_limits(context=None):
    from ...ml.text import DEFAULT_LIMITS

    context = context or DecodeContext(reader_limits=reader_limits())
    limits = replace(DEFAULT_LIMITS, **get_setting("TEXT_LIMITS"))
    return replace(limits, max_seconds=context.soft_seconds(limits.max_seconds))


def keywords_in_reader(path, filename, limits, *, taxonomy=(), top_n=5, text=None, use_embeddings=True):
    """``(keywords, details)`` of the document at ``path``, extracted and chosen by the reader child.

    ``text`` is the :class:`~wagtail_smarttags.ml.text.ExtractionLimits`; ``details`` holds the
    extraction's ``format``, ``language``, ``truncated_by`` and ``characters``.
    """
    from ...ml.text import Keyword

    plain = get_reader().run(
        "document", limits, path=path, filename=filename, limits=asdict(text or text_limits()),
        taxonomy=list(taxonomy), top_n=top_n, use_embeddings=use_embeddings,
    )  # fmt: skip
    return [Keyword(*keyword) for keyword in plain.pop("keywords")], plain
