"""Colour tags through the pipeline: written with their coverage, cached, moderated, searched, switchable off."""

import io

import pytest
from PIL import Image
from taggit.models import Tag
from wagtail.images import get_image_model

from wagtail_smarttags.ml.colours import PALETTE, choose_colours, colour_coverage
from wagtail_smarttags.models import EmbeddingCache, SmartTag, TaggingState
from wagtail_smarttags.pipeline.cycles import run_cycle
from wagtail_smarttags.wagtail_hooks import moderation_url

from ..datasets import clothing_images
from ..factories import create_image
from ..helpers import smart_tags_by_name, state_of, uploaded
from ..videos import create_media, encode_video

COLOUR = SmartTag.Source.COLOUR


def navy_and_gold(size=(320, 320)):
    """A PNG three quarters navy, one quarter gold, at the size the pipeline decodes to (nothing is resampled)."""
    image = Image.new("RGB", size, (0, 0, 128))
    image.paste((255, 215, 0), (0, 0, size[0] // 4, size[1]))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def colours_of(asset):
    return {name: row.confidence for name, row in smart_tags_by_name(asset, COLOUR).items()}


def with_settings(settings, **values):
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, **values}


@pytest.mark.django_db
def test_an_upload_gets_its_dominant_colours_with_their_coverage(django_capture_on_commit_callbacks):
    image = uploaded(django_capture_on_commit_callbacks, create_image, navy_and_gold(), name="flag.png")
    assert state_of(image).status == TaggingState.Status.DONE
    assert colours_of(image) == {"navy": pytest.approx(0.75, abs=0.01), "yellow": pytest.approx(0.25, abs=0.01)}
    # The colours are the app's own labels (the site has no such tags), applied like any other smart tag.
    row = smart_tags_by_name(image, COLOUR)["navy"]
    assert row.tag is None and row.label.name == "navy" and row.state == SmartTag.State.APPLIED
    assert not Tag.objects.exists()
    assert EmbeddingCache.objects.get(file_hash=state_of(image).file_hash).colours["navy"] == pytest.approx(0.75, 0.01)


@pytest.mark.django_db
def test_real_photos_get_the_colours_of_what_they_show(django_capture_on_commit_callbacks):
    photos = clothing_images("validation", ["hat", "outwear", "pants"], per_class=1)
    for path in [paths[0] for paths in photos.values()]:
        image = uploaded(django_capture_on_commit_callbacks, create_image, path)
        photo = Image.open(path).convert("RGB")
        photo.thumbnail((480, 480))
        expected = [name for name, _ in choose_colours(colour_coverage([photo]), 0.15, 3)]
        got = colours_of(image)
        assert 1 <= len(got) <= 3 and set(got) <= set(PALETTE) and all(share >= 0.15 for share in got.values())
        assert set(got) == set(expected), path.name


@pytest.mark.django_db
def test_coverage_threshold_cap_and_the_sites_own_names(settings, django_capture_on_commit_callbacks):
    Tag.objects.create(name="Marine")
    with_settings(settings, COLOUR_MIN_COVERAGE=0.5, COLOUR_NAMES={"navy": "marine"})
    image = uploaded(django_capture_on_commit_callbacks, create_image, navy_and_gold(), name="flag.png")
    (row,) = smart_tags_by_name(image, COLOUR).values()
    # Renamed into the site's vocabulary: an existing taggit tag of that name (any case) is the one used.
    assert row.tag.name == "Marine" and row.confidence == pytest.approx(0.75, abs=0.01)

    with_settings(settings, COLOUR_MIN_COVERAGE=0.1, COLOUR_MAX_TAGS=1, COLOUR_NAMES={})
    run_cycle(everything=True)
    assert list(colours_of(image)) == ["navy"]


@pytest.mark.django_db
def test_switching_colour_tags_off_removes_them_and_keeps_editors_decisions(
    settings, django_capture_on_commit_callbacks
):
    image = uploaded(django_capture_on_commit_callbacks, create_image, navy_and_gold(), name="flag.png")
    SmartTag.objects.filter(source=COLOUR, label__name="yellow").update(state=SmartTag.State.REMOVED)

    with_settings(settings, COLOUR_TAGS=False)
    run_cycle(everything=True)
    assert {row.name: row.state for row in SmartTag.objects.filter(source=COLOUR)} == {"yellow": "removed"}

    with_settings(settings, COLOUR_TAGS=True)
    run_cycle(everything=True)
    assert state_of(image).status == TaggingState.Status.DONE
    assert {row.name: row.state for row in SmartTag.objects.filter(source=COLOUR)} == {
        "navy": "applied",
        "yellow": "removed",
    }


@pytest.mark.django_db
@pytest.mark.cold_cache  # cached here while colour tags are off
def test_files_cached_while_colour_tags_were_off_get_them_at_the_next_tagging(
    settings, django_capture_on_commit_callbacks
):
    with_settings(settings, COLOUR_TAGS=False)
    image = uploaded(django_capture_on_commit_callbacks, create_image, navy_and_gold(), name="flag.png")
    assert colours_of(image) == {}
    assert EmbeddingCache.objects.get(file_hash=state_of(image).file_hash).colours is None

    with_settings(settings, COLOUR_TAGS=True)
    run_cycle(everything=True)
    assert set(colours_of(image)) == {"navy", "yellow"}
    assert EmbeddingCache.objects.get(file_hash=state_of(image).file_hash).colours is not None


@pytest.mark.django_db
def test_images_are_found_by_their_colours(django_capture_on_commit_callbacks):
    flag = uploaded(django_capture_on_commit_callbacks, create_image, navy_and_gold(), name="flag.png", title="Flag")
    red = Image.new("RGB", (320, 320), (220, 20, 30))
    buffer = io.BytesIO()
    red.save(buffer, "PNG")
    uploaded(django_capture_on_commit_callbacks, create_image, buffer.getvalue(), name="red.png", title="Poster")
    assert list(get_image_model().objects.all().search("navy")) == [flag]
    assert [image.title for image in get_image_model().objects.all().search("red")] == ["Poster"]


@pytest.mark.django_db
def test_a_videos_colours_are_averaged_over_its_frames(django_capture_on_commit_callbacks):
    pytest.importorskip("wagtailmedia")
    data = encode_video([(220, 20, 30), (220, 20, 30), (220, 20, 30), (0, 0, 128)], fps=1, size=(96, 64))
    with django_capture_on_commit_callbacks(execute=True):
        media = create_media(data, "colours.mp4")
    colours = colours_of(media)
    assert set(colours) == {"red", "navy"}
    assert colours["red"] == pytest.approx(0.75, abs=0.05) and colours["navy"] == pytest.approx(0.25, abs=0.05)


@pytest.mark.django_db
def test_the_smart_tags_screen_shows_colours_apart(admin_client, django_capture_on_commit_callbacks):
    image = uploaded(django_capture_on_commit_callbacks, create_image, navy_and_gold(), name="flag.png")
    html = admin_client.get(moderation_url("image", image.pk)).content.decode()
    before, colours = html.split('data-smarttags-group="colour"')
    assert "navy" not in before
    assert "Colours" in colours and "navy" in colours and "yellow" in colours and "75%" in colours

    # Promoted like any other smart tag: the colour joins the image's own tags.
    navy = smart_tags_by_name(image, COLOUR)["navy"]
    admin_client.post(moderation_url("image", image.pk), {f"decision_{navy.term}": "promoted"})
    image.refresh_from_db()
    assert [tag.name for tag in image.tags.all()] == ["navy"]
    assert smart_tags_by_name(image, COLOUR)["navy"].state == SmartTag.State.PROMOTED
