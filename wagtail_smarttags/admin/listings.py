"""Wagtail's image and document listings with what an editor of smart tags needs in them.

Each asset shows its tagging state (a column in the list layout, a badge on the grid for what is not
simply tagged), the listing filters by that state, and a search is ordered by relevance unless the
editor picks another sort: Wagtail's own image listing always sends its "Newest" sort with a query,
so the smart-tag search order (metadata, then all terms in smart tags, then any) never showed.

The views subclass Wagtail's own (``AssetKind.listing_view_base()``) and are mounted on the same
paths, ahead of Wagtail's, so every link to ``wagtailimages:index`` or ``wagtaildocs:index`` reaches
them; ``ADMIN_LISTINGS = False`` leaves Wagtail's listings alone.
"""

import django_filters
from django import forms
from django.urls import path
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import Column

from ..models import TaggingState
from ..pipeline.kinds import content_type_for

#: The sort that leaves a search in the search backend's order.
RELEVANCE = "relevance"
#: The filter's choice for assets the app has never queued (uploaded before it was installed, say).
NOT_QUEUED = "none"


class TaggingStateColumn(Column):
    """An asset's tagging state, linked to its Smart tags screen, with a failure's error on hover."""

    cell_template_name = "wagtail_smarttags/listings/tagging_state_cell.html"

    def __init__(self, name, kind, **kwargs):
        super().__init__(name, **kwargs)
        self.kind = kind

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        context["tagging"] = getattr(instance, "smarttags_tagging", None)
        context["smart_tags_url"] = smart_tags_url(self.kind, instance.pk)
        return context


def smart_tags_url(kind, object_id):
    from ..wagtail_hooks import moderation_url

    return moderation_url(kind.name, object_id)


def tagging_state_filterset(base, kind):
    """``base`` (the listing's filter set) with a "Smart tagging" filter."""

    def filter_tagging_state(self, queryset, name, value):
        states = TaggingState.objects.filter(content_type=content_type_for(kind.get_model()))
        if value == NOT_QUEUED:
            return queryset.exclude(pk__in=states.values("object_id"))
        return queryset.filter(pk__in=states.filter(status=value).values("object_id"))

    tagging_state = django_filters.ChoiceFilter(
        label=_("Smart tagging"),
        choices=[*TaggingState.Status.choices, (NOT_QUEUED, _("Not queued"))],
        method="filter_tagging_state",
        empty_label=_("Any"),
        widget=forms.RadioSelect,  # as Wagtail's own choice filters, one click in the drilldown
    )
    return type(
        f"SmartTags{base.__name__}",
        (base,),
        {
            "tagging_state": tagging_state,
            "filter_tagging_state": filter_tagging_state,
            "Meta": type("Meta", (base.Meta,), {}),
        },
    )


class SmartTagsListingMixin:
    """Mixed into a Wagtail asset ``IndexView``; ``kind`` is set by :func:`listing_view`."""

    kind = None
    #: Wagtail's own default sort, used when there is no query to be relevant to.
    unsearched_ordering = None
    default_ordering = RELEVANCE

    def get_valid_orderings(self):
        return [RELEVANCE, *super().get_valid_orderings()]

    @cached_property
    def is_explicitly_ordered(self):
        return self.ordering != RELEVANCE

    def order_queryset(self, queryset):
        if self.ordering == RELEVANCE:
            # Without a query there is nothing to be relevant to: Wagtail's default sort then.
            return queryset.order_by(self.unsearched_ordering)
        return super().order_queryset(queryset)

    @cached_property
    def columns(self):
        columns = list(super().columns)
        if columns:  # the image grid has no columns; it shows badges instead
            columns.insert(-1, TaggingStateColumn("smarttags_tagging", self.kind, label=_("Smart tags")))
        return columns

    def decorate_paginated_queryset(self, object_list):
        object_list = super().decorate_paginated_queryset(object_list)
        assets = list(object_list)
        states = TaggingState.objects.filter(
            content_type=content_type_for(self.kind.get_model()), object_id__in=[asset.pk for asset in assets]
        ).only("object_id", "status", "error", "error_record", "tagged_at", "queued_at")
        by_id = {state.object_id: state for state in states}
        for asset in assets:
            asset.smarttags_tagging = by_id.get(asset.pk)
            asset.smarttags_url = smart_tags_url(self.kind, asset.pk)
        return assets

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        ordering_options = getattr(self, "ORDERING_OPTIONS", None)
        if ordering_options is not None:
            context["ORDERING_OPTIONS"] = {RELEVANCE: _("Relevance"), **ordering_options}
        else:
            context["ORDERING_OPTIONS"] = self.sort_options()
        context["current_ordering"] = self.ordering
        return context

    def sort_options(self):
        """The sorts offered in the header of a listing that has no sort menu of its own (documents)."""
        options = {RELEVANCE: _("Relevance")}
        for column in self.columns:
            if column.sort_key:
                options[column.sort_key] = _("%(column)s (ascending)") % {"column": column.label}
                options[f"-{column.sort_key}"] = _("%(column)s (descending)") % {"column": column.label}
        return options


def listing_view(kind):
    """The kind's Wagtail listing with the mixin, or None when the kind has no class-based listing."""
    base = kind.listing_view_base()
    if base is None:
        return None
    attributes = {
        "kind": kind,
        "unsearched_ordering": base.default_ordering,
        "filterset_class": tagging_state_filterset(base.filterset_class, kind),
        **kind.listing_templates,
    }
    return type(f"SmartTags{kind.name.title()}IndexView", (SmartTagsListingMixin, base), attributes)


def listing_urls(kinds):
    """URL patterns for the listings of ``kinds``, on the paths of Wagtail's own."""
    urlpatterns = []
    for kind in kinds:
        view = listing_view(kind)
        if view is None:
            continue
        urlpatterns += [
            path(kind.listing_path, view.as_view(), name=f"smarttags_{kind.name}_index"),
            path(f"{kind.listing_path}results/", view.as_view(results_only=True),
                 name=f"smarttags_{kind.name}_index_results"),
        ]  # fmt: skip
    return urlpatterns
