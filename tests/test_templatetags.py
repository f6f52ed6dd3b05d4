"""``{% smart_tags %}`` in a site's templates: applied and promoted smart tags, most confident first."""

import pytest
from django.template import Context, Template

from wagtail_smarttags.models import SmartTag, get_smart_tags

from .factories import add_smart_tags, create_image, solid_image_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def image(settings):
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "AUTO_TAG": False}
    image = create_image(solid_image_bytes(), title="Winter")
    add_smart_tags(
        image,
        [("poncho", 0.62), ("scarf", 0.91), ("hat", 0.97, SmartTag.State.REMOVED), ("<b>shawl</b>", 0.55, "promoted")],
    )
    return image


def render(source, **context):
    return Template("{% load wagtail_smarttags %}" + source).render(Context(context))


def test_the_tag_renders_a_list_most_confident_first_and_escaped(image):
    html = render("{% smart_tags image %}", image=image)
    assert html.startswith('<ul class="smart-tags">')
    assert html.index(">scarf<") < html.index(">poncho<") < html.index("&lt;b&gt;shawl&lt;/b&gt;")
    assert "hat" not in html, "a smart tag an editor removed is never shown"
    assert "smart-tags__tag--promoted" in html


def test_as_gives_the_template_the_smart_tags_to_render_itself(image):
    html = render(
        "{% smart_tags image limit=2 as tags %}{% for tag in tags %}{{ tag.name }}:{{ tag.confidence }};{% endfor %}",
        image=image,
    )
    assert html == "scarf:0.91;poncho:0.62;"


def test_min_confidence_and_an_asset_without_smart_tags(image):
    assert render("{% smart_tags image min_confidence=0.9 %}", image=image).count("<li") == 1
    assert render("{% smart_tags None %}") == ""
    other = create_image(solid_image_bytes((9, 9, 9)), title="Plain")
    assert render("{% smart_tags image %}", image=other) == ""


def test_the_queryset_helper_is_what_the_tag_shows(image):
    shown = SmartTag.objects.for_asset(image).shown()
    assert [smart_tag.name for smart_tag in shown] == ["scarf", "poncho", "<b>shawl</b>"]
    assert [smart_tag.name for smart_tag in get_smart_tags(image, limit=1)] == ["scarf"]
