"""Wagtail's image and document listings as the app extends them: each asset's tagging state, a filter by
it, and searches in relevance order unless the editor picks another sort."""

import os
import re
from datetime import timedelta

import pytest
from django.urls import resolve, reverse
from django.utils import timezone

from wagtail_smarttags.models import TaggingState
from wagtail_smarttags.pipeline.kinds import content_type_for
from wagtail_smarttags.wagtail_hooks import moderation_url, register_asset_listing_urls

from ..factories import add_smart_tags, create_document, create_image, root_collection, solid_image_bytes

# InnoDB's FULLTEXT indexes see committed rows only: the searches below run in committed transactions there.
pytestmark = pytest.mark.django_db(transaction=os.environ.get("SMARTTAGS_TEST_DATABASE") == "mysql")

CORRUPT = "The image file is corrupt or truncated."


@pytest.fixture(autouse=True)
def no_auto_tagging(settings):
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "AUTO_TAG": False}


def record(asset, status, error="", **times):
    TaggingState.objects.update_or_create(
        content_type=content_type_for(type(asset)), object_id=asset.pk,
        defaults={"status": status, "error": error, **times},
    )  # fmt: skip


@pytest.fixture
def images():
    now = timezone.now()
    tagged, broken, queued, audio_like, untouched = (
        create_image(solid_image_bytes(), title=title, name=f"{title.lower()}.png")
        for title in ("Tagged", "Broken", "Queued", "Skipped", "Untouched")
    )
    record(tagged, TaggingState.Status.DONE, tagged_at=now)
    record(broken, TaggingState.Status.FAILED, CORRUPT, tagged_at=now)
    record(queued, TaggingState.Status.PENDING, queued_at=now - timedelta(minutes=7))
    record(audio_like, TaggingState.Status.SKIPPED, "Nothing here to tag.")
    return {"done": tagged, "failed": broken, "pending": queued, "skipped": audio_like, "none": untouched}


def states_shown(html):
    """``{title: state}`` from the listing's rows or grid items."""
    shown = {}
    for item in re.split(r"<li>|<tr\b", html)[1:]:
        title = re.search(r"(Tagged|Broken|Queued|Skipped|Untouched)", item)
        state = re.search(r'data-smarttags-state="(\w+)"', item)
        if title:
            shown[title.group(1)] = state.group(1) if state else None
    return shown


def test_the_listings_are_the_apps_on_wagtails_own_urls():
    assert reverse("wagtailimages:index") == "/admin/images/"
    assert resolve("/admin/images/").url_name == "smarttags_image_index"
    assert resolve("/admin/images/results/").url_name == "smarttags_image_index_results"
    assert resolve("/admin/documents/").url_name == "smarttags_document_index"
    assert resolve(reverse("wagtailmedia:index")).url_name == "smarttags_video_index"
    assert resolve(reverse("wagtailimages:edit", args=[1])).namespace == "wagtailimages"


def test_the_image_list_layout_has_a_tagging_column(admin_client, images):
    html = admin_client.get(reverse("wagtailimages:index"), {"layout": "list"}).content.decode()
    assert re.search(r"<th[^>]*>\s*Smart tags\s*</th>", html)
    assert states_shown(html) == {
        "Tagged": "done", "Broken": "failed", "Queued": "pending", "Skipped": "skipped", "Untouched": "none",
    }  # fmt: skip
    assert CORRUPT in html, "a failure says why"
    assert moderation_url("image", images["failed"].pk) in html
    assert "Queued 7\xa0minutes ago" in html


def test_the_image_grid_badges_what_is_pending_failed_or_skipped(admin_client, images):
    html = admin_client.get(reverse("wagtailimages:index")).content.decode()
    assert states_shown(html) == {
        "Tagged": None, "Broken": "failed", "Queued": "pending", "Skipped": "skipped", "Untouched": None,
    }  # fmt: skip
    assert f'title="{CORRUPT}"' in html


@pytest.mark.parametrize("state", ["done", "failed", "pending", "skipped", "none"])
def test_the_image_listing_filters_by_tagging_state(admin_client, images, state):
    response = admin_client.get(reverse("wagtailimages:index"), {"tagging_state": state})
    assert [image.pk for image in response.context["object_list"]] == [images[state].pk]


def test_the_document_listing_has_the_column_and_the_filter(admin_client):
    report = create_document(b"Quarterly figures and forecasts.", "report.txt", title="Report")
    locked = create_document(b"%PDF-1.7 encrypted", "locked.pdf", title="Locked")
    record(report, TaggingState.Status.DONE, tagged_at=timezone.now())
    record(locked, TaggingState.Status.FAILED, "locked.pdf is encrypted: it cannot be read without its password.")
    html = admin_client.get(reverse("wagtaildocs:index")).content.decode()
    assert re.search(r"<th[^>]*>\s*Smart tags\s*</th>", html) and "is encrypted: it cannot be read" in html
    assert 'data-smarttags-state="done"' in html and 'data-smarttags-state="failed"' in html
    response = admin_client.get(reverse("wagtaildocs:index"), {"tagging_state": "failed"})
    assert [document.title for document in response.context["object_list"]] == ["Locked"]


