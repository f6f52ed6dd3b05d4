"""Wagtail admin wiring. Training screens and the report are registered here; moderation,
bulk actions and search-related admin hooks live in ``moderation_hooks``."""

from django.templatetags.static import static
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from . import moderation_hooks, training  # noqa: F401
from .permissions import can_see_tag_models, forbidden_on_denied
from .views.reports import TrainingReportView
from .views.tag_models import SmartTagsMenu


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
    actions.register_action(training.LOG_DELETE, _("Delete tag model"), _("Tag model deleted"))


@hooks.register("insert_global_admin_css")
def training_admin_css():
    return format_html('<link rel="stylesheet" href="{}">', static("wagtail_smarttags/css/training-admin.css"))
