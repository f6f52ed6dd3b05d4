"""Hostile files of every asset type, uploaded through Wagtail's real upload views.

Every upload either succeeds or is refused by Wagtail with a message; every accepted file is
then tagged by the worker's task, which records a readable error on the asset instead of
raising; and a good asset's smart tags never change.
"""

import io
import zipfile

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from wagtail.documents import get_document_model
from wagtail.images import get_image_model

from wagtail_smarttags.models import TaggingState
from wagtail_smarttags.training.service import request_training

from .. import badfiles
from ..datasets import clothing_images
from ..factories import create_tag_model, root_collection
from ..helpers import smart_tags_of
from ..videos import encode_audio, encode_video, grey_levels, long_video, with_unknown_codec

pytestmark = pytest.mark.django_db


def zip_bomb_docx():
    """A DOCX whose document.xml inflates from a few KB to 1 GB of zeros."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            chunk = b"\0" * (1 << 20)
            for _ in range(1024):
                member.write(chunk)
    return buffer.getvalue()


def encrypted_pdf():
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
        b"3 0 obj<</Filter/Standard/V 2/R 3/Length 128/P -4/O(0123456789abcdef0123456789abcdef)"
        b"/U(0123456789abcdef0123456789abcdef)>>endobj\n"
        b"trailer<</Root 1 0 R/Encrypt 3 0 R/ID[<00><00>]>>\n%%EOF\n"
    )


BAD_DOCUMENTS = {
    "empty.txt": b"",
    "binary.txt": bytes(range(256)) * 256,
    "truncated.pdf": b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages",
    "encrypted.pdf": encrypted_pdf(),
    "not-a-zip.docx": b"PK\x03\x04 this is not really a zip archive",
    "zip-bomb.docx": zip_bomb_docx(),
    "garbage.pptx": b"\x00" * 4096,
    "garbage.rtf": b"{\\rtf1 " + b"{" * 50_000,
    "nul-bytes.csv": b"\x00" * 10_000,
    "script.html": b"<html><script>" + b"alert(1);" * 1000 + b"</script></html>",
    "photo-named.srt": badfiles.small_jpeg(),
}


@pytest.fixture
def good_image(admin_client, django_capture_on_commit_callbacks):
    """A real photograph tagged by a trained model: its smart tags must never change."""
    tag_model = create_tag_model("Garments", clothing_images("train", ["hat", "shoes"], per_class=10))
    request_training(tag_model, run_now=True)
    path = clothing_images("validation", ["hat"], per_class=1)["hat"][0]
    response, image_id = upload(admin_client, django_capture_on_commit_callbacks, "wagtailimages", path.name,
                                path.read_bytes())  # fmt: skip
    assert image_id, response
    image = get_image_model().objects.get(pk=image_id)
    assert smart_tags(image), "the good image was tagged"
    return image


def bad_videos():
    clip = encode_video(grey_levels(20), gop=5)
    return {
        "empty.mp4": b"",
        "noise.mp4": b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 400,
        "truncated.mp4": clip[: len(clip) // 3],
        "no-frames.mkv": encode_video([], fmt="matroska"),
        "unknown-codec.avi": with_unknown_codec(encode_video(grey_levels(4), "avi", "mpeg4")),
        "huge-dimensions.avi": encode_video([(10, 20, 30)], "avi", "mjpeg", "yuvj420p", size=(10000, 9000)),
        "photo-named.mov": badfiles.small_jpeg(),
        "pdf-named.mkv": encrypted_pdf(),
        "sound-only.mp4": encode_audio(),
        "two-hours.mp4": long_video(hours=2)[0],
        "header-only.flv": b"FLV\x01\x01\x00\x00\x00\x09\x00\x00\x00\x00",
    }


def upload_video(client, capture, name, data):
    """Through wagtailmedia's own add view: a redirect when saved, the form again with errors when refused."""
    from wagtailmedia.models import get_media_model

    with capture(execute=True):
        response = client.post(
            reverse("wagtailmedia:add", args=("video",)),
            {"title": name, "file": SimpleUploadedFile(name, data), "collection": root_collection().pk},
        )
    if response.status_code == 302:
        return {"success": True}, get_media_model().objects.get(title=name).pk
    return {"success": False, "error_message": response.context["form"].errors.as_text()}, None


