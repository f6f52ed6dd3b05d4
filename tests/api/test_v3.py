"""Smart tags on Wagtail 8's API v3 preview: an ``APIField`` on a custom image model, as the docs show."""

import pytest
from django.apps import apps

from wagtail_smarttags.models import SmartTag

from ..factories import add_smart_tags, create_image, solid_image_bytes

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not apps.is_installed("wagtail.api.v3"), reason="Wagtail before the API v3 preview"),
]


@pytest.fixture
def image(settings):
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "AUTO_TAG": False}
    image = create_image(solid_image_bytes(), title="Winter")
    add_smart_tags(image, [("poncho", 0.62), ("scarf", 0.91), ("hat", 0.4, SmartTag.State.REMOVED)])
    return image


def test_an_image_has_its_shown_smart_tags_in_the_v3_detail_and_listing(client, image):
    detail = client.get(f"/api/v3/images/{image.pk}/")
    assert detail.status_code == 200, detail.content
    assert detail.json()["smart_tags"] == [
        {"name": "scarf", "confidence": 0.91, "source": "trained", "promoted": False},
        {"name": "poncho", "confidence": 0.62, "source": "trained", "promoted": False},
    ]
    listing = client.get("/api/v3/images/").json()
    items = listing.get("items", listing.get("results", listing))
    assert [tag["name"] for tag in items[0]["smart_tags"]] == ["scarf", "poncho"]


def test_the_v3_schema_types_the_field(client):
    schema = client.get("/api/v3/openapi.json").json()
    image_schemas = [
        schema
        for name, schema in schema["components"]["schemas"].items()
        if "smart_tags" in schema.get("properties", {})
    ]
    assert image_schemas, "the OpenAPI schema declares smart_tags"
