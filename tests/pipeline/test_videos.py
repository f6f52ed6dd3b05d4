"""Videos through wagtailmedia: frames sampled with PyAV, tagged by trained models and generic labels."""

import io
import re

import numpy as np
import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from PIL import Image

from wagtail_smarttags.ml.errors import NotTaggableError, UnreadableAssetError
from wagtail_smarttags.ml.video import VideoLimits, sample_frames
from wagtail_smarttags.models import EmbeddingCache, SmartTag, TaggingState
from wagtail_smarttags.pipeline.frames import frame_folder, frame_thumbnail_urls
from wagtail_smarttags.pipeline.tagging import retag_from_cache
from wagtail_smarttags.training.service import request_training

from ..datasets import clothing_images
from ..factories import create_tag_model
from ..helpers import smart_tags_by_name, state_of
from ..videos import (
    SUPPORTED,
    audio_with_cover_art,
    create_media,
    encode_audio,
    encode_video,
    grey_levels,
    long_video,
    with_unknown_codec,
)

CLASSES = ["hat", "shoes", "pants"]


def levels(frames):
    return [round(float(np.asarray(image).mean())) for image in frames.images]


# Decoding, no database --------------------------------------------------------------------


@pytest.mark.parametrize(("name", "fmt", "codec", "pixel_format"), SUPPORTED, ids=[row[0] for row in SUPPORTED])
def test_each_supported_container_and_codec_gives_the_frame_on_screen(name, fmt, codec, pixel_format):
    data = encode_video(grey_levels(6, step=40), fmt, codec, pixel_format, fps=1)
    frames = sample_frames(io.BytesIO(data))
    assert frames.duration == pytest.approx(6.0, abs=0.2)
    assert frames.timestamps == pytest.approx([0.5, 1.5, 2.5, 3.5, 4.5, 5.5], abs=0.01)
    # Frame i is grey level 40 * i: each sample is the frame shown at its time, in order.
    assert levels(frames) == pytest.approx([0, 40, 80, 120, 160, 200], abs=4)
    assert all(image.mode == "RGB" and image.size == (96, 64) for image in frames.images)


def test_frames_are_spread_evenly_and_bounded():
    data = encode_video(grey_levels(60, step=4), fps=1)
    frames = sample_frames(io.BytesIO(data), VideoLimits(max_frames=6))
    assert frames.timestamps == pytest.approx([5, 15, 25, 35, 45, 55])
    assert levels(frames) == pytest.approx([20, 60, 100, 140, 180, 220], abs=4)


def test_a_two_hour_video_costs_a_bounded_number_of_frames():
    data, count = long_video(hours=2, seconds_per_frame=30)
    frames = sample_frames(io.BytesIO(data))
    assert frames.duration == pytest.approx(7200, abs=31)
    assert len(frames.images) == 16 and not frames.truncated
    # Spread over the two hours, not the first minutes: the last sample is near the end.
    assert frames.timestamps[0] < 300 and frames.timestamps[-1] > 6900
    assert levels(frames)[-1] > levels(frames)[0] + 150


def test_the_time_budget_stops_decoding():
    data, _ = long_video(hours=2, seconds_per_frame=30)
    with pytest.raises(UnreadableAssetError, match="within the 0 seconds"):
        sample_frames(io.BytesIO(data), VideoLimits(max_seconds=0))


def test_frames_are_scaled_down_to_the_target_size():
    data = encode_video(grey_levels(2), size=(1280, 720))
    frames = sample_frames(io.BytesIO(data), VideoLimits(target_size=240))
    assert frames.images[0].size == (427, 240)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: b"", "not a video that FFmpeg can read"),
        (lambda: b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40, "not a video that FFmpeg can read"),
        (lambda: encode_video(grey_levels(20), gop=5)[:1500], "not a video|no frame"),
        (lambda: encode_video([], fmt="matroska"), "no frame|not a video"),
        (lambda: with_unknown_codec(encode_video(grey_levels(4), "avi", "mpeg4")), r"codec \(.*\) is not supported"),
        (lambda: encode_video(grey_levels(2), size=(1280, 720)), "pixels allowed"),
        (lambda: Image.new("RGB", (8, 8)).tobytes(), "not a video"),
    ],
    ids=["empty", "noise", "truncated", "no-frames", "unknown-codec", "too-many-pixels", "raw-bytes"],
)
def test_bad_videos_raise_a_readable_error(make, message):
    with pytest.raises(UnreadableAssetError, match=message):
        sample_frames(io.BytesIO(make()), VideoLimits(max_pixels=500_000))


