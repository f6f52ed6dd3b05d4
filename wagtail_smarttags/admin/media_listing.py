"""wagtailmedia's listing as a Wagtail class-based ``IndexView``, so that the app can extend it as it does the
image and document listings (``admin/listings.py``).

wagtailmedia's own listing is a function view that builds its queryset and renders in one go, leaving
no place for a column or a filter. This view shows what it shows (title, file, type, collection and
upload date, Wagtail's search, the collection and tag filters, Add audio and Add video) with Wagtail's
generic listing machinery, and links to wagtailmedia's own add and edit screens.
"""

from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import BaseMediaFilterSet
from wagtail.admin.ui.tables import Column, DateColumn, TitleColumn
from wagtail.admin.views import generic
from wagtail.admin.widgets.button import HeaderButton


class FileColumn(Column):
    cell_template_name = "wagtail_smarttags/listings/media_file_cell.html"


def media_index_view():
    """The listing class for the site's media model (``WAGTAILMEDIA["MEDIA_MODEL"]``)."""
    from wagtailmedia.models import get_media_model
    from wagtailmedia.permissions import permission_policy as media_permission_policy

    media_model = get_media_model()

    class MediaFilterSet(BaseMediaFilterSet):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            # Wagtail's usage counts are not kept for media.
            self.filters.pop("usage_count", None)

        class Meta:
            model = media_model
            fields = []

    MediaFilterSet.permission_policy = media_permission_policy

    class MediaIndexView(generic.IndexView):
        model = media_model
        permission_policy = media_permission_policy
        any_permission_required = ["add", "change", "delete"]
        context_object_name = "media_files"
        page_title = _("Media")
        header_icon = "media"
        paginate_by = 20
        index_url_name = "wagtailmedia:index"
        index_results_url_name = "smarttags_video_index_results"
        edit_url_name = "wagtailmedia:edit"
        filterset_class = MediaFilterSet
        is_searchable = True
        default_ordering = "-created_at"

        def get_base_queryset(self):
            return self.permission_policy.instances_user_has_any_permission_for(
                self.request.user, ["change", "delete"]
            ).select_related("collection")

        def get_filterset_kwargs(self):
            return {**super().get_filterset_kwargs(), "is_searching": self.is_searching}

        def decorate_paginated_queryset(self, object_list):
            """The page's media, for subclasses to annotate (as Wagtail's image and document listings do)."""
            return object_list

        def get_context_data(self, **kwargs):
            context = super().get_context_data(**kwargs)
            # The table holds this page's queryset: what decorating sets on its rows is what it shows.
            context["object_list"] = self.decorate_paginated_queryset(context["object_list"])
            return context

        @cached_property
        def columns(self):
            return [
                TitleColumn("title", label=_("Title"), sort_key="title", get_url=self.get_edit_url),
                FileColumn("filename", label=_("File")),
                Column("type", label=_("Type"), accessor="get_type_display"),
                Column("collection", label=_("Collection"), accessor="collection.name"),
                DateColumn("created_at", label=_("Uploaded"), sort_key="created_at"),
            ]

        @cached_property
        def header_buttons(self):
            if not self.permission_policy.user_has_permission(self.request.user, "add"):
                return []
            return [
                HeaderButton(_("Add audio"), url=reverse("wagtailmedia:add", args=["audio"]), icon_name="plus"),
                HeaderButton(_("Add video"), url=reverse("wagtailmedia:add", args=["video"]), icon_name="plus"),
            ]

    return MediaIndexView
