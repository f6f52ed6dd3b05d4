"""Learning from moderation: editors' removed and promoted smart tags teach the next version.

Real photographs and the real default backbone: an outwear/pants model tags photos of long-sleeved
tops, which it was not made for; an editor removes those tags; trained again with the model opted in,
the new version leaves other photos of long-sleeved tops, never moderated, alone far more often.
"""

import pytest

from wagtail_smarttags import moderation
from wagtail_smarttags.models import SmartTag
from wagtail_smarttags.pipeline import tagging
from wagtail_smarttags.pipeline.kinds import IMAGE, get_asset_kind
from wagtail_smarttags.training import decisions as decisions_module
from wagtail_smarttags.training import service as training

from ..datasets import clothing_images
from ..factories import add_smart_tags, create_image, create_tag_model
from ..helpers import decision_of, smart_tags_of

pytestmark = pytest.mark.django_db

TAGS = ["outwear", "pants"]
FOREIGN = "longsleeve"  # looks like outwear to a model that has never seen one


@pytest.fixture
def editor(django_user_model):
    return django_user_model.objects.create_user("editor", "editor@example.com", "password")


@pytest.fixture
def garments(settings):
    # No library: what changes between the versions is the editors' decisions alone.
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "AUTO_TAG": False, "TRAINING_LIBRARY_SIZE": 0}
    tag_model = create_tag_model("Garments", clothing_images("train", TAGS, per_class=10))
    training.request_training(tag_model, run_now=True)
    tag_model.refresh_from_db()
    return tag_model


def tagged_photos(split, classes, per_class, offset=0):
    images = [
        create_image(path)
        for paths in clothing_images(split, classes, per_class=per_class, offset=offset).values()
        for path in paths
    ]
    tagging.tag_assets(get_asset_kind(IMAGE), [image.pk for image in images])
    return images


def given_a_tag(version, images):
    return [image for image in images if decision_of(version, image)]


def test_removed_tags_teach_the_model_what_its_tags_are_not(garments, editor):
    moderated = tagged_photos("train", [FOREIGN], per_class=30)
    unseen = tagged_photos("validation", [FOREIGN], per_class=30)
    first = garments.active_version
    wrongly_tagged = given_a_tag(first, moderated)
    assert len(wrongly_tagged) >= 10, "the model was not made for long-sleeved tops, and tags many of them"
    for image in wrongly_tagged:
        row = smart_tags_of(image, tag_model=garments).get()
        moderation.remove_smart_tag(row, editor)

    # Not opted in: the decisions are kept, but the next version does not learn from them.
    not_learnt = training.request_training(garments, run_now=True)
    assert not_learnt.metrics["moderation"] == {"promoted": 0, "removed": 0}
    assert "moderation" not in next(iter(not_learnt.metrics["tags"].values()))

    garments.learn_from_moderation = True
    garments.save()
    learnt = training.request_training(garments, run_now=True)
    assert learnt.metrics["moderation"] == {"promoted": 0, "removed": len(wrongly_tagged)}
    before, after = len(given_a_tag(not_learnt, unseen)), len(given_a_tag(learnt, unseen))
    assert before >= 10 and after <= before / 3, f"unseen photos given a tag: {before} before learning, {after} after"
    # The garments it was made for are still tagged.
    photos = tagged_photos("validation", TAGS, per_class=10)
    assert len(given_a_tag(learnt, photos)) >= 0.8 * len(given_a_tag(not_learnt, photos))
    # The editors' decisions stay as they were.
    for image in wrongly_tagged:
        assert smart_tags_of(image, tag_model=garments).get().state == SmartTag.State.REMOVED


def test_promoted_tags_become_examples_and_removals_of_examples_do_not_count(garments, editor):
    garments.learn_from_moderation = True
    garments.save()
    outwear, pants = garments.tags.get(name="outwear"), garments.tags.get(name="pants")
    photos = tagged_photos("validation", ["outwear"], per_class=4)
    rows = [SmartTag.objects.filter(object_id=photo.pk, tag=outwear).first() for photo in photos]
    rows = [row for row in rows if row is not None]
    assert len(rows) >= 3
    for row in rows[:2]:
        moderation.promote_smart_tag(row, editor)
    moderation.remove_smart_tag(rows[2], editor)
    # An example image whose own smart tag an editor removed stays an example, not a negative.
    example = garments.examples.filter(tag=pants).first().image
    tagging.tag_assets(get_asset_kind(IMAGE), [example.pk])
    example_row = smart_tags_of(example, tag_model=garments).first()
    if example_row is not None:
        moderation.remove_smart_tag(example_row, editor)

    decisions = decisions_module.moderation_decisions(garments)
    assert decisions.promoted == {outwear.pk: [rows[1].object_id, rows[0].object_id]}
    assert decisions.removed == {outwear.pk: [rows[2].object_id]}
    version = training.request_training(garments, run_now=True)
    by_name = {tag["name"]: tag for tag in version.metrics["tags"].values()}
    assert by_name["outwear"]["examples"] == 12
    assert by_name["outwear"]["moderation"] == {"promoted": 2, "removed": 1}
    assert by_name["pants"]["examples"] == 10 and by_name["pants"]["moderation"] == {"promoted": 0, "removed": 0}
    assert version.metrics["moderation"] == {"promoted": 2, "removed": 1}


def test_a_promotion_wins_over_a_removal_of_the_same_image(garments):
    garments.learn_from_moderation = True
    garments.save()
    outwear, pants = garments.tags.get(name="outwear"), garments.tags.get(name="pants")
    photo = create_image(clothing_images("validation", ["pants"], per_class=1, offset=5)["pants"][0])
    # Two of the model's tags decided on one photo (a generic "outwear" removed, "pants" promoted).
    add_smart_tags(photo, [("outwear", 0.4, SmartTag.State.REMOVED), ("pants", 0.7, SmartTag.State.PROMOTED)])
    decisions = decisions_module.moderation_decisions(garments)
    assert decisions.promoted == {pants.pk: [photo.pk]} and decisions.removed == {}
    assert outwear.pk not in decisions.removed
