"""The Smart Tags Training report: one row per tag of each tag model, with how well it is trained."""

import django_filters
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.admin.views.reports import ReportView

from ...conf import get_setting
from ...models import TagModel, TagModelTag, TrainingExample
from ...training.service import TagTrainingStatus
from ..permissions import ANY_TAG_MODEL_ACTION, tag_model_permission_policy

STATUS_CHOICES = [
    (TagTrainingStatus.TRAINED, _("Trained")),
    (TagTrainingStatus.PARTIALLY_TRAINED, _("Partially trained")),
    (TagTrainingStatus.NOT_TRAINED, _("Not trained")),
]
STATUS_LABELS = dict(STATUS_CHOICES)


def tag_metrics(link):
    """The active version's metrics for this tag, or ``{}`` if that version did not train it."""
    version = link.tag_model.active_version
    if version is None:
        return {}
    return (version.metrics or {}).get("tags", {}).get(str(link.tag_id), {})


def training_status(link):
    return tag_metrics(link).get("status", TagTrainingStatus.NOT_TRAINED)


class TrainingReportFilterSet(WagtailFilterSet):
    tag_model = django_filters.ModelChoiceFilter(label=_("Tag model"), queryset=TagModel.objects.order_by("title"))
    status = django_filters.ChoiceFilter(label=_("Status"), choices=STATUS_CHOICES, method="filter_status")

    class Meta:
        model = TagModelTag
        fields = ["tag_model", "status"]

    def filter_status(self, queryset, name, value):
        # The status lives in each active version's JSON metrics, keyed by tag id: read in Python.
        rows = queryset.select_related("tag_model__active_version")
        return queryset.filter(pk__in=[link.pk for link in rows if training_status(link) == value])


class TrainingStatusColumn(Column):
    """Trained in green, partially trained in yellow, not trained in red."""

    cell_template_name = "wagtail_smarttags/tables/training_status_cell.html"


class PercentColumn(Column):
    """A cross-validated figure; one measured on fewer than MIN_EXAMPLES_PER_TAG examples says so."""

    cell_template_name = "wagtail_smarttags/tables/percent_cell.html"


class AutomaticColumn(Column):
    cell_template_name = "wagtail_smarttags/tables/automatic_cell.html"


def as_percent(value):
    return "" if value is None else round(value * 100, 1)


# Characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value):
    """A text cell that a spreadsheet would run as a formula, prefixed with ' so that it shows as text."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


class TrainingReportView(ReportView):
    page_title = _("Smart Tags Training")
    header_icon = "tag"
    model = TagModelTag
    filterset_class = TrainingReportFilterSet
    index_url_name = "smarttags_training_report"
    index_results_url_name = "smarttags_training_report_results"
    permission_policy = tag_model_permission_policy
    any_permission_required = ANY_TAG_MODEL_ACTION
    export_filename = "smart-tags-training"
    verbose_name = _("tag")
    verbose_name_plural = _("tags")
    default_ordering = ["tag_model__title", "tag__name"]
    columns = [
        Column("tag_model", label=_("Tag model"), accessor="tag_model.title", sort_key="tag_model__title"),
        Column("tag", label=_("Tag"), accessor="tag.name", sort_key="tag__name"),
        Column("example_count", label=_("Examples"), sort_key="example_count"),
        TrainingStatusColumn("training_status", label=_("Status")),
        PercentColumn("precision", label=_("Precision (cross-validated)")),
        PercentColumn("recall", label=_("Recall (cross-validated)")),
        AutomaticColumn("automatic", label=_("Applied automatically"), accessor="automatic_label"),
        DateColumn("last_trained", label=_("Last trained"), sort_key="tag_model__last_trained_at"),
    ]
    list_export = [
        "tag_model.title",
        "tag.name",
        "example_count",
        "training_status_label",
        "precision",
        "recall",
        "automatic_label",
        "last_trained",
    ]
    export_headings = {
        "tag_model.title": _("Tag model"),
        "tag.name": _("Tag"),
        "example_count": _("Examples"),
        "training_status_label": _("Status"),
        "precision": _("Precision"),
        "recall": _("Recall"),
        "automatic_label": _("Applied automatically"),
        "last_trained": _("Last trained"),
    }

    # Spreadsheet values: fractions shown as percentages, and the date to the second.
    XLSX_NUMBER_FORMATS = {"precision": "0.0%", "recall": "0.0%", "last_trained": "yyyy-mm-dd hh:mm:ss"}

    def generate_xlsx_row(self, worksheet, row_dict, date_format=None):
        for field, cell in zip(row_dict, super().generate_xlsx_row(worksheet, row_dict, date_format)):
            if field in self.XLSX_NUMBER_FORMATS and cell.value is not None:
                cell.number_format = self.XLSX_NUMBER_FORMATS[field]
            yield cell

    def preprocess_field_value(self, field, value, export_format):
        if field == "last_trained" and value is not None:
            value = value.replace(microsecond=0)
        return super().preprocess_field_value(field, value, export_format)

    def write_csv_row(self, writer, row_dict):
        # Tag and model names are typed by editors: in CSV they must not become formulas (XLSX cells are
        # written as strings by Wagtail already).
        return writer.writerow(
            {
                field: neutralise_formula(self.preprocess_field_value(field, value, self.FORMAT_CSV))
                for field, value in row_dict.items()
            }
        )

    def get_valid_orderings(self):
        return [*super().get_valid_orderings(), *self.default_ordering]

    def get_ordering(self):
        ordering = self.request.GET.get("ordering")
        return ordering if ordering in self.get_valid_orderings() else self.default_ordering

    def get_base_queryset(self):
        examples = (
            TrainingExample.objects.filter(tag_model=OuterRef("tag_model"), tag=OuterRef("tag"))
            .order_by()
            .values("tag_model")
            .annotate(count=Count("pk"))
            .values("count")
        )
        return TagModelTag.objects.select_related("tag_model__active_version", "tag").annotate(
            example_count=Coalesce(Subquery(examples[:1]), 0)
        )

    def decorate_paginated_queryset(self, object_list):
        rows = list(object_list)
        minimum = get_setting("MIN_EXAMPLES_PER_TAG")
        for link in rows:
            metrics = tag_metrics(link)
            link.training_status = metrics.get("status", TagTrainingStatus.NOT_TRAINED)
            link.training_status_label = str(STATUS_LABELS[link.training_status])
            # Exported as fractions (0-1) so spreadsheets can format them; shown as percentages.
            link.precision = metrics.get("precision")
            link.recall = metrics.get("recall")
            link.last_trained = link.tag_model.last_trained_at if metrics else None
            # Measured on fewer examples than the guidelines ask, a figure says little ("100%" of 2 photos).
            link.trained_examples = metrics.get("examples")
            link.few_examples = bool(metrics) and (link.trained_examples or 0) < minimum
            link.automatic = bool(metrics) and metrics.get("automatic", True)
            link.automatic_label = str(automatic_label(link, minimum))
        return rows


def automatic_label(link, minimum):
    if not link.training_status or link.training_status == TagTrainingStatus.NOT_TRAINED:
        return _("No: not trained")
    if link.automatic:
        return _("Yes")
    return _("No: fewer than %(minimum)s examples") % {"minimum": minimum}
