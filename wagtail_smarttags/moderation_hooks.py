"""Admin wiring for moderation and bulk actions: URLs, audit-log actions, bulk actions, the edit-page link."""

import re

from django.apps import apps
from django.templatetags.static import static
from django.urls import include, path, reverse
from django.utils.html import format_html, json_script
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.log_actions import LogFormatter

from . import moderation
from .assets import get_media_model_or_none
from .bulk_actions import BULK_ACTIONS
from .views.moderation import AssetSmartTagsView

URL_NAMESPACE = "wagtail_smarttags_moderation"

for bulk_action in BULK_ACTIONS:
    hooks.register("register_bulk_action", bulk_action)


@hooks.register("register_admin_urls")
def register_moderation_urls():
    urlpatterns = [path("<str:kind>/<int:object_id>/", AssetSmartTagsView.as_view(), name="asset")]
    return [path("smarttags/assets/", include((urlpatterns, URL_NAMESPACE), namespace=URL_NAMESPACE))]


def moderation_url(kind, object_id):
    return reverse(f"{URL_NAMESPACE}:asset", args=(kind, object_id))


class SmartTagDecisionFormatter(LogFormatter):
    def format_message(self, log_entry):
        data = log_entry.data or {}
        return self.message % {"tag": data.get("tag", "?"), "confidence": round(100 * data.get("confidence", 0))}


@hooks.register("register_log_actions")
def register_moderation_log_actions(actions):
    @actions.register_action(moderation.REMOVE_ACTION)
    class RemovedFormatter(SmartTagDecisionFormatter):
        label = _("Remove smart tag")
        message = _("Smart tag “%(tag)s” (%(confidence)d%%) removed")

    @actions.register_action(moderation.PROMOTE_ACTION)
    class PromotedFormatter(SmartTagDecisionFormatter):
        label = _("Promote smart tag")
        message = _("Smart tag “%(tag)s” (%(confidence)d%%) promoted to a tag")

    actions.register_action(moderation.RETAG_ACTION, _("Re-tag"), _("Queued for smart tagging"))


# Global rather than editor JS: wagtailmedia's edit page does not load the editor's scripts.
@hooks.register("insert_global_admin_js")
def smart_tags_link_on_asset_edit_pages():
    """The routes the link script needs: each edit page's URL pattern and its Smart tags URL."""
    routes = [_route("image", "wagtailimages:edit")]
    if apps.is_installed("wagtail.documents"):
        routes.append(_route("document", "wagtaildocs:edit"))
    if get_media_model_or_none() is not None:
        routes.append(_route("video", "wagtailmedia:edit"))
    return format_html(
        '{}<script src="{}"></script>',
        json_script(routes, "smarttags-moderation-config"),
        static("wagtail_smarttags/moderation.js"),
    )


def _route(kind, edit_url_name):
    edit_path = reverse(edit_url_name, args=(0,))
    return {
        "edit_pattern": re.escape(edit_path).replace("/0/", "/(\\d+)/"),
        "moderation_url": moderation_url(kind, 0),
        "label": str(_("Smart tags")),
    }
