"""Smart tags in a site's templates.

``{% load wagtail_smarttags %}`` then ``{% smart_tags image %}`` renders the asset's smart tags as a
list (``wagtail_smarttags/tags/smart_tags.html``, which a site may override), or
``{% smart_tags image as tags %}`` gives them to the template to render itself. Only applied and
promoted smart tags, most confident first; ``limit`` and ``min_confidence`` narrow them.
"""

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from ..models import get_smart_tags

register = template.Library()

TEMPLATE = "wagtail_smarttags/tags/smart_tags.html"


class SmartTagList(list):
    """A list of smart tags that renders itself as HTML when output directly."""

    def __html__(self):
        # The template's own trailing newline is not part of the markup.
        return mark_safe(render_to_string(TEMPLATE, {"smart_tags": self}).strip())  # noqa: S308  (escaped by the template)

    def __str__(self):
        return self.__html__()


@register.simple_tag
def smart_tags(asset, limit=None, min_confidence=None):
    if asset is None or getattr(asset, "pk", None) is None:
        return SmartTagList()
    return SmartTagList(get_smart_tags(asset, limit=limit, min_confidence=min_confidence))