@pytest.mark.parametrize("make", [encode_audio, audio_with_cover_art], ids=["sound-only", "cover-art"])
def test_audio_only_files_are_not_taggable(make):
    with pytest.raises(NotTaggableError, match="no pictures"):
        sample_frames(io.BytesIO(make()))


# Through wagtailmedia and the pipeline ---------------------------------------------------


@pytest.fixture
def garments(db, django_capture_on_commit_callbacks):
    tag_model = create_tag_model("Garments", clothing_images("train", CLASSES, per_class=10))
    with django_capture_on_commit_callbacks(execute=True):
        request_training(tag_model)
    tag_model.refresh_from_db()
    return tag_model


def photos_video(truth, count=4, fmt="mp4", codec="libx264", pixel_format="yuv420p"):
    """A slideshow of unseen real photographs of one garment, a second each."""
    paths = clothing_images("validation", [truth], per_class=count)[truth]
    return encode_video([Image.open(path) for path in paths], fmt, codec, pixel_format, size=(240, 320))


def upload_media(capture, data, name, media_type="video"):
    with capture(execute=True):
        return create_media(data, name, media_type=media_type)




@pytest.mark.django_db
def test_an_uploaded_video_gets_the_trained_tag_of_what_it_shows(garments, django_capture_on_commit_callbacks):
    hats = upload_media(django_capture_on_commit_callbacks, photos_video("hat"), "hats.mp4")
    shoes = upload_media(django_capture_on_commit_callbacks, photos_video("shoes", fmt="asf", codec="wmv2"), "s.wmv")
    for media, truth in ((hats, "hat"), (shoes, "shoes")):
        assert state_of(media).status == TaggingState.Status.DONE, state_of(media).error
        trained = smart_tags_by_name(media, SmartTag.Source.TRAINED)
        assert list(trained) == [truth]
        assert trained[truth].tag_model == garments and 0 < trained[truth].confidence <= 1
    # One cache row per video: a (frames, dimension) matrix and each frame's labels.
    entry = EmbeddingCache.objects.get(file_hash=state_of(hats).file_hash)
    assert entry.array.shape == (4, 1280) and len(entry.labels) == 4


@pytest.mark.django_db
@pytest.mark.cold_cache  # decoded on upload, so that its frames' thumbnails are written
def test_retraining_retags_videos_from_cached_frames(garments, django_capture_on_commit_callbacks):
    media = upload_media(django_capture_on_commit_callbacks, photos_video("pants"), "pants.mkv")
    media.file.storage.delete(media.file.name)  # nothing can be decoded again
    SmartTag.objects.filter(source=SmartTag.Source.TRAINED).delete()
    assert retag_from_cache(garments.pk) >= 1
    assert list(smart_tags_by_name(media, SmartTag.Source.TRAINED)) == ["pants"]
    assert len(frame_thumbnail_urls(state_of(media).file_hash)) == 4, "the frames' thumbnails stay"


@pytest.mark.django_db
def test_audio_media_are_skipped_with_a_reason(django_capture_on_commit_callbacks):
    song = upload_media(django_capture_on_commit_callbacks, encode_audio(), "song.m4a", media_type="audio")
    silent_video = upload_media(django_capture_on_commit_callbacks, encode_audio(), "sound-only.mp4")
    assert state_of(song).status == TaggingState.Status.SKIPPED
    assert "audio file" in state_of(song).error
    assert state_of(silent_video).status == TaggingState.Status.SKIPPED
    assert "no pictures" in state_of(silent_video).error
    assert not smart_tags_by_name(song) and not smart_tags_by_name(silent_video)


