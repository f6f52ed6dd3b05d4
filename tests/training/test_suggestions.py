"""Suggested examples: the library photos nearest each tag's examples, by their cached embeddings."""

import pytest
from django.urls import reverse
from wagtail.images import get_image_model

from wagtail_smarttags.pipeline import tagging
from wagtail_smarttags.pipeline.kinds import IMAGE, get_asset_kind
from wagtail_smarttags.training.suggestions import suggest_examples

from ..datasets import clothing_images
from ..factories import create_image, create_tag_model, root_collection

pytestmark = pytest.mark.django_db
LIBRARY = ["hat", "shoes", "dress"]


@pytest.fixture
def garments(settings):
    """A model of hats and shoes with three examples each, and a tagged library of six more of each garment
    and six dresses, embedded by the worker as uploads are."""
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "AUTO_TAG": False}
    tag_model = create_tag_model("Garments", clothing_images("train", ["hat", "shoes"], per_class=3))
    library = {
        garment: [create_image(path) for path in paths]
        for garment, paths in clothing_images("validation", LIBRARY, per_class=6).items()
    }
    tagging.tag_assets(get_asset_kind(IMAGE), list(get_image_model().objects.values_list("pk", flat=True)))
    return tag_model, library


def tag_ids(tag_model):
    return {link.tag.name: link.tag_id for link in tag_model.tag_links.select_related("tag")}


def test_each_tag_is_offered_the_library_photos_most_like_its_examples(garments):
    tag_model, library = garments
    # Room for more than the library's six of each: what else fills it is what must not be offered.
    suggested = suggest_examples(tag_model, get_image_model().objects.all(), per_tag=12)
    ids = tag_ids(tag_model)
    for garment in ("hat", "shoes"):
        own = {image.pk for image in library[garment]}
        offered = suggested[ids[garment]]
        assert len(offered) <= 12
        assert len(own & set(offered)) >= 5, f"{garment}: {len(own & set(offered))} of 6 offered are {garment}s"
    every = [pk for offered in suggested.values() for pk in offered]
    assert len(every) == len(set(every)), "a photo is offered to one tag only, as the model gives one"
    dresses = {image.pk for image in library["dress"]}
    # With room to spare, every dress would be offered as a hat or as shoes, whichever it is nearer; those
    # less like the tag than its least typical example are not (4 of the 6 still are: the editor skips them).
    assert len(dresses & set(every)) < len(dresses)
    examples = set(tag_model.examples.values_list("image_id", flat=True))
    assert not examples & set(every), "the model's own examples are never offered"


def test_only_images_the_editor_may_choose_and_already_embedded_are_offered(garments):
    tag_model, library = garments
    hats = library["hat"]
    only_some = get_image_model().objects.filter(pk__in=[image.pk for image in hats[:2]])
    suggested = suggest_examples(tag_model, only_some, per_tag=6)
    assert set(pk for offered in suggested.values() for pk in offered) <= {image.pk for image in hats[:2]}
    never_embedded = create_image(clothing_images("validation", ["hat"], per_class=1, offset=8)["hat"][0])
    suggested = suggest_examples(tag_model, get_image_model().objects.all(), per_tag=50)
    assert never_embedded.pk not in {pk for offered in suggested.values() for pk in offered}
    assert suggest_examples(tag_model, get_image_model().objects.all(), per_tag=0) == {}


def test_the_edit_screen_shows_suggestions_to_add_in_one_click(admin_client, garments, settings):
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "SUGGESTED_EXAMPLES": 4}
    tag_model, library = garments
    elsewhere = root_collection().add_child(name="Elsewhere")
    hidden = library["hat"][0]
    hidden.collection = elsewhere
    hidden.save()
    html = admin_client.get(reverse("tagmodel:edit", args=[tag_model.pk])).content.decode()
    assert html.count("data-smarttags-suggestions") == 2
    hat_section = html.split(f'data-tag-id="{tag_ids(tag_model)["hat"]}"', 1)[1]
    hat_section = hat_section.split("data-smarttags-tag-examples", 1)[0]
    assert "Suggested for “hat”" in hat_section and "Add all 4" in hat_section
    assert hat_section.count("data-smarttags-add-suggestion") == 4
    assert f'data-image-id="{hidden.pk}"' in hat_section, "a superuser may choose from every collection"
