"""Moderating an asset's smart tags: the service, its audit log, the Smart tags screen, and decisions being final."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from taggit.models import Tag
from wagtail.images import get_image_model
from wagtail.models import ModelLogEntry

from wagtail_smarttags import moderation
from wagtail_smarttags.models import SmartTag, TrainingVersion
from wagtail_smarttags.wagtail_hooks import moderation_url

from ..datasets import clothing_images
from ..factories import add_smart_tags, create_image, create_tag_model, solid_image_bytes

pytestmark = pytest.mark.django_db

SMART_SEARCH = {"default": {"BACKEND": "wagtail_smarttags.search.backend"}}


@pytest.fixture(autouse=True)
def quiet_settings(settings):
    settings.WAGTAILSEARCH_BACKENDS = SMART_SEARCH
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "AUTO_TAG": False}


@pytest.fixture
def editor():
    return get_user_model().objects.create_superuser("editor", "editor@example.com", "pw")


@pytest.fixture
def photo():
    """An image with three undecided smart tags."""
    image = create_image(solid_image_bytes(), title="IMG_2044", name="img.png")
    add_smart_tags(image, [("woman", 0.91), ("running", 0.74), ("hat", 0.35)])
    return image


def smart_tag(image, name):
    return SmartTag.objects.for_asset(image).get(tag__name=name)


def test_promoting_adds_an_ordinary_tag_records_the_decision_and_logs_it(photo, editor):
    assert moderation.promote_smart_tag(smart_tag(photo, "woman"), editor) is True
    promoted = smart_tag(photo, "woman")
    assert promoted.state == SmartTag.State.PROMOTED
    assert promoted.decided_by == editor and promoted.decided_at is not None
    assert list(photo.tags.names()) == ["woman"]
    entry = ModelLogEntry.objects.get(action=moderation.PROMOTE_ACTION)
    assert entry.object_id == str(photo.pk) and entry.user == editor
    assert entry.data["tag"] == "woman"
    assert "woman" in entry.message and "promoted" in entry.message


def test_removing_stops_the_tag_matching_searches(photo, editor):
    assert photo in get_image_model().objects.search("hat")
    moderation.remove_smart_tag(smart_tag(photo, "hat"), editor)
    assert smart_tag(photo, "hat").state == SmartTag.State.REMOVED
    assert list(get_image_model().objects.search("hat")) == []
    assert ModelLogEntry.objects.filter(action=moderation.REMOVE_ACTION, object_id=str(photo.pk)).count() == 1


def test_a_promoted_tag_ranks_the_asset_with_metadata_matches(photo, editor):
    rival = create_image(solid_image_bytes(), title="IMG_9999", name="rival.png")
    SmartTag.objects.create(
        content_type=ContentType.objects.get_for_model(rival),
        object_id=rival.pk,
        tag=Tag.objects.get(name="running"),
        confidence=0.99,
        source=SmartTag.Source.TRAINED,
    )
    assert [image.title for image in get_image_model().objects.search("running")] == ["IMG_9999", "IMG_2044"]
    moderation.promote_smart_tag(smart_tag(photo, "running"), editor)
    assert [image.title for image in get_image_model().objects.search("running")] == ["IMG_2044", "IMG_9999"]


def test_decisions_are_final(photo, editor):
    moderation.remove_smart_tag(smart_tag(photo, "hat"), editor)
    assert moderation.remove_smart_tag(smart_tag(photo, "hat"), editor) is False
    with pytest.raises(moderation.ModerationError):
        moderation.promote_smart_tag(smart_tag(photo, "hat"), editor)
    assert smart_tag(photo, "hat").state == SmartTag.State.REMOVED


def test_the_smart_tags_screen_lists_tags_and_saves_decisions(photo, editor, client):
    client.force_login(editor)
    url = moderation_url("image", photo.pk)
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    for name, percent in [("woman", "91%"), ("running", "74%"), ("hat", "35%")]:
        assert name in html and percent in html
    assert "Trained tag model" in html

    choices = {"hat": "removed", "woman": "promoted", "running": "keep"}
    fields = {f"decision_{smart_tag(photo, name).tag_id}": choice for name, choice in choices.items()}
    response = client.post(url, fields, follow=True)
    assert response.status_code == 200
    assert "1 removed, 1 promoted" in [str(message) for message in response.context["messages"]][0]
    assert smart_tag(photo, "hat").state == SmartTag.State.REMOVED
    assert smart_tag(photo, "woman").state == SmartTag.State.PROMOTED
    assert smart_tag(photo, "running").state == SmartTag.State.APPLIED
    # Decided tags are listed apart, without a choice to make again.
    assert f"decision_{smart_tag(photo, 'hat').tag_id}" not in response.content.decode()


def test_the_edit_page_links_to_the_smart_tags_screen(photo, editor, client):
    client.force_login(editor)
    html = client.get(reverse("wagtailimages:edit", args=(photo.pk,))).content.decode()
    assert "smarttags-moderation-config" in html
    assert moderation_url("image", 0) in html and "wagtail_smarttags/moderation.js" in html


def test_the_screen_needs_permission_to_change_the_asset(photo, client):
    viewer = get_user_model().objects.create_user("viewer", "viewer@example.com", "pw")
    group = Group.objects.create(name="Admin only")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    viewer.groups.add(group)
    client.force_login(viewer)
    refused = client.get(moderation_url("image", photo.pk))
    # Wagtail's admin turns PermissionDenied into a redirect home with an error message.
    assert refused.status_code == 302 and refused.url == reverse("wagtailadmin_home")
    assert client.get(moderation_url("video", photo.pk)).status_code == 404


@pytest.mark.slow
def test_retagging_and_retraining_never_undo_decisions(editor, django_capture_on_commit_callbacks):
    """With a real tag model: a removed tag stays removed and a promoted one promoted."""
    classes = ["hat", "shoes", "pants"]
    tag_model = create_tag_model("Garments", clothing_images("train", classes, per_class=10))
    from wagtail_smarttags.training.service import request_training

    with django_capture_on_commit_callbacks(execute=True):
        request_training(tag_model)
    unseen = clothing_images("validation", ["hat", "shoes"], per_class=1)
    hat, shoe = create_image(unseen["hat"][0]), create_image(unseen["shoes"][0])
    with django_capture_on_commit_callbacks(execute=True):
        moderation.retag_assets([hat, shoe], user=editor)  # the same path as the "Re-tag now" bulk action
    removed = SmartTag.objects.for_asset(hat).get(source=SmartTag.Source.TRAINED)
    promoted = SmartTag.objects.for_asset(shoe).get(source=SmartTag.Source.TRAINED)
    moderation.remove_smart_tag(removed, editor)
    moderation.promote_smart_tag(promoted, editor)

    with django_capture_on_commit_callbacks(execute=True):
        moderation.retag_assets([hat, shoe], user=editor)
        request_training(tag_model)
    tag_model.refresh_from_db()
    assert tag_model.active_version.number == 2
    assert tag_model.active_version.status == TrainingVersion.Status.SUCCEEDED
    assert SmartTag.objects.get(pk=removed.pk).state == SmartTag.State.REMOVED
    assert SmartTag.objects.get(pk=promoted.pk).state == SmartTag.State.PROMOTED
    assert hat not in get_image_model().objects.search(removed.tag.name)
    assert ModelLogEntry.objects.filter(action=moderation.RETAG_ACTION).count() == 4


@pytest.mark.parametrize(
    "status, error, shown",
    [
        ("failed", "The file needs more than 512 MiB to read; reading was stopped.", "This file could not be tagged"),
        ("skipped", "This is an audio file: only videos get smart tags.", None),
        ("pending", "", "queued for tagging"),
        ("pending", "Tagging is paused: the backbone's weights are missing.", None),
        ("done", "", None),
    ],
)
def test_the_smart_tags_screen_says_how_the_last_tagging_went(photo, editor, client, status, error, shown):
    from wagtail_smarttags.models import TaggingState

    TaggingState.objects.update_or_create(
        content_type=ContentType.objects.get_for_model(photo), object_id=photo.pk,
        defaults={"status": status, "error": error},
    )  # fmt: skip
    client.force_login(editor)
    html = client.get(moderation_url("image", photo.pk)).content.decode()
    if status == "done":
        assert "data-smarttags-tagging" not in html
        return
    assert f'data-smarttags-tagging="{status}"' in html
    for text in (error, shown):
        if text:
            assert text.replace("'", "&#x27;") in html


def test_the_smart_tags_screen_shows_the_asset_it_decides_on(photo, editor, client):
    from ..factories import create_document

    client.force_login(editor)
    html = client.get(moderation_url("image", photo.pk)).content.decode()
    panel = html.split("data-smarttags-asset>", 1)[1].split("</figure>", 1)[0]
    rendition = photo.get_rendition("max-480x360")
    assert f'src="{rendition.url}"' in panel and "data-smarttags-asset-picture" in panel
    assert reverse("wagtailimages:edit", args=[photo.pk]) in panel and "IMG_2044" in panel
    assert "64 × 64 px · img" in panel

    document = create_document(b"Quarterly figures", "figures.txt", title="Figures")
    html = client.get(moderation_url("document", document.pk)).content.decode()
    panel = html.split("data-smarttags-asset>", 1)[1].split("</figure>", 1)[0]
    assert "data-smarttags-asset-picture" not in panel and "Figures" in panel
    assert reverse("wagtaildocs:edit", args=[document.pk]) in panel
    assert "figures" in panel and "17\xa0bytes" in panel


def test_the_smart_tags_screen_says_when_and_by_which_versions_the_asset_was_tagged(
    editor, client, django_capture_on_commit_callbacks
):
    from wagtail_smarttags.tasks import tag_asset
    from wagtail_smarttags.training.service import request_training

    tag_model = create_tag_model("Garments", clothing_images("train", ["hat", "shoes"], per_class=10))
    with django_capture_on_commit_callbacks(execute=True):
        request_training(tag_model, run_now=True)
    image = create_image(clothing_images("validation", ["hat"], per_class=1)["hat"][0])
    tag_asset.call(ContentType.objects.get_for_model(image).pk, image.pk)
    client.force_login(editor)
    html = client.get(moderation_url("image", image.pk)).content.decode()
    done = html.split('data-smarttags-tagging="done">', 1)[1].split("</p>", 1)[0]
    assert "Tagged " in done and "by Garments v1" in done
