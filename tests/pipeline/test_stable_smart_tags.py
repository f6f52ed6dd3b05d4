"""Smart tags always come from the active version of each model, and editors' decisions are never lost.

Each test reproduces one way the promise used to break: a retrain landing in the middle of a batch,
a moderation form posted after a re-tag (also while another process re-tags), and a deleted tag
model taking its removed decisions along. The concurrent cases run a real second process.
"""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from wagtail.images import get_image_model

from wagtail_smarttags import moderation
from wagtail_smarttags.models import SmartTag, TaggingState, TrainingExample
from wagtail_smarttags.pipeline import tagging
from wagtail_smarttags.pipeline.cycles import due_assets, run_cycle
from wagtail_smarttags.pipeline.kinds import IMAGE, get_asset_kind
from wagtail_smarttags.training.service import activate_version, delete_tag_model, request_training, rollback_to
from wagtail_smarttags.wagtail_hooks import moderation_url

from ..datasets import clothing_images
from ..factories import create_image, create_tag_model
from ..helpers import (
    applied_trained_tags,
    assert_tagged_by_active_version,
    decision_of,
    smart_tags_by_name,
    smart_tags_of,
    state_of,
)
from ..workers import running_python, running_worker, wait_until


@pytest.fixture
def garments(settings, pixel_backbone):
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "AUTO_TAG": False}
    tag_model = create_tag_model("Garments", clothing_images("train", ["hat", "shoes"], per_class=10))
    request_training(tag_model, run_now=True)
    tag_model.refresh_from_db()
    return tag_model


def unseen_photos(per_class):
    paths = clothing_images("validation", ["hat", "shoes"], per_class=per_class)
    return [create_image(path) for group in paths.values() for path in group]


def tag_now(images):
    return tagging.tag_assets(get_asset_kind(IMAGE), [image.pk for image in images])


def trained_rows(image):
    """``{tag name: (row id, version id, state)}`` of the image's smart tags from trained models."""
    return {
        row.tag.name: (row.pk, row.version_id, row.state)
        for row in smart_tags_of(image, source=SmartTag.Source.TRAINED)
    }


@pytest.mark.django_db
def test_a_retrain_updates_smart_tags_in_place(garments, django_capture_on_commit_callbacks):
    images = unseen_photos(per_class=3)
    tag_now(images)
    before = {image.pk: trained_rows(image) for image in images}
    assert sum(len(rows) for rows in before.values()) >= 4

    with django_capture_on_commit_callbacks(execute=True):
        request_training(garments)  # the same examples: the same decisions, a new version
    assert_tagged_by_active_version(images, garments)
    assert {image.pk: trained_rows(image) for image in images} == before, (
        "a retrain that decides the same leaves every row as it was, the version that made it included"
    )

    other_examples = clothing_images("train", ["hat", "shoes"], per_class=10, offset=10)
    for truth, paths in other_examples.items():
        tag = garments.tags.get(name=truth)
        for path in paths:
            TrainingExample.objects.create(tag_model=garments, tag=tag, image=create_image(path))
    with django_capture_on_commit_callbacks(execute=True):
        request_training(garments)  # more examples: other confidences
    assert_tagged_by_active_version(images, garments)
    after = {image.pk: trained_rows(image) for image in images}
    kept = [
        (before[pk][name][0], rows[name][0]) for pk, rows in after.items() for name in rows if name in before[pk]
    ]
    assert kept and all(old == new for old, new in kept), "a tag that stays keeps its row, updated in place"
    assert any(rows[name][1] == garments.active_version_id for rows in after.values() for name in rows)


@pytest.mark.django_db
def test_a_retrain_landing_mid_batch_is_caught_up(garments, settings, monkeypatch):
    """The retrain's library re-tag runs later (its task is queued on commit and not run here)."""
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "BATCH_SIZE": 4}
    first = garments.active_version
    second = request_training(garments, run_now=True)
    rollback_to(first)
    images = unseen_photos(per_class=4)
    write = tagging.write_trained_tags
    landed = []

    def write_then_retrain(*args):
        written = write(*args)
        if not landed:
            landed.append(activate_version(second))  # between deciding and recording the first batch
        return written

    monkeypatch.setattr(tagging, "write_trained_tags", write_then_retrain)
    run_cycle()
    assert landed
    assert_tagged_by_active_version(images, garments)
    assert garments.active_version_id == second.pk
    assert not [ids for kind, _, ids in due_assets() if kind == IMAGE]


