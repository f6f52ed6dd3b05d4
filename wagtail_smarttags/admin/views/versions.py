"""Versions of a tag model: every training with its metrics, and rolling back to an earlier one."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from ...models import TagModel, TrainingVersion
from ...training import service as training
from ..permissions import can_train


def average(values):
    values = [value for value in values if value is not None]
    return sum(values) / len(values) if values else None


def version_summary(version):
    """What the versions screen shows of one version: counts and mean cross-validated metrics."""
    tags = (version.metrics or {}).get("tags", {})
    return {
        "version": version,
        "tags": sorted(tags.values(), key=lambda tag: tag.get("name", "")),
        "examples": sum(tag.get("examples", 0) for tag in tags.values()),
        "precision": average([tag.get("precision") for tag in tags.values()]),
        "recall": average([tag.get("recall") for tag in tags.values()]),
    }


class TrainingPermissionMixin:
    def dispatch(self, request, *args, **kwargs):
        if not can_train(request.user):
            raise PermissionDenied
        self.tag_model = get_object_or_404(TagModel, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)


class VersionsView(TrainingPermissionMixin, WagtailAdminTemplateMixin, TemplateView):
    template_name = "wagtail_smarttags/versions/index.html"
    header_icon = "history"
    page_title = _("Versions")

    def get_page_subtitle(self):
        return self.tag_model.title

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("tagmodel:index"), "label": _("Tag models")},
            {"url": "", "label": _("Versions of “%(model)s”") % {"model": self.tag_model.title}},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        versions = self.tag_model.versions.select_related("created_by").order_by("-number")
        context.update(
            tag_model=self.tag_model,
            versions=[version_summary(version) for version in versions],
            succeeded=TrainingVersion.Status.SUCCEEDED,
        )
        return context


class RollbackView(TrainingPermissionMixin, TemplateView):
    """POST: make an earlier version active again."""

    http_method_names = ["post"]

    def post(self, request, pk, version_id):
        version = get_object_or_404(TrainingVersion, tag_model=self.tag_model, pk=version_id)
        try:
            training.rollback_to(version, user=request.user)
        except ValueError:
            messages.error(
                request,
                _("Version %(version)s did not train successfully, so “%(model)s” cannot roll back to it.")
                % {"version": version.number, "model": self.tag_model.title},
            )
        else:
            messages.success(
                request,
                _(
                    "“%(model)s” rolled back to version %(version)s. Its smart tags are being updated in the "
                    "background; the ones editors removed or promoted stay as they decided."
                )
                % {"version": version.number, "model": self.tag_model.title},
            )
        return redirect("tagmodel:versions", self.tag_model.pk)
