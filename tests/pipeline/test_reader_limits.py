"""Files that overrun the reader's limits in the middle of a batch: each gets its own readable error,
the rest of the batch is tagged, and the process (a worker's) carries on."""

import os

import pytest
from django.test import override_settings

from wagtail_smarttags.isolation import get_reader
from wagtail_smarttags.isolation.reader import ReaderLimits
from wagtail_smarttags.models import TaggingState
from wagtail_smarttags.pipeline.kinds import DOCUMENT, get_asset_kind
from wagtail_smarttags.pipeline.kinds.base import DecodeContext
from wagtail_smarttags.pipeline.tagging import tag_assets

from ..baddocuments import MiB, html_nested, pdf_flate_bomb, rtf_flood
from ..factories import create_document
from ..helpers import smart_tags_of, state_of

pytestmark = pytest.mark.django_db

GOOD = [
    "Solar panels on school roofs reduce energy bills. Solar panels pay for themselves in a decade.",
    "Rooftop gardens cool the classrooms in summer. Gardens also teach pupils about plants.",
]


def test_a_batch_carries_on_past_files_that_overrun_the_reader(settings):
    settings.WAGTAIL_SMARTTAGS = {
        **settings.WAGTAIL_SMARTTAGS,
        "AUTO_TAG": False,
        "READER_MAX_MEMORY": 64 * MiB,
        "READER_MAX_SECONDS": 2,
        # The PDF's own stream limit out of the way, so that the reader's memory limit is what stops it.
        "TEXT_LIMITS": {"max_stream_bytes": 4096 * MiB},
    }
    documents = [
        create_document(GOOD[0].encode(), "solar.txt"),
        create_document(pdf_flate_bomb(inflated=1024 * MiB), "bomb.pdf"),
        create_document(html_nested(6_000_000), "nested.html"),
        create_document(rtf_flood(20 * MiB), "flood.rtf"),
        create_document(GOOD[1].encode(), "gardens.txt"),
    ]
    solar, bomb, nested, flood, gardens = documents
    with override_settings(WAGTAIL_SMARTTAGS={**settings.WAGTAIL_SMARTTAGS, "BATCH_SIZE": 8}):
        outcome = tag_assets(get_asset_kind(DOCUMENT), [document.pk for document in documents])
    assert outcome == {TaggingState.Status.DONE: 2, TaggingState.Status.FAILED: 3}
    assert "needs more than 64 MiB to read" in state_of(bomb).error
    # HTML is parsed under the extraction's own deadline, a second below the reader's, so it stops first...
    assert "reading took longer than 1 s and was stopped" in state_of(nested).error
    # ...while striprtf parses in one call, which only the reader's hard limit stops.
    assert "took longer than 2 s to read; reading was stopped" in state_of(flood).error
    assert "solar panels" in {tag.name.lower() for tag in smart_tags_of(solar)}
    assert smart_tags_of(gardens).exists()
    reader = get_reader()
    assert reader.pid not in (None, os.getpid()), "a fresh reader child serves the next file"


@pytest.mark.parametrize(
    "hard, asked, expected",
    [(30, 30, 24), (30, 10, 10), (4, 30, 3), (2, 30, 1), (1, 30, 0.5)],
)
def test_a_parsers_own_budget_stops_at_least_a_second_before_the_reader(hard, asked, expected):
    context = DecodeContext(reader_limits=ReaderLimits(max_seconds=hard))
    assert context.soft_seconds(asked) == pytest.approx(expected)