@pytest.mark.django_db
def test_bad_videos_are_recorded_and_other_assets_keep_their_tags(garments, django_capture_on_commit_callbacks):
    good = upload_media(django_capture_on_commit_callbacks, photos_video("hat"), "good.mp4")
    before = {name: row.confidence for name, row in smart_tags_by_name(good).items()}
    bad = {
        "corrupt.mp4": b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40,
        "no-frames.mkv": encode_video([], fmt="matroska"),
        "unknown-codec.avi": with_unknown_codec(encode_video(grey_levels(4), "avi", "mpeg4")),
        "empty.mp4": b"",
    }
    for name, data in bad.items():
        media = upload_media(django_capture_on_commit_callbacks, data, name)
        state = state_of(media)
        assert state.status == TaggingState.Status.FAILED, name
        assert state.error and "Traceback" not in state.error, name
        assert not smart_tags_by_name(media)
    long_media = upload_media(django_capture_on_commit_callbacks, long_video()[0], "two-hours.mp4")
    assert state_of(long_media).status == TaggingState.Status.DONE
    assert EmbeddingCache.objects.get(file_hash=state_of(long_media).file_hash).array.shape[0] == 16
    assert {name: row.confidence for name, row in smart_tags_by_name(good).items()} == before


@pytest.mark.django_db
def test_the_tagging_cycle_tags_existing_videos(garments, settings):
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "AUTO_TAG": False}
    media = create_media(photos_video("shoes"), "library.mov")
    assert not TaggingState.objects.filter(object_id=media.pk, status=TaggingState.Status.DONE).exists()
    out = io.StringIO()
    call_command("smarttags_tag", "--kind", "video", stdout=out, stderr=io.StringIO())
    assert state_of(media).status == TaggingState.Status.DONE
    assert list(smart_tags_by_name(media, SmartTag.Source.TRAINED)) == ["shoes"]


@pytest.mark.django_db
def test_videos_are_found_by_their_smart_tags(garments, django_capture_on_commit_callbacks):
    from wagtailmedia.models import get_media_model

    media = upload_media(django_capture_on_commit_callbacks, photos_video("hat"), "clip.mp4")
    upload_media(django_capture_on_commit_callbacks, photos_video("shoes"), "other.mp4")
    results = list(get_media_model().objects.all().search("hat"))
    assert results == [media]


@pytest.mark.django_db
@pytest.mark.cold_cache  # its frames are decoded, not found in the embedding cache: so their thumbnails are kept
def test_video_smart_tags_are_moderated_on_the_smart_tags_screen(
    garments, admin_client, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    from wagtail_smarttags.wagtail_hooks import moderation_url

    media = upload_media(django_capture_on_commit_callbacks, photos_video("hat"), "hats.mov")
    edit_page = admin_client.get(reverse("wagtailmedia:edit", args=(media.pk,))).content.decode()
    assert moderation_url("video", 0) in edit_page and "wagtail_smarttags/moderation.js" in edit_page

    url = moderation_url("video", media.pk)
    hat = smart_tags_by_name(media, SmartTag.Source.TRAINED)["hat"]
    screen = admin_client.get(url).content.decode()
    assert "hat" in screen
    # The video is shown above its smart tags: its title, file, and the media icon (no thumbnail given).
    panel = screen.split("data-smarttags-asset>", 1)[1].split("</figure>", 1)[0]
    assert media.title in panel and "hats" in panel and "icon-media" in panel
    # ...and the four frames the worker sampled and tagged it from, as thumbnails kept by the file's hash.
    frames = screen.split("data-smarttags-frames>", 1)[1].split("</section>", 1)[0]
    assert "The 4 frames it was tagged from" in frames
    urls = re.findall(r'<img src="([^"]+)"', frames)
    folder = frame_folder(state_of(media).file_hash)
    assert urls == [default_storage.url(f"{folder}/{position:02d}.jpg") for position in range(4)]
    with default_storage.open(f"{folder}/00.jpg") as thumbnail:
        assert max(Image.open(thumbnail).size) <= 200
    response = admin_client.post(url, {f"decision_{hat.tag_id}": SmartTag.State.PROMOTED})
    assert response.status_code == 302
    hat.refresh_from_db()
    assert hat.state == SmartTag.State.PROMOTED and list(media.tags.names()) == ["hat"]
