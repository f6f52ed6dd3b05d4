from ...conf import get_setting
from ..files import stream_hash
from .base import AssetKind, DecodeContext, Reading


class DocumentKind(AssetKind):
    """Text documents get their best keywords, preferring the site's taxonomy tags."""

    name = "document"
    app_name = "wagtail.documents"
    edit_url_name = "wagtaildocs:edit"
    batch_size = 8

    @property
    def source(self):
        from ...models import SmartTag

        return SmartTag.Source.TEXT

    def get_model(self):
        from wagtail.documents import get_document_model

        return get_document_model()

    def bulk_action_base(self):
        from wagtail.documents.views.bulk_actions.document_bulk_action import DocumentBulkAction

        return DocumentBulkAction

    def read(self, asset):
        # Documents are extracted from the stored file itself, never held in memory whole.
        return Reading(file_hash=stream_hash(asset.file), payload=asset.file)

    def decode_context(self, backbone):
        from dataclasses import replace

        from taggit.models import Tag

        from ...ml.text import DEFAULT_LIMITS

        return DecodeContext(
            options={
                "limits": replace(DEFAULT_LIMITS, **get_setting("TEXT_LIMITS")),
                "taxonomy": list(Tag.objects.values_list("name", flat=True)),
                "top_n": get_setting("TEXT_KEYWORDS"),
            }
        )

    def decode(self, reading, context):
        from ...ml.text import keywords_for_file

        stored = reading.payload
        stored.open("rb")
        try:
            result = keywords_for_file(stored, stored.name, **context.options)
        finally:
            stored.close()
        return [(keyword.tag or keyword.phrase, keyword.score) for keyword in result.keywords]
