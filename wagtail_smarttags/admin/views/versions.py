"""Versions of a tag model: every training with its metrics, previewing and activating (or discarding) a
new one, and rolling back to an earlier one."""

from typing import TYPE_CHECKING

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.images import get_image_model
from wagtail.images.shortcuts import get_rendition_or_not_found

from ...conf import get_setting
from ...models import TagModel, TrainingVersion
from ...pipeline.kinds import kind_for_model
from ...training import service as training
from ...training.preview import PreviewStatus
from ..forms import choosable_images
from ..permissions import can_train

MISTAKES_PER_TAG = 8

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise


def average(values):
    values = [value for value in values if value is not None]
    return sum(values) / len(values) if values else None


def version_summary(version, minimum=None):
    """What the versions screen shows of one version: counts and mean cross-validated metrics.

    The means leave out tags with fewer than ``minimum`` examples: two photos that are both
    recognised out of fold make a "100%" that says nothing of the tag.
    """
    minimum = get_setting("MIN_EXAMPLES_PER_TAG") if minimum is None else minimum
    by_id = (version.metrics or {}).get("tags", {})
    tags = sorted(by_id.values(), key=lambda tag: tag.get("name", ""))
    measured = [tag for tag in tags if tag.get("examples", 0) >= minimum]
    held_back = [tag for tag in tags if tag.get("automatic") is False]
    moderation = (version.metrics or {}).get("moderation") or {}
    return {
        "version": version,
        "tags": tags,
        "examples": sum(tag.get("examples", 0) for tag in tags),
        "precision": average([tag.get("precision") for tag in measured]),
        "recall": average([tag.get("recall") for tag in measured]),
        "unmeasured": len(tags) - len(measured),
        "held_back": held_back,
        "minimum": minimum,
        # Shown only when the library taught the model something: a new site's library may be its examples.
        "library_images": (version.metrics or {}).get("library_images") if (version.metrics or {}).get(
            "background_classes"
        ) else None,
        # Shown only when editors' decisions were learnt from.
        "moderation": moderation if any(moderation.values()) else None,
        "confusion": confusion_matrix(by_id),
        "mistakes": likely_mistakes(by_id),
    }


def confusion_matrix(by_id):
    """Rows of the cross-validated confusion matrix, one per tag: what its examples were given, tag by tag
    (in the order of the rows) and then "no tag". ``[]`` for versions trained before it was recorded."""
    ordered = sorted(by_id, key=lambda tag_id: by_id[tag_id].get("name", ""))
    if not ordered or any("confusion" not in by_id[tag_id] for tag_id in ordered):
        return []
    return [
        {
            "tag": by_id[tag_id]["name"],
            "cells": [
                {"count": by_id[tag_id]["confusion"].get(column, 0), "correct": column == tag_id}
                for column in ordered
            ],
            "none": by_id[tag_id]["confusion"].get("", 0),
        }
        for tag_id in ordered
    ]


def likely_mistakes(by_id, per_tag=MISTAKES_PER_TAG):
    """``[{"tag": name, "mistakes": [{"image": id, "predicted": name, "confidence": float}], "more": int}]``:
    each tag's examples that the model, trained without them, took for another tag; the surest first."""
    rows = []
    for tag in sorted(by_id.values(), key=lambda tag: tag.get("name", "")):
        mistakes = tag.get("mistakes") or []
        if mistakes:
            rows.append({
                "tag": tag["name"],
                "mistakes": [
                    {**mistake, "predicted": by_id.get(mistake["predicted"], {}).get("name", "?")}
                    for mistake in mistakes[:per_tag]
                ],
                "more": max(0, len(mistakes) - per_tag),
            })  # fmt: skip
    return rows


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
        rows = [version_summary(version, get_setting("MIN_EXAMPLES_PER_TAG")) for version in versions]
        # One query for the thumbnails of every version's likely mistakes.
        wanted = {mistake["image"] for row in rows for tag in row["mistakes"] for mistake in tag["mistakes"]}
        images = choosable_images(self.request.user).in_bulk(wanted)
        for row in rows:
            for tag in row["mistakes"]:
                tag["mistakes"] = [{**m, "image": images[m["image"]]} for m in tag["mistakes"] if m["image"] in images]
        context.update(tag_model=self.tag_model, versions=rows, succeeded=TrainingVersion.Status.SUCCEEDED)
        return context


