"""The tag model screens: list, create, edit with example images, train, versions, rollback, delete."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from taggit.models import Tag
from wagtail.models import ModelLogEntry

from wagtail_smarttags.admin.views import versions as versions_view
from wagtail_smarttags.models import SmartTag, TaggingState, TagModel, TagModelTag, TrainingExample, TrainingVersion
from wagtail_smarttags.training import service as training

from ..datasets import clothing_images
from ..factories import create_image, create_tag_model, solid_image_bytes

pytestmark = pytest.mark.django_db


def solid_images(count, start=0):
    return [
        create_image(solid_image_bytes((start + index, 90, 200)), title=f"swatch {start + index}", name="s.png")
        for index in range(count)
    ]


def tag_model_with(tags_and_images, title="Garments"):
    tag_model = TagModel.objects.create(title=title)
    for position, (name, images) in enumerate(tags_and_images.items()):
        tag, _ = Tag.objects.get_or_create(name=name)
        TagModelTag.objects.create(tag_model=tag_model, tag=tag, sort_order=position)
        for image in images:
            TrainingExample.objects.create(tag_model=tag_model, tag=tag, image=image)
    return tag_model


def edit_data(tag_model, examples=None, **overrides):
    """The edit form's POST data as the browser would send it: tags ticked, example ids per tag."""
    data = {
        "title": tag_model.title,
        "description": tag_model.description,
        "tags": [link.tag_id for link in tag_model.tag_links.all()],
    }
    current = examples
    if current is None:
        current = {}
        for example in tag_model.examples.all():
            current.setdefault(example.tag_id, []).append(example.image_id)
    for tag_id, image_ids in current.items():
        data[f"examples_{tag_id}"] = image_ids
    data.update(overrides)
    return data


def messages_of(response):
    return [str(message) for message in response.context["messages"]] if response.context else []


