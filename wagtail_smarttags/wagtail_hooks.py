"""The app's Wagtail hooks, all of them: the training menu and report, moderation screens, bulk
actions, audit-log actions and the Smart tags link on asset edit pages. Views live in ``admin/``."""

import re

from django.templatetags.static import static
from django.urls import include, path, reverse
from django.utils.html import format_html, json_script
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.components import Component
from wagtail.log_actions import LogFormatter

from . import moderation
from .admin.bulk_actions import get_bulk_actions
from .admin.listings import listing_urls
from .admin.permissions import can_see_tag_models, forbidden_on_denied
from .admin.views.reports import TrainingReportView
from .admin.views.smart_tags import AssetSmartTagsView
from .admin.views.tag_models import SmartTagsMenu
from .conf import get_setting
from .pipeline.kinds import get_asset_kinds
from .training import service as training
from .worker_health import worker_backlog

MODERATION_NAMESPACE = "wagtail_smarttags_moderation"


class WorkerStalledPanel(Component):
    """On the dashboard, only while uploads or trainings wait for a worker that does not come."""

    name = "smarttags_worker"
    order = 50
    template_name = "wagtail_smarttags/worker/home_panel.html"

    def __init__(self, backlog):
        self.backlog = backlog

    def get_context_data(self, parent_context=None):
        return {"backlog": self.backlog}


@hooks.register("construct_homepage_panels")
def add_worker_stalled_panel(request, panels):
    backlog = worker_backlog()
    if backlog.stalled:
        panels.append(WorkerStalledPanel(backlog))

for bulk_action in get_bulk_actions():
    hooks.register("register_bulk_action", bulk_action)


@hooks.register("register_admin_viewset")
def register_smart_tags_menu():
    return SmartTagsMenu()


@hooks.register("register_admin_urls")
def register_training_report_urls():
    return [
        path(
            "reports/smart-tags-training/",
            forbidden_on_denied(TrainingReportView.as_view()),
            name="smarttags_training_report",
        ),
        path(
            "reports/smart-tags-training/results/",
            forbidden_on_denied(TrainingReportView.as_view(results_only=True)),
            name="smarttags_training_report_results",
        ),
    ]


class TrainingReportMenuItem(MenuItem):
    def is_shown(self, request):
        return can_see_tag_models(request.user)


@hooks.register("register_reports_menu_item")
def register_training_report_menu_item():
    return TrainingReportMenuItem(
        _("Smart Tags Training"),
        reverse("smarttags_training_report"),
        name="smart-tags-training",
        icon_name="tag",
        order=1300,
    )


@hooks.register("register_log_actions")
def register_training_log_actions(actions):
    actions.register_action(training.LOG_CREATE, _("Create tag model"), _("Tag model created"))
    actions.register_action(training.LOG_TRAIN, _("Train tag model"), _("Tag model training started"))
    actions.register_action(training.LOG_ROLLBACK, _("Roll back tag model"), _("Tag model rolled back"))
    actions.register_action(training.LOG_ACTIVATE, _("Activate tag model version"), _("Previewed version activated"))
    actions.register_action(training.LOG_DISCARD, _("Discard tag model version"), _("Previewed version discarded"))
    actions.register_action(training.LOG_DELETE, _("Delete tag model"), _("Tag model deleted"))


@hooks.register("insert_global_admin_css")
def training_admin_css():
    return format_html('<link rel="stylesheet" href="{}">', static("wagtail_smarttags/css/training-admin.css"))


# Ahead of Wagtail's own hooks, so that these views answer on the listings' paths.
@hooks.register("register_admin_urls", order=-1)
def register_asset_listing_urls():
    if not get_setting("ADMIN_LISTINGS"):
        return []
    return listing_urls(get_asset_kinds().values())


@hooks.register("register_admin_urls")
def register_moderation_urls():
    urlpatterns = [path("<str:kind>/<int:object_id>/", AssetSmartTagsView.as_view(), name="asset")]
    return [path("smarttags/assets/", include((urlpatterns, MODERATION_NAMESPACE), namespace=MODERATION_NAMESPACE))]


def moderation_url(kind, object_id):
    return reverse(f"{MODERATION_NAMESPACE}:asset", args=(kind, object_id))


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
    routes = [_route(kind) for kind in get_asset_kinds().values()]
    return format_html(
        '{}<script src="{}"></script>',
        json_script(routes, "smarttags-moderation-config"),
        static("wagtail_smarttags/moderation.js"),
    )


def _route(kind):
    edit_path = kind.edit_url(0)
    return {
        "edit_pattern": re.escape(edit_path).replace("/0/", "/(\\d+)/"),
        "moderation_url": moderation_url(kind.name, 0),
        "label": str(_("Smart tags")),
    }