def create_media(title, media_type="video"):
    from django.core.files.base import ContentFile
    from wagtailmedia.models import get_media_model

    media = get_media_model()(title=title, type=media_type, duration=3, collection=root_collection())
    media.file.save(f"{title.lower()}.mp4", ContentFile(b"not really a video"), save=False)
    media.save()
    return media


def test_the_media_listing_shows_what_wagtailmedias_does_and_the_tagging_state(admin_client):
    clip = create_media("Clip")
    jingle = create_media("Jingle", media_type="audio")
    record(clip, TaggingState.Status.FAILED, "No frame could be decoded.")
    record(jingle, TaggingState.Status.SKIPPED, "This is an audio file: only videos get smart tags.")
    html = admin_client.get(reverse("wagtailmedia:index")).content.decode()
    shown_by_wagtailmedia = ("Clip", "Jingle", "clip.mp4", "Video", "Audio", "Add audio", "Add video")
    for shown in (*shown_by_wagtailmedia, "No frame could be decoded."):
        assert shown in html, shown
    assert reverse("wagtailmedia:edit", args=[clip.pk]) in html
    assert reverse("wagtailmedia:add", args=["video"]) in html
    assert 'data-smarttags-state="failed"' in html and 'data-smarttags-state="skipped"' in html
    assert '<option value="relevance" selected="selected">Relevance</option>' in html
    response = admin_client.get(reverse("wagtailmedia:index"), {"tagging_state": "skipped"})
    assert [media.title for media in response.context["object_list"]] == ["Jingle"]
    response = admin_client.get(reverse("wagtailmedia:index"), {"q": "clip"})
    assert [media.title for media in response.context["object_list"]] == ["Clip"]


@pytest.fixture
def woman_running():
    """Oldest first: a title match, then photos smart-tagged with both words, then one with "running" only."""
    return [
        create_image(solid_image_bytes(), title="Woman running in the park"),
        add_tagged("IMG_0001", [("woman", 0.9), ("running", 0.8)]),
        add_tagged("IMG_0002", [("running", 0.99)]),
        create_image(solid_image_bytes(), title="Woman running, later"),
    ]


def add_tagged(title, smart_tags):
    image = create_image(solid_image_bytes(), title=title)
    add_smart_tags(image, smart_tags)
    return image


def listed(response):
    return [image.title for image in response.context["object_list"]]


def test_a_search_is_in_relevance_order_by_default(admin_client, woman_running):
    response = admin_client.get(reverse("wagtailimages:index"), {"q": "woman running"})
    titles = listed(response)
    assert set(titles[:2]) == {"Woman running in the park", "Woman running, later"}
    assert titles[2:] == ["IMG_0001", "IMG_0002"]
    assert '<option value="relevance" selected="selected">Relevance</option>' in response.content.decode()


def test_relevance_as_the_header_sends_it_and_an_explicit_sort_still_wins(admin_client, woman_running):
    # The image listing's header sends its sort with every query: "relevance" is what it shows by default.
    query = {"q": "woman running", "ordering": "relevance"}
    relevance = listed(admin_client.get(reverse("wagtailimages:index"), query))
    assert relevance[2:] == ["IMG_0001", "IMG_0002"]
    newest = admin_client.get(reverse("wagtailimages:index"), {"q": "woman running", "ordering": "-created_at"})
    assert listed(newest) == ["Woman running, later", "IMG_0002", "IMG_0001", "Woman running in the park"]
    assert '<option value="-created_at" selected="selected">Newest</option>' in newest.content.decode()


def test_without_a_query_relevance_is_wagtails_default_sort(admin_client, woman_running):
    titles = listed(admin_client.get(reverse("wagtailimages:index")))
    assert titles == ["Woman running, later", "IMG_0002", "IMG_0001", "Woman running in the park"]
    document_titles = ["b", "a", "c"]
    for title in document_titles:
        create_document(title.encode() * 20, f"{title}.txt", title=title)
    response = admin_client.get(reverse("wagtaildocs:index"))
    assert [document.title for document in response.context["object_list"]] == ["a", "b", "c"]
    html = response.content.decode()
    assert '<option value="relevance" selected="selected">Relevance</option>' in html
    assert '<option value="-created_at" >Created (descending)</option>' in html


def test_the_listings_can_be_left_to_wagtail(settings):
    assert [pattern.name for pattern in register_asset_listing_urls()] == [
        "smarttags_image_index", "smarttags_image_index_results",
        "smarttags_document_index", "smarttags_document_index_results",
        "smarttags_video_index", "smarttags_video_index_results",
    ]  # fmt: skip
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "ADMIN_LISTINGS": False}
    assert register_asset_listing_urls() == []
