"""Smart tags on Wagtail's API v2 endpoints for images, documents and media, as a site's front end reads them."""

import pytest

from wagtail_smarttags.models import SmartTag

from ..factories import add_smart_tags, create_document, create_image, solid_image_bytes
from ..videos import create_media

pytestmark = pytest.mark.django_db

SHOWN = [("poncho", 0.62), ("scarf", 0.91), ("hat", 0.4, SmartTag.State.REMOVED), ("shawl", 0.55, "promoted")]


@pytest.fixture
def image(settings):
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "AUTO_TAG": False}
    image = create_image(solid_image_bytes(), title="Winter")
    add_smart_tags(image, SHOWN)
    return image


def test_an_image_detail_has_its_shown_smart_tags_most_confident_first(client, image):
    response = client.get(f"/api/v2/images/{image.pk}/")
    assert response.status_code == 200
    assert response.json()["meta"]["smart_tags"] == [
        {"name": "scarf", "confidence": 0.91, "source": "trained", "promoted": False},
        {"name": "poncho", "confidence": 0.62, "source": "trained", "promoted": False},
        {"name": "shawl", "confidence": 0.55, "source": "trained", "promoted": True},
    ]


def test_a_listing_gives_smart_tags_when_asked(client, image):
    plain = client.get("/api/v2/images/").json()["items"][0]
    assert "smart_tags" not in plain["meta"], "listings stay as cheap as Wagtail's unless asked"
    [item] = client.get("/api/v2/images/", {"fields": "smart_tags"}).json()["items"]
    assert [smart_tag["name"] for smart_tag in item["meta"]["smart_tags"]] == ["scarf", "poncho", "shawl"]


def test_documents_show_keywords_that_are_the_apps_own_labels(client, settings):
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "AUTO_TAG": False}
    document = create_document(b"Knitted scarves keep the cold out.", "scarves.txt")
    add_smart_tags(document, [("knitted scarves", 0.8)], source=SmartTag.Source.TEXT, labels=True)
    response = client.get(f"/api/v2/documents/{document.pk}/")
    assert response.json()["meta"]["smart_tags"] == [
        {"name": "knitted scarves", "confidence": 0.8, "source": "text", "promoted": False}
    ]


def test_media_items_have_smart_tags_too(client, settings):
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "AUTO_TAG": False}
    video = create_media(b"not read: tagging is off", "clip.mp4")
    add_smart_tags(video, [("pants", 0.99)])
    response = client.get(f"/api/v2/media/{video.pk}/")
    assert response.status_code == 200
    assert response.json()["meta"]["smart_tags"][0]["name"] == "pants"


def test_smart_tags_can_be_the_only_field_asked_for(client, image):
    response = client.get(f"/api/v2/images/{image.pk}/", {"fields": "_,smart_tags"})
    assert response.status_code == 200
    assert set(response.json()) == {"meta"} and set(response.json()["meta"]) == {"smart_tags"}
