"""The Smart Tags Training report: rows, colours, filters, and its CSV and XLSX downloads."""

import csv
import io

import openpyxl
import pytest
from django.urls import reverse
from taggit.models import Tag

from wagtail_smarttags.models import TagModel, TagModelTag
from wagtail_smarttags.training import service as training

from ..datasets import clothing_images
from ..factories import create_tag_model

pytestmark = pytest.mark.django_db

HEADINGS = ["Tag model", "Tag", "Examples", "Status", "Precision", "Recall", "Applied automatically", "Last trained"]


@pytest.fixture
def report_models(django_capture_on_commit_callbacks):
    """Garments trained for real (hat and shoes fully, pants partially), then a tag added after training;
    Colours never trained."""
    examples = clothing_images("train", ["hat", "shoes"], per_class=10)
    examples["pants"] = clothing_images("train", ["pants"], per_class=4)["pants"]
    garments = create_tag_model("Garments", examples)
    with django_capture_on_commit_callbacks(execute=True):
        training.request_training(garments)
    garments.refresh_from_db()
    TagModelTag.objects.create(tag_model=garments, tag=Tag.objects.create(name="skirt"), sort_order=9)
    colours = TagModel.objects.create(title="Colours")
    for name in ("red", "blue"):
        TagModelTag.objects.create(tag_model=colours, tag=Tag.objects.create(name=name))
    return garments, colours


def report(client, **params):
    return client.get(reverse("smarttags_training_report"), params)


def test_report_is_in_the_reports_menu(admin_client):
    html = admin_client.get(reverse("wagtailadmin_home")).content.decode()
    assert "Smart Tags Training" in html and reverse("smarttags_training_report") in html


def test_one_row_per_tag_of_each_model_with_status_colours(admin_client, report_models):
    response = report(admin_client)
    assert response.status_code == 200
    rows = {(row.tag_model.title, row.tag.name): row for row in response.context["object_list"]}
    assert sorted(rows) == [
        ("Colours", "blue"), ("Colours", "red"),
        ("Garments", "hat"), ("Garments", "pants"), ("Garments", "shoes"), ("Garments", "skirt"),
    ]  # fmt: skip
    assert rows["Garments", "hat"].training_status == "trained"
    assert rows["Garments", "hat"].example_count == 10
    assert 0 <= rows["Garments", "hat"].precision <= 1 and 0 <= rows["Garments", "hat"].recall <= 1
    assert rows["Garments", "pants"].training_status == "partially trained"
    assert rows["Garments", "skirt"].training_status == "not trained"
    assert rows["Colours", "red"].training_status == "not trained" and rows["Colours", "red"].precision is None
    html = response.content.decode()
    assert html.count("smarttags-training-status--trained") == 2
    assert html.count("smarttags-training-status--partially-trained") == 1
    assert html.count("smarttags-training-status--not-trained") == 3
    assert "Download XLSX" in html and "Download CSV" in html


def test_a_tag_with_too_few_examples_is_marked_not_applied_and_its_figures_unreliable(admin_client, report_models):
    response = report(admin_client)
    rows = {row.tag.name: row for row in response.context["object_list"]}
    assert (rows["hat"].automatic, rows["hat"].few_examples) == (True, False)
    assert (rows["pants"].automatic, rows["pants"].few_examples) == (False, True)
    assert rows["pants"].automatic_label == "No: fewer than 10 examples"
    assert rows["skirt"].automatic_label == "No: not trained"
    html = response.content.decode()
    assert html.count('data-smarttags-automatic="no"') == 4 and html.count('data-smarttags-automatic="yes"') == 2
    # Pants' cross-validated figures (on 4 photos) carry the caveat; hat's (on 10) do not.
    assert html.count("from 4 examples: unreliable") == (rows["pants"].precision is not None) + (
        rows["pants"].recall is not None
    )
    assert "from 10 examples" not in html


def test_filter_by_model_and_status(admin_client, report_models):
    garments, colours = report_models
    names = lambda response: sorted(row.tag.name for row in response.context["object_list"])  # noqa: E731
    assert names(report(admin_client, tag_model=colours.pk)) == ["blue", "red"]
    assert names(report(admin_client, status="trained")) == ["hat", "shoes"]
    assert names(report(admin_client, status="partially trained")) == ["pants"]
    assert names(report(admin_client, tag_model=garments.pk, status="not trained")) == ["skirt"]


def test_xlsx_export_has_a_row_per_tag(admin_client, report_models):
    garments, _ = report_models
    response = report(admin_client, export="xlsx")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="smart-tags-training.xlsx"'
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(workbook.active.iter_rows(values_only=True))
    assert list(rows[0]) == HEADINGS
    by_tag = {(row[0], row[1]): row for row in rows[1:]}
    assert len(by_tag) == 6
    hat = by_tag["Garments", "hat"]
    assert hat[2] == 10 and hat[3] == "Trained"
    metrics = garments.active_version.metrics["tags"][str(Tag.objects.get(name="hat").pk)]
    assert hat[4] == pytest.approx(metrics["precision"]) and hat[5] == pytest.approx(metrics["recall"])
    assert hat[6] == "Yes"
    # Last trained: a real date cell, to the second.
    garments.refresh_from_db()
    assert hat[7] == garments.last_trained_at.replace(microsecond=0, tzinfo=None)
    cells = {cell.column_letter: cell for cell in next(
        row for row in workbook.active.iter_rows(min_row=2) if (row[0].value, row[1].value) == ("Garments", "hat")
    )}  # fmt: skip
    assert cells["E"].number_format == cells["F"].number_format == "0.0%", "shown as percentages"
    assert cells["H"].number_format == "yyyy-mm-dd hh:mm:ss" and cells["H"].is_date
    assert by_tag["Garments", "pants"][2:4] == (4, "Partially trained")
    assert by_tag["Garments", "pants"][6] == "No: fewer than 10 examples"
    assert by_tag["Colours", "red"][2:] == (0, "Not trained", None, None, "No: not trained", None)


def test_xlsx_export_keeps_the_filters(admin_client, report_models):
    response = report(admin_client, status="trained", export="xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert [row[1] for row in workbook.active.iter_rows(min_row=2, values_only=True)] == ["hat", "shoes"]


def test_csv_export(admin_client, report_models):
    response = report(admin_client, export="csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == HEADINGS
    assert ["Garments", "pants", "4", "Partially trained"] == rows[[r[1] for r in rows].index("pants")][:4]
    assert len(rows) == 7


FORMULAS = ["=HYPERLINK(\"http://example.com\",\"x\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd"]


def test_csv_export_neutralises_formulas_in_names_editors_typed(admin_client):
    """OWASP's advice for CSV injection: a text cell starting with = + - @ tab or CR is prefixed with '."""
    hostile = TagModel.objects.create(title="=cmd|' /C calc'!A0")
    for name in FORMULAS:
        TagModelTag.objects.create(tag_model=hostile, tag=Tag.objects.create(name=name))
    response = report(admin_client, export="csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))[1:]
    assert sorted(row[1] for row in rows) == sorted("'" + name for name in FORMULAS)
    assert {row[0] for row in rows} == {"'=cmd|' /C calc'!A0"}
    assert all(not cell.startswith(("=", "+", "-", "@", "\t")) for row in rows for cell in row)
    # XLSX keeps the names as they are, as text cells.
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(report(admin_client, export="xlsx").streaming_content)))
    cells = list(workbook.active.iter_rows(min_row=2, values_only=True))
    assert sorted(cell[1] for cell in cells) == sorted(FORMULAS)
