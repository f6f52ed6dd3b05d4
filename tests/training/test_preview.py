"""Preview before activation: a trained version says what it would change, and activation does exactly that.

Real training on clothing photographs with the real default backbone; the preview is checked against
what activating the version then actually does to the library's smart tags.
"""

import pytest
from django.contrib.contenttypes.models import ContentType
from taggit.models import Tag
from wagtail.images import get_image_model
from wagtail.models import ModelLogEntry

from wagtail_smarttags.models import SmartTag, TagModelTag, TrainingExample, TrainingVersion
from wagtail_smarttags.pipeline import tagging
from wagtail_smarttags.pipeline.kinds import IMAGE, get_asset_kind
from wagtail_smarttags.training import preview as preview_module
from wagtail_smarttags.training import service as training

from ..datasets import clothing_images
from ..factories import create_image, create_tag_model
from ..helpers import assert_tagged_by_active_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(settings):
    """A trained, active hat/shoes model and a library of hats, shoes and pants it has tagged."""
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "AUTO_TAG": False, "TRAINING_LIBRARY_SIZE": 0}
    tag_model = create_tag_model("Garments", clothing_images("train", ["hat", "shoes"], per_class=10))
    training.request_training(tag_model, run_now=True)
    tag_model.refresh_from_db()
    paths = clothing_images("validation", ["hat", "shoes", "pants"], per_class=6)
    images = [create_image(path) for group in paths.values() for path in group]
    tag_library()
    return tag_model, images


def tag_library():
    """Tag every image, examples included, as the upload tasks would have."""
    tagging.tag_assets(get_asset_kind(IMAGE), list(get_image_model().objects.values_list("pk", flat=True)))


def add_tag(tag_model, name, paths):
    tag, _ = Tag.objects.get_or_create(name=name)
    TagModelTag.objects.create(tag_model=tag_model, tag=tag, sort_order=9)
    for path in paths:
        TrainingExample.objects.create(tag_model=tag_model, tag=tag, image=create_image(path))
    return tag


def applied(tag_model):
    """``{(object id, tag id)}`` applied on images by the model or generically on the model's tags."""
    model_tags = set(tag_model.tag_links.values_list("tag_id", flat=True))
    rows = SmartTag.objects.filter(
        content_type=ContentType.objects.get_for_model(get_image_model()), state=SmartTag.State.APPLIED,
        tag_id__in=model_tags,
    )  # fmt: skip
    return {(row.object_id, row.tag_id) for row in rows}


def test_a_previewed_version_tags_nothing_and_activation_does_what_the_preview_said(
    library, django_capture_on_commit_callbacks
):
    tag_model, images = library
    first = tag_model.active_version
    # An editor's decision on one hat photo: activation must leave it alone, and the preview not count it.
    decided = SmartTag.objects.filter(tag_model=tag_model, state=SmartTag.State.APPLIED).first()
    decided.state = SmartTag.State.REMOVED
    decided.save()
    pants = add_tag(tag_model, "pants", clothing_images("train", ["pants"], per_class=10)["pants"])
    tag_library()
    before = applied(tag_model)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        second = training.request_training(tag_model, run_now=True, activate=False)
    assert callbacks == [], "nothing is re-tagged while the version waits"
    tag_model.refresh_from_db()
    assert second.awaits_activation and tag_model.active_version == first
    assert applied(tag_model) == before

    preview = second.preview
    assert preview["status"] == "ready" and preview["compared_with"] == first.number
    assert preview["assets"] == len(images) + 20 + 10, "the examples are in the library too"
    assert preview["not_embedded"] == 0
    counted = {tag["name"]: tag for tag in preview["tags"].values()}
    assert set(counted) == {"hat", "shoes", "pants"}
    assert counted["pants"]["gain"] > 0, "the new tag would be given to photos of pants"

    with django_capture_on_commit_callbacks(execute=True):
        training.activate_previewed(second)
    after = applied(tag_model)
    tag_ids = {tag.name: tag.pk for tag in Tag.objects.filter(name__in=counted)}
    for name, tag_id in tag_ids.items():
        gained = {object_id for object_id, tag in after - before if tag == tag_id}
        lost = {object_id for object_id, tag in before - after if tag == tag_id}
        kept = {object_id for object_id, tag in after & before if tag == tag_id}
        assert (counted[name]["gain"], counted[name]["lose"], counted[name]["keep"]) == (
            len(gained), len(lost), len(kept)
        ), name
        assert {sample[1] for sample in counted[name]["gain_samples"]} <= gained
        assert {sample[1] for sample in counted[name]["lose_samples"]} <= lost
    assert preview["changed"] == len({object_id for object_id, _ in after ^ before})
    decided.refresh_from_db()
    assert decided.state == SmartTag.State.REMOVED
    assert_tagged_by_active_version(images, tag_model)
    second.refresh_from_db()
    assert second.activated_at is not None and not second.awaits_activation
    assert tag_model.versions.get(number=1).activated_at is not None
    entry = ModelLogEntry.objects.get(object_id=str(tag_model.pk), action=training.LOG_ACTIVATE)
    assert entry.data == {"version": 2, "previous_version": 1}
    assert pants.pk in {tag for _, tag in after}


def test_a_discarded_version_keeps_its_metrics_and_can_never_tag(library, django_capture_on_commit_callbacks):
    tag_model, _ = library
    before = applied(tag_model)
    second = training.request_training(tag_model, run_now=True, activate=False)
    training.discard_version(second)
    second.refresh_from_db()
    assert second.status == TrainingVersion.Status.DISCARDED and second.parameters is None
    assert second.metrics["tags"] and second.preview == {}
    with pytest.raises(ValueError, match="not waiting to be activated"):
        training.activate_previewed(second)
    with pytest.raises(ValueError, match="did not train successfully"):
        training.rollback_to(second)
    assert applied(tag_model) == before
    assert ModelLogEntry.objects.filter(object_id=str(tag_model.pk), action=training.LOG_DISCARD).exists()


def test_images_not_embedded_yet_are_counted_apart(library):
    tag_model, _ = library
    create_image(clothing_images("validation", ["hat"], per_class=1, offset=6)["hat"][0])  # not tagged yet
    second = training.request_training(tag_model, run_now=True, activate=False)
    assert second.preview["not_embedded"] == 1


def test_a_version_of_another_backbone_is_not_previewed(library, pixel_backbone):
    tag_model, _ = library
    version = tag_model.active_version
    TrainingVersion.objects.filter(pk=version.pk).update(activated_at=None)
    version.refresh_from_db()
    preview = preview_module.compute_preview(version)
    assert preview["status"] == "failed" and "Train the model again" in preview["error"]


def test_samples_stay_bounded_and_spread_over_the_confidences():
    samples = preview_module._Samples("seed")
    for index in range(10_000):
        samples.add((1, index, index / 10_000))
    assert samples.seen == 10_000 and len(samples.kept) == preview_module.SAMPLES_KEPT
    shown = samples.shown(8)
    confidences = [confidence for _, _, confidence in shown]
    assert confidences == sorted(confidences, reverse=True) and len(set(confidences)) == 8
    assert confidences[0] > 0.9 and confidences[-1] < 0.1, "from the surest to the least sure"
    few = preview_module._Samples("seed")
    for index in range(3):
        few.add((1, index, 0.5 + index / 10))
    assert [item[1] for item in few.shown(8)] == [2, 1, 0]