@pytest.mark.django_db(transaction=True)
def test_retrains_in_this_process_while_another_runs_a_cycle(garments):
    """Two real processes: a tagging cycle in one, trainings and their library re-tags in the other."""
    images = unseen_photos(per_class=8)
    retrains = 0
    with running_worker(command=("smarttags_tag", "--all")) as cycle:
        while cycle.poll() is None and retrains < 12:
            request_training(garments, run_now=True)  # its library re-tag runs on commit, in this process
            retrains += 1
        assert wait_until(lambda: cycle.poll() is not None, timeout=300), "the cycle did not finish"
        assert cycle.returncode == 0, cycle.stdout.read()
    assert retrains >= 1
    garments.refresh_from_db()
    due = {object_id for kind, _, ids in due_assets() if kind == IMAGE for object_id in ids}
    for image in images:
        recorded = garments.versions.get(pk=state_of(image).model_versions[str(garments.pk)])
        # What a state records is what its tags are; if that is not the active version, a cycle lists it.
        assert applied_trained_tags(image, garments) == decision_of(recorded, image), (image.pk, recorded.number)
        assert recorded.pk == garments.active_version_id or image.pk in due
    run_cycle()
    assert_tagged_by_active_version(images, garments)


# Moderation forms opened before a re-tag -------------------------------------------------------


@pytest.fixture
def editor():
    return get_user_model().objects.create_superuser("editor", "editor@example.com", "pw")


def decision_fields(client, image):
    html = client.get(moderation_url(IMAGE, image.pk)).content.decode()
    return set(re.findall(r'name="(decision_l?\d+)"', html))


def messages_of(response):
    return [str(message).strip() for message in response.context["messages"]]


@pytest.mark.django_db
def test_a_decision_posted_after_a_retag_applies_to_that_asset_and_tag(
    garments, editor, client, django_capture_on_commit_callbacks
):
    [image] = unseen_photos(per_class=1)[:1]
    tag_now([image])
    [trained] = smart_tags_of(image, source=SmartTag.Source.TRAINED)
    client.force_login(editor)
    field = f"decision_{trained.tag_id}"
    assert field in decision_fields(client, image)  # the page, as the editor opened it

    with django_capture_on_commit_callbacks(execute=True):
        request_training(garments)  # the library is re-tagged while the page is open
    response = client.post(moderation_url(IMAGE, image.pk), {field: "removed"}, follow=True)
    assert response.status_code == 200
    assert messages_of(response) == [f"Smart tags of “{image}” saved: 1 removed, 0 promoted."]
    assert trained_rows(image)[trained.tag.name][2] == SmartTag.State.REMOVED


@pytest.mark.django_db
def test_a_decision_on_a_withdrawn_smart_tag_is_refused_with_a_message(garments, editor, client, settings):
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "GENERIC_MIN_CONFIDENCE": 0.01}
    [image] = unseen_photos(per_class=1)[:1]
    tag_now([image])
    [trained] = smart_tags_of(image, source=SmartTag.Source.TRAINED)
    generic = smart_tags_of(image, source=SmartTag.Source.GENERIC).first()
    client.force_login(editor)
    fields = decision_fields(client, image)
    assert f"decision_{trained.tag_id}" in fields and f"decision_{generic.term}" in fields

    delete_tag_model(garments)  # withdraws the trained tag while the page is open
    response = client.post(
        moderation_url(IMAGE, image.pk),
        {f"decision_{trained.tag_id}": "removed", f"decision_{generic.term}": "promoted"},
        follow=True,
    )
    assert response.status_code == 200
    errors, success = messages_of(response)
    assert f"“{trained.tag.name}” was withdrawn after this page was opened" in errors
    assert success.endswith("0 removed, 1 promoted.")
    # The generic label was none of the site's tags: promoted, it is one now, and the smart tag is of it.
    promoted = smart_tags_by_name(image)[generic.name]
    assert promoted.state == SmartTag.State.PROMOTED and promoted.tag.name == generic.name
    assert promoted.label is None and generic.name in [tag.name for tag in image.tags.all()]
    assert trained.tag.name not in smart_tags_by_name(image)