def upload(client, capture, app, name, data):
    # Wagtail's own upload form raises on some truncated images (Willow loads them to check their
    # size): that is a 500 from Wagtail before anything is stored, reported here as such.
    client.raise_request_exception = False
    with capture(execute=True):
        http_response = client.post(reverse(f"{app}:add_multiple"), {"files[]": SimpleUploadedFile(name, data)})
    if http_response.status_code == 500:
        return {"success": False, "server_error": True}, None
    response = http_response.json()
    object_id = response.get("image_id") or response.get("doc_id")
    return response, object_id if response.get("success") else None


def media_model():
    from wagtailmedia.models import get_media_model

    return get_media_model()


MODELS = {"wagtailimages": get_image_model, "wagtaildocs": get_document_model, "wagtailmedia": media_model}
FINAL_STATES = (TaggingState.Status.DONE, TaggingState.Status.FAILED, TaggingState.Status.SKIPPED)


def stored_assets():
    return sum(getter().objects.count() for getter in MODELS.values())


def smart_tags(asset):
    rows = smart_tags_of(asset).values_list("tag__name", "label__name", "confidence", "state", "version")
    return sorted(rows, key=lambda row: (row[0] or row[1], row[3]))


def test_hostile_uploads_never_crash_the_worker_or_touch_other_assets(
    admin_client, django_capture_on_commit_callbacks, good_image, tmp_path
):
    before = smart_tags(good_image)
    files = [("wagtailimages", path.name, path.read_bytes()) for path in badfiles.write_all(tmp_path).values()]
    files += [("wagtaildocs", name, data) for name, data in BAD_DOCUMENTS.items()]
    files += [("wagtailmedia", name, data) for name, data in bad_videos().items()]
    assert len(files) >= 30

    outcomes = {"refused": [], "wagtail_error": [], "failed": [], "tagged": []}
    counts = {app: stored_assets() for app in ["all"]}
    for app, name, data in files:
        if app == "wagtailmedia":
            response, object_id = upload_video(admin_client, django_capture_on_commit_callbacks, name, data)
        else:
            response, object_id = upload(admin_client, django_capture_on_commit_callbacks, app, name, data)
        if response.get("server_error"):
            outcomes["wagtail_error"].append(name)
            continue
        if object_id is None:
            assert response.get("error_message"), f"{name} was refused without a message: {response}"
            outcomes["refused"].append(name)
            continue
        model = MODELS[app]()
        state = TaggingState.objects.get(content_type=ContentType.objects.get_for_model(model), object_id=object_id)
        assert state.status in FINAL_STATES, (name, state.status)
        if state.status in (TaggingState.Status.FAILED, TaggingState.Status.SKIPPED):
            assert state.error and "Unexpected error" not in state.error, (name, state.error)
            outcomes["failed"].append(name)
        else:
            outcomes["tagged"].append(name)

    assert smart_tags(good_image) == before
    stored = stored_assets() - counts["all"]
    assert stored == len(outcomes["failed"]) + len(outcomes["tagged"]), "refused uploads store nothing"
    print(
        f"{len(files)} hostile files: {len(outcomes['refused'])} refused by Wagtail's upload form with a message, "
        f"{len(outcomes['wagtail_error'])} raised inside Wagtail's form ({', '.join(outcomes['wagtail_error'])}), "
        f"{len(outcomes['failed'])} accepted and recorded as failed or skipped, "
        f"{len(outcomes['tagged'])} decoded safely"
    )
    videos = set(bad_videos())
    print("videos: " + ", ".join(f"{outcome} {sorted(set(names) & videos)}" for outcome, names in outcomes.items()))
    assert outcomes["failed"], "some hostile files must get past Wagtail's form and be caught by the worker"
