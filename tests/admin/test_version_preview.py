"""Training to preview, the preview screen, and activating or discarding from it, as an editor does them."""

import pytest
from django.urls import reverse
from taggit.models import Tag
from wagtail.images import get_image_model
from wagtail.models import ModelLogEntry

from wagtail_smarttags.models import TagModelTag, TrainingVersion
from wagtail_smarttags.pipeline import tagging
from wagtail_smarttags.pipeline.kinds import IMAGE, get_asset_kind
from wagtail_smarttags.training import service as training

from ..datasets import clothing_images
from ..factories import create_image, create_tag_model
from ..helpers import assert_tagged_by_active_version
from .test_tag_models import messages_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def awaiting(settings):
    """Version 1 (hat, shoes) active on a tagged library of hats, shoes and pants; version 2, with pants too,
    trained to be previewed."""
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "AUTO_TAG": False, "TRAINING_LIBRARY_SIZE": 0}
    tag_model = create_tag_model("Garments", clothing_images("train", ["hat", "shoes"], per_class=10))
    training.request_training(tag_model, run_now=True)
    for group in clothing_images("validation", ["hat", "shoes", "pants"], per_class=4).values():
        for path in group:
            create_image(path)
    pants, _ = Tag.objects.get_or_create(name="pants")  # a third tag: pants photos would gain it
    TagModelTag.objects.create(tag_model=tag_model, tag=pants, sort_order=2)
    for path in clothing_images("train", ["pants"], per_class=10)["pants"]:
        tag_model.examples.create(tag=pants, image=create_image(path))
    # Every image is tagged (by version 1), as the upload tasks would have done.
    tagging.tag_assets(get_asset_kind(IMAGE), list(get_image_model().objects.values_list("pk", flat=True)))
    version = training.request_training(tag_model, run_now=True, activate=False)
    tag_model.refresh_from_db()
    assert version.awaits_activation and tag_model.active_version.number == 1
    return tag_model, version


def test_train_screen_asks_what_to_do_once_trained_and_previews_by_default(
    admin_client, settings, django_capture_on_commit_callbacks
):
    tag_model = create_tag_model("Garments", clothing_images("train", ["hat", "shoes"], per_class=2))
    html = admin_client.get(reverse("tagmodel:train", args=[tag_model.pk])).content.decode()
    assert 'value="preview" checked' in html and 'value="activate">' in html
    with django_capture_on_commit_callbacks(execute=False):
        response = admin_client.post(reverse("tagmodel:train", args=[tag_model.pk]), {"then": "preview"}, follow=True)
    assert any("preview what it would change in the library" in m for m in messages_of(response))
    assert tag_model.versions.get().activate_when_trained is False

    with django_capture_on_commit_callbacks(execute=False):
        admin_client.post(reverse("tagmodel:train", args=[tag_model.pk]), {"then": "activate"})
    assert tag_model.versions.get(number=2).activate_when_trained is True

    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "PREVIEW_BEFORE_ACTIVATION": False}
    html = admin_client.get(reverse("tagmodel:train", args=[tag_model.pk])).content.decode()
    assert 'value="activate" checked' in html and 'value="preview">' in html


def test_save_and_train_follows_the_setting(admin_client, settings, django_capture_on_commit_callbacks):
    from .test_tag_models import edit_data

    tag_model = create_tag_model("Garments", clothing_images("train", ["hat", "shoes"], per_class=2))
    with django_capture_on_commit_callbacks(execute=False):
        admin_client.post(reverse("tagmodel:edit", args=[tag_model.pk]), {**edit_data(tag_model), "action-train": "1"})
    assert tag_model.versions.get().activate_when_trained is False
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "PREVIEW_BEFORE_ACTIVATION": False}
    with django_capture_on_commit_callbacks(execute=False):
        admin_client.post(reverse("tagmodel:edit", args=[tag_model.pk]), {**edit_data(tag_model), "action-train": "1"})
    assert tag_model.versions.get(number=2).activate_when_trained is True


def test_index_and_versions_screen_point_to_the_preview(admin_client, awaiting):
    tag_model, version = awaiting
    preview_url = reverse("tagmodel:preview", args=[tag_model.pk, version.pk])
    index = admin_client.get(reverse("tagmodel:index")).content.decode()
    assert "Not active yet: preview and activate it" in index and preview_url in index
    html = admin_client.get(reverse("tagmodel:versions", args=[tag_model.pk])).content.decode()
    assert "Trained, not active yet" in html and "Preview and activate version 2" in html and preview_url in html
    assert "Roll back to version 2" not in html