def preview_rows(preview, user):
    """The preview's tags with their sample assets loaded: ``[{name, gain, lose, keep, gains, losses}]``,
    each sample ``{"asset", "url", "thumbnail" (images only), "confidence"}``; deleted assets, and assets
    ``user`` may not choose, are left out (the counts are of them all)."""
    tags = list((preview or {}).get("tags", {}).values())
    wanted = {}
    for tag in tags:
        for content_type_id, object_id, _confidence in tag["gain_samples"] + tag["lose_samples"]:
            wanted.setdefault(content_type_id, set()).add(object_id)
    assets = {}
    for content_type_id, object_ids in wanted.items():
        model = ContentType.objects.get_for_id(content_type_id).model_class()
        kind = kind_for_model(model) if model is not None else None
        if kind is not None:
            for object_id, asset in kind.choosable_by(user).in_bulk(object_ids).items():
                assets[content_type_id, object_id] = asset

    def samples(rows):
        shown = []
        for content_type_id, object_id, confidence in rows:
            asset = assets.get((content_type_id, object_id))
            kind = kind_for_model(type(asset)) if asset is not None else None
            if kind is None:
                continue
            is_image = isinstance(asset, get_image_model())
            shown.append({
                "asset": asset,
                "url": kind.edit_url(object_id),
                "thumbnail": get_rendition_or_not_found(asset, "fill-80x80") if is_image else None,
                "confidence": confidence,
            })  # fmt: skip
        return shown

    return [
        {**tag, "gains": samples(tag["gain_samples"]), "losses": samples(tag["lose_samples"])}
        for tag in tags
    ]


class PreviewView(TrainingPermissionMixin, WagtailAdminTemplateMixin, TemplateView):
    """What activating a version that awaits activation would change, tag by tag, with Activate and Discard."""

    template_name = "wagtail_smarttags/versions/preview.html"
    header_icon = "view"

    def get_page_title(self):
        return _("Preview of version %(number)s") % {"number": self.version.number}

    def get_page_subtitle(self):
        return self.tag_model.title

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("tagmodel:index"), "label": _("Tag models")},
            {"url": reverse("tagmodel:versions", args=[self.tag_model.pk]),
             "label": _("Versions of “%(model)s”") % {"model": self.tag_model.title}},
            {"url": "", "label": self.get_page_title()},
        ]  # fmt: skip

    def get(self, request, pk, version_id):
        self.version = get_object_or_404(TrainingVersion, tag_model=self.tag_model, pk=version_id)
        return super().get(request, pk, version_id)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        preview = self.version.preview or {}
        active = self.tag_model.active_version
        ready = preview.get("status") == PreviewStatus.READY
        context.update(
            tag_model=self.tag_model,
            version=self.version,
            preview=preview,
            ready=ready,
            computing=preview.get("status") == PreviewStatus.COMPUTING,
            rows=preview_rows(preview, self.request.user) if ready else [],
            active=active,
            # The library was re-tagged by another version since the preview was worked out.
            outdated=ready and preview.get("compared_with") != (active.number if active else None),
            summary=version_summary(self.version),
            computed_at=parse_datetime(preview["computed_at"]) if preview.get("computed_at") else None,
        )
        return context


class VersionActionView(TrainingPermissionMixin, TemplateView):
    """POST only: do something to one version that awaits activation, say so, and go back to the versions."""

    http_method_names = ["post"]
    success_message: "StrOrPromise" = ""

    def act(self, version):
        raise NotImplementedError

    def next_url(self, version):
        return reverse("tagmodel:versions", args=[self.tag_model.pk])

    def post(self, request, pk, version_id):
        version = get_object_or_404(TrainingVersion, tag_model=self.tag_model, pk=version_id)
        names = {"version": version.number, "model": self.tag_model.title}
        if not version.awaits_activation:
            messages.error(request, _("Version %(version)s of “%(model)s” is not waiting to be activated.") % names)
            return redirect("tagmodel:versions", self.tag_model.pk)
        self.act(version)
        messages.success(request, self.success_message % names)
        return redirect(self.next_url(version))


class ActivateView(VersionActionView):
    success_message = _(
        "Version %(version)s of “%(model)s” is active. Its smart tags are being updated in the background; "
        "the ones editors removed or promoted stay as they decided."
    )

    def act(self, version):
        training.activate_previewed(version, user=self.request.user)


class DiscardView(VersionActionView):
    success_message = _("Version %(version)s of “%(model)s” is discarded; it never tagged an asset.")

    def act(self, version):
        training.discard_version(version, user=self.request.user)


class RefreshPreviewView(VersionActionView):
    success_message = _("The preview of version %(version)s is being worked out again in the background.")

    def act(self, version):
        training.request_preview(version)

    def next_url(self, version):
        return reverse("tagmodel:preview", args=[self.tag_model.pk, version.pk])


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
