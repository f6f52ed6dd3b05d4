"""Custom image and document models: the app must work with them, not only Wagtail's defaults."""

from django.db import models
from wagtail.api import APIField
from wagtail.documents.models import AbstractDocument, Document
from wagtail.images.models import AbstractImage, AbstractRendition, Image

from wagtail_smarttags.api.v2 import SmartTagsField
from wagtail_smarttags.search.index import SmartTagsIndexed


# SmartTagsIndexed only gives the model smart_tag_text(); its search_fields leave smart tags to the
# smart-tag search backend, except in tests/search/test_index.py, which adds the field as a site would.
class CustomImage(SmartTagsIndexed, AbstractImage):
    caption = models.CharField(max_length=255, blank=True)

    admin_form_fields = Image.admin_form_fields + ("caption",)
    # As docs/templates-and-api.md shows: smart tags on Wagtail 8's API v3 images endpoint.
    api_fields = [APIField("smart_tags", serializer=SmartTagsField())]


class CustomRendition(AbstractRendition):
    image = models.ForeignKey(CustomImage, on_delete=models.CASCADE, related_name="renditions")

    class Meta:
        unique_together = (("image", "filter_spec", "focal_point_key"),)


class CustomDocument(AbstractDocument):
    description = models.TextField(blank=True)

    admin_form_fields = Document.admin_form_fields + ("description",)
