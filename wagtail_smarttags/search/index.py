"""Smart tags in the site's own search index, for engines that rank them themselves (Elasticsearch, OpenSearch).

The smart-tag search backend matches smart tags from the database whatever the engine. A site that
wants its engine to rank them with the rest of an asset's text adds them to its custom model::

    from wagtail_smarttags.search.index import SmartTagsIndexed, smart_tags_search_field

    class CustomImage(SmartTagsIndexed, AbstractImage):
        search_fields = AbstractImage.search_fields + [smart_tags_search_field(boost=2)]

The asset's shown smart tags (applied and promoted) are then indexed as ``smart_tag_text``, and the app
re-indexes an asset whenever they change: tagging, re-tagging, moderation, a deleted tag model.
"""

from django.db import transaction
from wagtail.search import index

FIELD_NAME = "smart_tag_text"


class SmartTagsIndexed:
    """Gives an asset model the text its ``smart_tags_search_field()`` indexes."""

    def smart_tag_text(self):
        from ..models import get_smart_tags

        return " ".join(smart_tag.name for smart_tag in get_smart_tags(self))


def smart_tags_search_field(**options):
    """The search field of the asset's smart tags; options as for ``index.SearchField`` (``boost``, ...)."""
    return index.SearchField(FIELD_NAME, **options)


def indexes_smart_tags(model):
    return any(getattr(field, "field_name", None) == FIELD_NAME for field in model.get_search_fields())


def reindex_on_commit(model, object_ids):
    """Re-index these assets once the transaction commits, if their model indexes its smart tags."""
    if model is None or not object_ids or not indexes_smart_tags(model):
        return
    object_ids = sorted(set(object_ids))

    def reindex():
        for start in range(0, len(object_ids), 500):
            for asset in model._default_manager.filter(pk__in=object_ids[start : start + 500]):
                index.insert_or_update_object(asset)

    # robust: a search service that is down must not fail the tagging whose rows are already committed.
    transaction.on_commit(reindex, robust=True)