def test_index_lists_tag_models_with_status_and_last_training(admin_client):
    trained = tag_model_with({"hat": [], "shoes": []}, title="Garments")
    TrainingVersion.objects.create(tag_model=trained, number=1, status=TrainingVersion.Status.FAILED, error="boom")
    TagModel.objects.filter(pk=trained.pk).update(status=TagModel.Status.FAILED)
    tag_model_with({"red": [], "blue": []}, title="Colours")
    response = admin_client.get(reverse("tagmodel:index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Garments" in html and "Colours" in html
    assert "Failed" in html and "Pending" in html
    assert "Version 1 failed" in html and "boom" in html
    assert "data-smarttags-auto-refresh" not in html


def test_index_refreshes_itself_while_training_runs(admin_client):
    tag_model = tag_model_with({"hat": [], "shoes": []})
    TrainingVersion.objects.create(tag_model=tag_model, number=1)
    html = admin_client.get(reverse("tagmodel:index")).content.decode()
    assert "Version 1 queued" in html
    assert "data-smarttags-auto-refresh" in html


def test_menu_has_smart_tags_with_tag_models(admin_client):
    html = admin_client.get(reverse("wagtailadmin_home")).content.decode()
    assert "Smart tags" in html
    assert reverse("tagmodel:index") in html


def test_create_form_offers_searchable_sortable_tags(admin_client):
    Tag.objects.create(name="hat")
    Tag.objects.create(name="shoes")
    response = admin_client.get(reverse("tagmodel:add"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "data-smarttags-tag-search" in html
    for option in ("Name", "Newest first", "Recently used"):
        assert option in html
    assert 'data-name="hat"' in html and 'data-name="shoes"' in html


def test_create_saves_tags_logs_and_goes_to_the_examples(admin_client):
    hat, shoes = Tag.objects.create(name="hat"), Tag.objects.create(name="shoes")
    response = admin_client.post(
        reverse("tagmodel:add"), {"title": "Garments", "description": "What people wear", "tags": [hat.pk, shoes.pk]}
    )
    tag_model = TagModel.objects.get(title="Garments")
    assert response.status_code == 302
    assert response.url == reverse("tagmodel:edit", args=[tag_model.pk])
    assert list(tag_model.tag_links.values_list("tag__name", flat=True)) == ["hat", "shoes"]
    entry = ModelLogEntry.objects.get(object_id=str(tag_model.pk), action=training.LOG_CREATE)
    assert entry.user == admin_client.user

    html = admin_client.get(response.url).content.decode()
    assert "Add assets to “hat”" in html and "Add assets to “shoes”" in html
    assert "wagtailimages/js/image-chooser-modal.js" in html
    assert reverse("wagtailimages_chooser:choose") in html


def test_edit_saves_chosen_examples_and_shows_their_thumbnails(admin_client):
    tag_model = tag_model_with({"hat": [], "shoes": []})
    hat, shoes = (link.tag for link in tag_model.tag_links.all())
    hats, shoe_images = solid_images(10), solid_images(10, start=20)
    data = edit_data(tag_model, {hat.pk: [i.pk for i in hats], shoes.pk: [i.pk for i in shoe_images]})
    response = admin_client.post(reverse("tagmodel:edit", args=[tag_model.pk]), data)
    assert response.status_code == 302
    assert tag_model.examples.filter(tag=hat).count() == 10
    assert tag_model.examples.filter(tag=shoes).count() == 10
    html = admin_client.get(reverse("tagmodel:edit", args=[tag_model.pk])).content.decode()
    assert html.count('class="smarttags-thumbnail"') == 20
    assert html.count("data-smarttags-remove") == 20

    # Removing a thumbnail is leaving its id out of the post.
    data[f"examples_{hat.pk}"] = [i.pk for i in hats[1:]]
    admin_client.post(reverse("tagmodel:edit", args=[tag_model.pk]), data)
    assert not tag_model.examples.filter(image=hats[0]).exists()
    assert tag_model.examples.filter(tag=hat).count() == 9


def test_moving_an_image_from_one_tag_to_another_in_one_save(admin_client):
    images = solid_images(3)
    tag_model = tag_model_with({"hat": images[:2], "shoes": images[2:]})
    hat, shoes = (link.tag for link in tag_model.tag_links.all())
    data = edit_data(tag_model, {hat.pk: [images[0].pk], shoes.pk: [images[1].pk, images[2].pk]})
    assert admin_client.post(reverse("tagmodel:edit", args=[tag_model.pk]), data).status_code == 302
    assert tag_model.examples.get(image=images[1]).tag == shoes


@pytest.mark.parametrize("count, expected", [(1, "at least 2 tags"), (51, "at most 50 tags")])
def test_tag_count_guideline(admin_client, count, expected):
    tags = [Tag.objects.create(name=f"tag {index}") for index in range(count)]
    response = admin_client.post(reverse("tagmodel:add"), {"title": "Too few or many", "tags": [t.pk for t in tags]})
    assert response.status_code == 200
    assert expected in str(response.context["form"].errors["tags"])
    assert not TagModel.objects.exists()


def test_at_most_fifty_examples_per_tag_names_the_tag(admin_client):
    tag_model = tag_model_with({"hat": [], "shoes": []})
    hat = Tag.objects.get(name="hat")
    images = solid_images(51)
    response = admin_client.post(
        reverse("tagmodel:edit", args=[tag_model.pk]), edit_data(tag_model, {hat.pk: [i.pk for i in images]})
    )
    assert response.status_code == 200
    errors = str(response.context["form"].errors[f"examples_{hat.pk}"])
    assert "“hat” has 51 example images; a tag may have at most 50." in errors
    assert "data-smarttags-tag-errors" in response.content.decode()
    # What the editor chose is still on screen, to take some out.
    assert response.content.decode().count('class="smarttags-thumbnail"') == 51
    assert not tag_model.examples.exists()


def test_fewer_than_ten_examples_is_allowed_but_partially_trained(admin_client):
    tag_model = tag_model_with({"hat": [], "shoes": []})
    hat, shoes = (link.tag for link in tag_model.tag_links.all())
    data = edit_data(
        tag_model, {hat.pk: [i.pk for i in solid_images(4)], shoes.pk: [i.pk for i in solid_images(10, 9)]}
    )
    response = admin_client.post(reverse("tagmodel:edit", args=[tag_model.pk]), data, follow=True)
    assert tag_model.examples.filter(tag=hat).count() == 4
    assert any(
        "“hat” has 4 example images, fewer than 10: it will be partially trained" in m for m in messages_of(response)
    )


def test_an_image_may_not_exemplify_two_tags_of_a_model(admin_client):
    tag_model = tag_model_with({"hat": [], "shoes": []})
    hat, shoes = (link.tag for link in tag_model.tag_links.all())
    images = solid_images(3)
    images[1].title = "Red beanie"
    images[1].save()
    data = edit_data(tag_model, {hat.pk: [i.pk for i in images[:2]], shoes.pk: [images[1].pk, images[2].pk]})
    response = admin_client.post(reverse("tagmodel:edit", args=[tag_model.pk]), data)
    assert response.status_code == 200
    errors = str(response.context["form"].errors)
    assert "The image “Red beanie” is an example of “hat”, “shoes”" in errors
    assert not tag_model.examples.exists()


def test_a_tag_of_another_model_is_flagged_and_the_editor_chooses(admin_client):
    tag_model_with({"hat": [], "scarf": []}, title="Accessories")
    hat, shoes = Tag.objects.get(name="hat"), Tag.objects.create(name="shoes")
    data = {"title": "Garments", "tags": [hat.pk, shoes.pk]}
    response = admin_client.post(reverse("tagmodel:add"), data)
    assert response.status_code == 200
    assert "“hat” already belongs to the tag model “Accessories”" in str(response.context["form"].errors["tags"])
    assert 'name="share_tags"' in response.content.decode()
    assert not TagModel.objects.filter(title="Garments").exists()

    response = admin_client.post(reverse("tagmodel:add"), {**data, "share_tags": "on"}, follow=True)
    garments = TagModel.objects.get(title="Garments")
    assert garments.tags.filter(pk=hat.pk).exists()
    assert any("already belongs to the tag model “Accessories”" in m for m in messages_of(response))
    # Accepted once: saving again, saving and training, and the train screen do not ask again.
    response = admin_client.post(reverse("tagmodel:edit", args=[garments.pk]), edit_data(garments), follow=True)
    assert response.redirect_chain and not any("already belongs" in m for m in messages_of(response))
    html = admin_client.get(reverse("tagmodel:train", args=[garments.pk])).content.decode()
    assert "already belongs" not in html
    assert "Shared with other tag models, as confirmed when they were added:" in html and "“hat” (Accessories)" in html
    response = admin_client.post(
        reverse("tagmodel:edit", args=[garments.pk]), {**edit_data(garments), "action-train": "1"}, follow=True
    )
    assert not any("already belongs" in m for m in messages_of(response))


def test_save_and_train_refuses_what_the_guidelines_forbid(admin_client):
    tag_model = tag_model_with({"hat": solid_images(3), "shoes": []})
    response = admin_client.post(
        reverse("tagmodel:edit", args=[tag_model.pk]), {**edit_data(tag_model), "action-train": "1"}, follow=True
    )
    assert any(
        "Training needs example images for at least two tags; 1 of the 2 tags has some" in m
        for m in messages_of(response)
    )
    assert not tag_model.versions.exists()


def test_a_tag_without_examples_is_flagged_not_trained(admin_client):
    tag_model = tag_model_with({"hat": solid_images(10), "shoes": solid_images(10, 20), "scarf": []})
    html = admin_client.get(reverse("tagmodel:train", args=[tag_model.pk])).content.decode()
    assert "“scarf” has no example images: it will not be trained until it has some." in html
    assert "Train now" in html


def test_train_screen_lists_guideline_messages(admin_client):
    tag_model = tag_model_with({"hat": solid_images(3), "shoes": solid_images(10, 5)})
    html = admin_client.get(reverse("tagmodel:train", args=[tag_model.pk])).content.decode()
    assert "“hat” has 3 example images, fewer than 10" in html
    warnings = html.split("data-smarttags-guideline-warnings", 1)[1].split("</ul>", 1)[0]
    assert "“hat” has 3 example images" in warnings and "Worth knowing" in html
    assert "data-smarttags-guideline-errors" not in html
    assert "Train now" in html


def test_train_screen_lists_what_blocks_training_apart(admin_client):
    tag_model = tag_model_with({"hat": solid_images(10)})
    html = admin_client.get(reverse("tagmodel:train", args=[tag_model.pk])).content.decode()
    errors = html.split("data-smarttags-guideline-errors", 1)[1].split("</ul>", 1)[0]
    assert "<li>" in errors and "Fix these before training" in html
    assert "Train now" not in html


def test_save_and_train_queues_training_in_the_worker_and_says_so(admin_client, django_capture_on_commit_callbacks):
    tag_model = tag_model_with({"hat": solid_images(2), "shoes": solid_images(2, 5)})
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(
            reverse("tagmodel:edit", args=[tag_model.pk]), {**edit_data(tag_model), "action-train": "1"}, follow=True
        )
    assert response.redirect_chain[-1][0] == reverse("tagmodel:index")
    assert any("Training of “Garments” started in the background as version 1" in m for m in messages_of(response))
    assert len(callbacks) == 1, "the training is handed to the worker, not run in the request"
    version = tag_model.versions.get()
    assert version.status == TrainingVersion.Status.QUEUED and version.created_by == admin_client.user
    assert "Version 1 queued" in response.content.decode()
    assert ModelLogEntry.objects.filter(object_id=str(tag_model.pk), action=training.LOG_TRAIN).exists()
    # Each guideline message once, not once for the save and again for the training.
    for tag in ("hat", "shoes"):
        assert sum(f"“{tag}” has 2 example images" in m for m in messages_of(response)) == 1, messages_of(response)


@pytest.fixture
def trained_twice(django_capture_on_commit_callbacks):
    """Real training on clothing photographs: two versions, the second active."""
    tag_model = create_tag_model("Garments", clothing_images("train", ["hat", "shoes"], per_class=10))
    with django_capture_on_commit_callbacks(execute=True):
        training.request_training(tag_model)
    with django_capture_on_commit_callbacks(execute=True):
        training.request_training(tag_model)
    tag_model.refresh_from_db()
    assert tag_model.active_version.number == 2
    return tag_model


def test_versions_screen_shows_each_training_with_metrics(admin_client, trained_twice):
    response = admin_client.get(reverse("tagmodel:versions", args=[trained_twice.pk]))
    html = response.content.decode()
    assert "Version 2" in html and "Version 1" in html
    assert "Roll back to version 1" in html and "Roll back to version 2" not in html
    assert "hat: 10" in html and "shoes: 10" in html


def test_versions_screen_says_which_tags_are_not_applied_and_leaves_them_out_of_the_means(
    admin_client, django_capture_on_commit_callbacks
):
    examples = clothing_images("train", ["hat", "pants"], per_class=10)
    examples["shoes"] = clothing_images("train", ["shoes"], per_class=3)["shoes"]
    # An editor's slip: a photo of pants among the hats.
    slip = clothing_images("train", ["pants"], per_class=1, offset=30)["pants"][0]
    examples["hat"] = [*examples["hat"], slip]
    tag_model = create_tag_model("Garments", examples)
    with django_capture_on_commit_callbacks(execute=True):
        version = training.request_training(tag_model)
    version.refresh_from_db()
    tags = {tag["name"]: tag for tag in version.metrics["tags"].values()}
    assert (tags["shoes"]["automatic"], tags["hat"]["automatic"]) == (False, True)

    html = admin_client.get(reverse("tagmodel:versions", args=[tag_model.pk])).content.decode()
    assert "shoes: 3 · not applied automatically" in html and "hat: 10 ·" not in html
    assert html.count("data-smarttags-held-back") == 2  # the chip and the help text
    assert "One tag has fewer than 10 examples: it is trained" in html
    assert html.count("not counting 1 tag with fewer than 10 examples") == 2  # precision and recall
    summary = versions_view.version_summary(version, minimum=10)
    measured = [tags["hat"], tags["pants"]]
    assert summary["precision"] == pytest.approx(sum(tag["precision"] for tag in measured) / 2)

    # The cross-validated confusion matrix: a row per tag, its examples spread over the tags and "no tag".
    matrix = {row["tag"]: row for row in summary["confusion"]}
    assert list(matrix) == ["hat", "pants", "shoes"]
    for name, row in matrix.items():
        assert sum(cell["count"] for cell in row["cells"]) + row["none"] == tags[name]["examples"]
        assert [cell["correct"] for cell in row["cells"]] == [column == name for column in matrix]
    assert "data-smarttags-confusion" in html and "Confusion matrix and likely mistakes" in html
    # The slipped photo is the first of hat's likely mistakes, shown with its thumbnail.
    hat_mistakes = {row["tag"]: row for row in summary["mistakes"]}["hat"]["mistakes"]
    slipped = TrainingExample.objects.get(tag_model=tag_model, image__title=slip.stem).image
    assert hat_mistakes[0] == {**hat_mistakes[0], "image": slipped.pk, "predicted": "pants"}
    mistakes_html = html.split('data-smarttags-mistakes="hat"', 1)[1].split("</ul>", 1)[0]
    assert reverse("wagtailimages:edit", args=[slipped.pk]) in mistakes_html and "most like pants" in mistakes_html


def test_rollback_reactivates_an_earlier_version_and_keeps_editor_decisions(
    admin_client, trained_twice, django_capture_on_commit_callbacks
):
    image = create_image(clothing_images("validation", ["hat"], per_class=1)["hat"][0])
    content_type = ContentType.objects.get_for_model(image)
    from wagtail_smarttags.tasks import tag_asset

    tag_asset.call(content_type.pk, image.pk)
    removed = SmartTag.objects.get(content_type=content_type, object_id=image.pk, source=SmartTag.Source.TRAINED)
    removed.state = SmartTag.State.REMOVED
    removed.save()
    promoted_image = create_image(clothing_images("validation", ["shoes"], per_class=1)["shoes"][0])
    tag_asset.call(content_type.pk, promoted_image.pk)
    promoted = SmartTag.objects.get(
        content_type=content_type, object_id=promoted_image.pk, source=SmartTag.Source.TRAINED
    )
    promoted.state = SmartTag.State.PROMOTED
    promoted.save()

    first = trained_twice.versions.get(number=1)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("tagmodel:rollback", args=[trained_twice.pk, first.pk]), follow=True)
    assert any("rolled back to version 1" in m for m in messages_of(response))
    trained_twice.refresh_from_db()
    assert trained_twice.active_version == first
    assert trained_twice.status == TagModel.Status.TRAINED
    removed.refresh_from_db()
    promoted.refresh_from_db()
    # A decision keeps the version whose suggestion the editor decided on; the state records the rollback.
    second = trained_twice.versions.get(number=2)
    assert removed.state == SmartTag.State.REMOVED and removed.version == second
    assert promoted.state == SmartTag.State.PROMOTED and promoted.version == second
    states = TaggingState.objects.filter(content_type=content_type, object_id__in=[image.pk, promoted_image.pk])
    assert [state.model_versions for state in states] == [{str(trained_twice.pk): first.pk}] * 2
    entry = ModelLogEntry.objects.get(object_id=str(trained_twice.pk), action=training.LOG_ROLLBACK)
    assert entry.data == {"version": 1, "previous_version": 2}


def test_rollback_to_a_failed_version_is_refused(admin_client):
    tag_model = tag_model_with({"hat": [], "shoes": []})
    failed = TrainingVersion.objects.create(tag_model=tag_model, number=1, status=TrainingVersion.Status.FAILED)
    response = admin_client.post(reverse("tagmodel:rollback", args=[tag_model.pk, failed.pk]), follow=True)
    assert any("did not train successfully" in m for m in messages_of(response))
    tag_model.refresh_from_db()
    assert tag_model.active_version is None


def test_delete_removes_the_model_with_its_smart_tags_and_logs_it(admin_client):
    images = solid_images(2)
    tag_model = tag_model_with({"hat": images[:1], "shoes": images[1:]})
    hat = Tag.objects.get(name="hat")
    SmartTag.objects.create(
        content_type=ContentType.objects.get_for_model(images[0]), object_id=images[0].pk, tag=hat,
        confidence=0.9, source=SmartTag.Source.TRAINED, tag_model=tag_model,
    )  # fmt: skip
    assert admin_client.get(reverse("tagmodel:delete", args=[tag_model.pk])).status_code == 200
    response = admin_client.post(reverse("tagmodel:delete", args=[tag_model.pk]))
    assert response.status_code == 302
    assert not TagModel.objects.exists() and not SmartTag.objects.exists() and not TrainingExample.objects.exists()
    assert Tag.objects.filter(name="hat").exists(), "the taxonomy itself stays"
    assert ModelLogEntry.objects.filter(object_id=str(tag_model.pk), action=training.LOG_DELETE).exists()


def test_history_shows_the_audit_log(admin_client, django_capture_on_commit_callbacks):
    hat, shoes = Tag.objects.create(name="hat"), Tag.objects.create(name="shoes")
    admin_client.post(reverse("tagmodel:add"), {"title": "Garments", "tags": [hat.pk, shoes.pk]})
    tag_model = TagModel.objects.get()
    html = admin_client.get(reverse("tagmodel:history", args=[tag_model.pk])).content.decode()
    assert "Tag model created" in html


def test_a_model_with_an_active_version_stays_trained_while_another_trains_or_fails(
    admin_client, trained_twice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        queued = training.request_training(trained_twice)
    trained_twice.refresh_from_db()
    assert trained_twice.status == TagModel.Status.TRAINED and trained_twice.active_version.number == 2
    html = admin_client.get(reverse("tagmodel:index")).content.decode()
    assert "Version 3 queued" in html and "Active: version 2" in html
    TrainingExample.objects.filter(tag_model=trained_twice).delete()  # nothing left to train from
    training.train_version(queued.pk)
    trained_twice.refresh_from_db()
    assert trained_twice.status == TagModel.Status.TRAINED and trained_twice.active_version.number == 2
    html = admin_client.get(reverse("tagmodel:index")).content.decode()
    assert "Version 3 failed" in html and "Active: version 2" in html and "Trained" in html


def test_guideline_messages_say_one_example_image_and_one_tag_has():
    from wagtail_smarttags.training.guidelines import check_examples, check_ready_to_train

    hat = Tag.objects.create(name="hat")
    (message,) = check_examples({hat: solid_images(1)})
    assert str(message).startswith("“hat” has 1 example image, fewer than 10")
    tag_model = tag_model_with({"hat": solid_images(1), "shoes": []})
    texts = [str(message) for message in check_ready_to_train(tag_model)]
    assert any("1 of the 2 tags has some" in text for text in texts), texts


def test_tags_typed_in_the_picker_are_created_with_the_model(admin_client):
    hat = Tag.objects.create(name="hat")
    Tag.objects.create(name="Scarf")
    data = {"title": "Garments", "tags": [hat.pk], "tags_new": ["Linen  shirt", "scarf", "linen shirt", "  "]}
    response = admin_client.post(reverse("tagmodel:add"), data)
    assert response.status_code == 302, response.context["form"].errors
    garments = TagModel.objects.get(title="Garments")
    assert sorted(garments.tags.values_list("name", flat=True)) == ["Linen shirt", "Scarf", "hat"]
    assert Tag.objects.filter(name__iexact="scarf").count() == 1, "a taxonomy's name is its tag, whatever the case"


def test_an_invalid_form_shows_the_typed_tags_again_and_creates_none(admin_client):
    data = {"title": "Garments", "tags_new": ["Linen shirt"]}  # one tag: a model needs two
    response = admin_client.post(reverse("tagmodel:add"), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="tags_new" value="Linen shirt" checked' in html
    assert not Tag.objects.filter(name="Linen shirt").exists()
    assert not TagModel.objects.exists()