def test_preview_screen_shows_gains_and_losses_with_samples(admin_client, awaiting):
    tag_model, version = awaiting
    response = admin_client.get(reverse("tagmodel:preview", args=[tag_model.pk, version.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    preview = version.preview
    assert 'data-smarttags-preview="ready"' in html
    assert f"of the library's {preview['assets']} embedded images and videos" in html
    assert f"instead of version 1 would change the smart tags of {preview['changed']}" in html
    for tag in preview["tags"].values():
        row = html.split(f'data-smarttags-preview-tag="{tag["name"]}"', 1)[1].split("</tr>", 1)[0]
        assert f'data-gain="{tag["gain"]}"' in row and f'data-lose="{tag["lose"]}"' in row
        for direction in ("gain", "lose"):
            if tag[f"{direction}_samples"]:
                samples = html.split(f'data-smarttags-preview-samples="{direction}:{tag["name"]}"', 1)[1]
                samples = samples.split("</ul>", 1)[0]
                for _, object_id, _ in tag[f"{direction}_samples"]:
                    assert reverse("wagtailimages:edit", args=[object_id]) in samples
                assert samples.count("<img") == len(tag[f"{direction}_samples"])
    assert {tag["name"]: tag for tag in preview["tags"].values()}["pants"]["gain"] > 0
    assert "Activate version 2" in html and "Discard version 2" in html
    assert "Until then version 1 stays active" in html
    assert "data-smarttags-auto-refresh" not in html


def test_activating_from_the_preview_re_tags_the_library_and_logs_it(
    admin_client, awaiting, django_capture_on_commit_callbacks
):
    tag_model, version = awaiting
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("tagmodel:activate", args=[tag_model.pk, version.pk]), follow=True)
    assert any("Version 2 of “Garments” is active" in m for m in messages_of(response))
    tag_model.refresh_from_db()
    assert tag_model.active_version == version
    assert_tagged_by_active_version(list(get_image_model().objects.all()), tag_model)
    entry = ModelLogEntry.objects.get(object_id=str(tag_model.pk), action=training.LOG_ACTIVATE)
    assert entry.user_id == admin_client.user.pk and entry.data == {"version": 2, "previous_version": 1}
    again = admin_client.post(reverse("tagmodel:activate", args=[tag_model.pk, version.pk]), follow=True)
    assert any("is not waiting to be activated" in m for m in messages_of(again))


def test_discarding_from_the_preview(admin_client, awaiting, django_capture_on_commit_callbacks):
    tag_model, version = awaiting
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_client.post(reverse("tagmodel:discard", args=[tag_model.pk, version.pk]), follow=True)
    assert callbacks == []
    assert any("Version 2 of “Garments” is discarded" in m for m in messages_of(response))
    version.refresh_from_db()
    assert version.status == TrainingVersion.Status.DISCARDED
    tag_model.refresh_from_db()
    assert tag_model.active_version.number == 1
    html = admin_client.get(reverse("tagmodel:versions", args=[tag_model.pk])).content.decode()
    assert "Discarded" in html and "Preview and activate version 2" not in html
    preview = admin_client.get(reverse("tagmodel:preview", args=[tag_model.pk, version.pk])).content.decode()
    assert "is not waiting to be activated (Discarded)" in preview and "data-smarttags-activate" not in preview
    assert "Version 2 discarded" in admin_client.get(reverse("tagmodel:index")).content.decode()


def test_working_the_preview_out_again_in_the_worker(admin_client, awaiting, django_capture_on_commit_callbacks):
    tag_model, version = awaiting
    url = reverse("tagmodel:preview", args=[tag_model.pk, version.pk])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        admin_client.post(reverse("tagmodel:refresh_preview", args=[tag_model.pk, version.pk]))
    assert len(callbacks) == 1, "worked out in the worker, not in the request"
    html = admin_client.get(url).content.decode()
    assert 'data-smarttags-preview="computing"' in html and "data-smarttags-auto-refresh" in html
    callbacks[0]()  # the worker runs the task (django-q2 runs it in process in the tests)
    html = admin_client.get(url).content.decode()
    assert 'data-smarttags-preview="ready"' in html


def test_a_preview_made_before_another_activation_says_it_is_outdated(
    admin_client, awaiting, django_capture_on_commit_callbacks
):
    tag_model, version = awaiting
    with django_capture_on_commit_callbacks(execute=True):
        third = training.request_training(tag_model, run_now=True)  # activated at once
    assert third.number == 3
    html = admin_client.get(reverse("tagmodel:preview", args=[tag_model.pk, version.pk])).content.decode()
    assert "data-smarttags-preview-outdated" in html
