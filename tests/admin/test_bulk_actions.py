"""Bulk actions on the image and document listings: promote or remove a smart tag, re-tag now."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from taggit.models import Tag
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import ModelLogEntry

from wagtail_smarttags import moderation
from wagtail_smarttags.models import SmartTag, TaggingState

from ..factories import create_image, solid_image_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quiet_settings(settings):
    settings.WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail_smarttags.search.backend"}}
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "AUTO_TAG": False}


@pytest.fixture
def editor(client):
    user = get_user_model().objects.create_superuser("editor", "editor@example.com", "pw")
    client.force_login(user)
    return user


def give_smart_tag(asset, name, confidence=0.8, state=SmartTag.State.APPLIED):
    return SmartTag.objects.create(
        content_type=ContentType.objects.get_for_model(asset),
        object_id=asset.pk,
        tag=Tag.objects.get_or_create(name=name)[0],
        confidence=confidence,
        source=SmartTag.Source.TRAINED,
        state=state,
    )


@pytest.fixture
def images():
    return [create_image(solid_image_bytes(), title=f"Photo {number}", name=f"p{number}.png") for number in range(3)]


def bulk_url(model, action, objects):
    url = reverse("wagtail_bulk_action", args=(model._meta.app_label, model._meta.model_name, action))
    return url + "?" + "&".join(f"id={obj.pk}" for obj in objects) + "&next=/admin/images/"


def states(objects, name):
    rows = [SmartTag.objects.for_asset(obj).filter(tag__name=name) for obj in objects]
    return [row.values_list("state", flat=True).first() for row in rows]


def test_the_actions_appear_on_the_image_listing(editor, client, images):
    html = client.get("/admin/images/").content.decode()
    for label in ("Promote smart tag", "Remove smart tag", "Re-tag now"):
        assert label in html


def test_promote_a_smart_tag_across_the_selection(editor, client, images):
    give_smart_tag(images[0], "beach")
    give_smart_tag(images[1], "beach", state=SmartTag.State.REMOVED)  # an earlier decision stands
    url = bulk_url(get_image_model(), "smarttags_promote", images)
    confirm = client.get(url)
    assert confirm.status_code == 200 and "Photo 2" in confirm.content.decode()
    response = client.post(url, {"tag": "beach"}, follow=True)
    assert "promoted on 1 item" in str(list(response.context["messages"])[0])
    assert states(images, "beach") == [SmartTag.State.PROMOTED, SmartTag.State.REMOVED, None]
    assert list(images[0].tags.names()) == ["beach"]
    assert ModelLogEntry.objects.filter(action=moderation.PROMOTE_ACTION).count() == 1


def test_remove_a_smart_tag_across_the_selection(editor, client, images):
    for image in images:
        give_smart_tag(image, "sunset")
    response = client.post(bulk_url(get_image_model(), "smarttags_remove", images[:2]), {"tag": "sunset"}, follow=True)
    assert "removed from 2 items" in str(list(response.context["messages"])[0])
    assert states(images, "sunset") == [SmartTag.State.REMOVED, SmartTag.State.REMOVED, SmartTag.State.APPLIED]
    assert [image.title for image in get_image_model().objects.search("sunset")] == ["Photo 2"]


def test_the_tag_name_is_required(editor, client, images):
    response = client.post(bulk_url(get_image_model(), "smarttags_remove", images), {"tag": ""})
    assert response.status_code == 200 and response.context["form"].errors["tag"]


def test_the_form_offers_the_selections_undecided_smart_tags_with_counts(editor, client, images):
    for image in images:
        give_smart_tag(image, "sunset")
    give_smart_tag(images[0], "beach")
    give_smart_tag(images[1], "forest", state=SmartTag.State.REMOVED)  # decided: nothing to decide on
    give_smart_tag(images[2], "harbour")  # not selected below
    html = client.get(bulk_url(get_image_model(), "smarttags_promote", images[:2])).content.decode()
    assert 'type="radio" name="tag" value="sunset"' in html and "sunset (2 items)" in html
    assert "beach (1 item)" in html
    assert html.index("sunset (2 items)") < html.index("beach (1 item)"), "the most common first"
    assert 'value="forest"' not in html and 'value="harbour"' not in html


def test_a_name_the_selection_does_not_have_is_refused_not_reported_done(editor, client, images):
    give_smart_tag(images[0], "sunset")
    response = client.post(bulk_url(get_image_model(), "smarttags_remove", images), {"tag": "sunsett"})
    assert response.status_code == 200
    errors = response.context["form"].errors["tag"]
    assert errors == ["None of the selected items has the smart tag “sunsett” undecided."]
    assert states(images, "sunset") == [SmartTag.State.APPLIED, None, None]
    html = client.get(bulk_url(get_image_model(), "smarttags_remove", images[1:])).content.decode()
    assert "None of the selected items has smart tags waiting for a decision." in html


def test_retag_the_selection_now(editor, client, images, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(bulk_url(get_image_model(), "smarttags_retag", images[:2]), follow=True)
    assert "2 items have been queued" in str(list(response.context["messages"])[0])
    assert len(callbacks) == 2
    content_type = ContentType.objects.get_for_model(get_image_model())
    tagged = TaggingState.objects.filter(content_type=content_type, status=TaggingState.Status.DONE)
    assert sorted(tagged.values_list("object_id", flat=True)) == sorted(image.pk for image in images[:2])


def test_select_all_while_searching_uses_the_smart_search(editor, client, images):
    """Wagtail resolves "select all" with values_list("pk").search(q): the wrapper must return pks then."""
    give_smart_tag(images[0], "forest")
    give_smart_tag(images[2], "forest")
    url = reverse("wagtail_bulk_action", args=("testapp", "customimage", "smarttags_remove"))
    response = client.post(url + "?id=all&q=forest&next=/admin/images/", {"tag": "forest"}, follow=True)
    assert "removed from 2 items" in str(list(response.context["messages"])[0])


def test_documents_have_the_same_actions(editor, client):
    document_model = get_document_model()
    documents = [document_model.objects.create(title=f"Doc {n}", file=f"documents/{n}.pdf") for n in range(2)]
    for document in documents:
        give_smart_tag(document, "invoice")
    url = bulk_url(document_model, "smarttags_promote", documents)
    response = client.post(url, {"tag": "invoice"}, follow=True)
    assert "promoted on 2 items" in str(list(response.context["messages"])[0])
    assert states(documents, "invoice") == [SmartTag.State.PROMOTED] * 2
    assert "Promote smart tag" in client.get("/admin/documents/").content.decode()
