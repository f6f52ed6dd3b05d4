"""Helpers shared by the app's management commands."""

from django.core.management.base import CommandError

from wagtail_smarttags.models import TagModel


def find_tag_model(identifier, create=False):
    """A tag model by primary key or title; with ``create``, a new one by that title."""
    queryset = TagModel.objects.all()
    if str(identifier).isdigit() and queryset.filter(pk=int(identifier)).exists():
        return queryset.get(pk=int(identifier))
    tag_model = queryset.filter(title=identifier).first()
    if tag_model is not None:
        return tag_model
    if create:
        return TagModel.objects.create(title=identifier)
    raise CommandError(f"No tag model with the id or title {identifier!r}.")