RETAG_LOOP = """
import time
from wagtail_smarttags.models import TagModel
from wagtail_smarttags.pipeline.tagging import retag_from_cache
from wagtail_smarttags.training.service import rollback_to

tag_model = TagModel.objects.get(title="Garments")
versions = list(tag_model.versions.filter(status="succeeded").order_by("number"))
deadline = time.monotonic() + 60
for turn in range(200):
    if time.monotonic() > deadline:
        break
    rollback_to(versions[turn % 2])
    retag_from_cache(tag_model.pk)
    print("re-tagged", turn, flush=True)
"""


@pytest.mark.django_db(transaction=True)
def test_decisions_made_while_another_process_retags_are_never_lost(garments, editor, client):
    request_training(garments, run_now=True)  # two versions to switch between
    images = unseen_photos(per_class=4)
    tag_now(images)
    client.force_login(editor)
    decided = {}
    with running_python(RETAG_LOOP) as worker:
        assert wait_until(lambda: worker.stdout.readline().startswith("re-tagged"), timeout=120, worker=worker)
        for image in images:
            fields = decision_fields(client, image)
            trained = [f"decision_{tag_id}" for tag_id in smart_tags_of(image, source="trained").values_list(
                "tag_id", flat=True)]  # fmt: skip
            if not trained or trained[0] not in fields:
                continue
            response = client.post(moderation_url(IMAGE, image.pk), {trained[0]: "removed"}, follow=True)
            assert response.status_code == 200
            assert messages_of(response), "every decision is confirmed or refused with a message"
            decided[image.pk] = int(trained[0].removeprefix("decision_"))
        assert worker.poll() is None, "the re-tagging process was still running throughout"
    assert len(decided) >= 4
    content_type = ContentType.objects.get_for_model(get_image_model())
    for object_id, tag_id in decided.items():
        row = SmartTag.objects.get(content_type=content_type, object_id=object_id, tag_id=tag_id)
        assert row.state == SmartTag.State.REMOVED, "a decision made during re-tagging stands"


# A deleted tag model ------------------------------------------------------------------------------

T_SHIRT_PHOTOS = (1, 4)  # validation photos whose ImageNet label is "T-shirt" at over 0.9


@pytest.mark.django_db
def test_deleting_a_tag_model_keeps_the_decisions_on_its_tags(editor):
    examples = clothing_images("train", ["t-shirt", "pants", "shoes"], per_class=10)
    names = {"t-shirt": "T-shirt", "pants": "jeans", "shoes": "shoes"}
    tag_model = create_tag_model("Garments", {names[folder]: paths for folder, paths in examples.items()})
    request_training(tag_model, run_now=True)
    photos = clothing_images("validation", ["t-shirt"], per_class=5)["t-shirt"]
    decided, control = create_image(photos[T_SHIRT_PHOTOS[0]]), create_image(photos[T_SHIRT_PHOTOS[1]])
    tag_now([decided, control])
    for image in (decided, control):
        assert smart_tags_by_name(image)["T-shirt"].source == SmartTag.Source.TRAINED
    removed = smart_tags_by_name(decided)["T-shirt"]
    assert moderation.decide(decided, removed.tag_id, SmartTag.State.REMOVED, editor)

    delete_tag_model(tag_model)
    removed.refresh_from_db()
    assert (removed.state, removed.tag_model_id) == (SmartTag.State.REMOVED, None)
    assert "T-shirt" not in smart_tags_by_name(control), "the model's applied tags go with it"

    tag_now([decided, control])  # generic tags may now give "T-shirt": the image network sees one
    assert smart_tags_by_name(control)["T-shirt"].source == SmartTag.Source.GENERIC
    assert smart_tags_by_name(decided)["T-shirt"].state == SmartTag.State.REMOVED
    assert state_of(decided).status == TaggingState.Status.DONE
