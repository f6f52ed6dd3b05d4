"""Tagging cycles: complete backfill, incremental re-tagging, resuming, and pausing when the backbone fails."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.utils import timezone
from wagtail.images import get_image_model

from wagtail_smarttags.conf import get_setting
from wagtail_smarttags.models import SmartTag, TaggingState
from wagtail_smarttags.pipeline import cycles
from wagtail_smarttags.training.service import request_training

from ..datasets import clothing_images
from ..factories import create_image, create_tag_model

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pixel_backbone")]


@pytest.fixture
def library(settings):
    """A library that existed before the app was installed: nothing queued, nothing tagged."""
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "AUTO_TAG": False}
    tag_model = create_tag_model("Garments", clothing_images("train", ["hat", "shoes"], per_class=10))
    request_training(tag_model, run_now=True)
    unseen = clothing_images("validation", ["hat", "shoes"], per_class=2)
    images = [create_image(path) for paths in unseen.values() for path in paths]
    return tag_model, images


def states(images):
    content_type = ContentType.objects.get_for_model(get_image_model())
    return TaggingState.objects.filter(content_type=content_type, object_id__in=[i.pk for i in images])


def due_image_ids():
    return [ids for kind, _, ids in cycles.due_assets(older_than=get_setting("CYCLE_RETAG_AFTER")) if kind == "image"]


def test_backfill_tags_the_whole_existing_library_with_progress(library):
    tag_model, images = library
    out, err = StringIO(), StringIO()
    call_command("smarttags_tag", stdout=out, stderr=err)
    # The 20 examples are library images too: the cycle tags them as well.
    assert "Tagged 24 assets: 24 done." in out.getvalue()
    assert "24/24" in err.getvalue()
    assert set(states(images).values_list("status", flat=True)) == {"done"}
    assert SmartTag.objects.filter(object_id__in=[i.pk for i in images], tag_model=tag_model).count() >= 3


def test_an_interrupted_cycle_resumes_where_it_stopped(library, settings):
    _, images = library
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "BATCH_SIZE": 4}

    class Interrupt:
        done = 0

        def advance(self, count):
            self.done += count
            if self.done >= 8:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cycles.run_cycle(progress=Interrupt())
    finished = TaggingState.objects.filter(status="done").count()
    assert finished == 8
    first_times = dict(TaggingState.objects.filter(status="done").values_list("object_id", "tagged_at"))

    outcome = cycles.run_cycle()
    assert outcome == {"done": 24 - 8}
    assert dict(TaggingState.objects.filter(object_id__in=first_times).values_list("object_id", "tagged_at")) == (
        first_times
    ), "assets done before the interruption are not tagged again"


def test_later_cycles_retag_only_what_changed(library, django_capture_on_commit_callbacks):
    tag_model, images = library
    cycles.run_cycle()
    assert due_image_ids() == []

    # A file replaced behind the app's back (no save signal) is noticed by the next cycle.
    get_image_model().objects.filter(pk=images[0].pk).update(file="original_images/replaced.jpg")
    assert due_image_ids() == [[images[0].pk]]
    get_image_model().objects.filter(pk=images[0].pk).update(file=images[0].file.name)

    # A retrained model whose library re-tag never ran (its task was lost) makes every image due.
    request_training(tag_model, run_now=True)
    assert len(due_image_ids()[0]) == 24
    cycles.run_cycle()
    assert due_image_ids() == []
    latest = {str(tag_model.pk): tag_model.versions.get(number=2).pk}
    assert all(versions == latest for versions in states(images).values_list("model_versions", flat=True))


def test_unaltered_assets_are_retagged_after_the_age_limits(library):
    _, images = library
    cycles.run_cycle()
    states(images[:1]).update(tagged_at=timezone.now() - timedelta(hours=25))
    assert due_image_ids() == [[images[0].pk]]
    assert cycles.due_assets(older_than=get_setting("SCHEDULED_RETAG_AFTER")) == []

    states(images[:1]).update(tagged_at=timezone.now() - timedelta(days=200))
    [(kind, _, ids)] = cycles.due_assets(older_than=get_setting("SCHEDULED_RETAG_AFTER"))
    assert (kind, ids) == ("image", [images[0].pk])
    assert cycles.run_scheduled_cycle() == {"done": 1}


def test_a_backbone_that_fails_to_load_pauses_tagging_without_failing_uploads(
    settings, tmp_path, django_capture_on_commit_callbacks
):
    working = settings.WAGTAIL_SMARTTAGS
    settings.WAGTAIL_SMARTTAGS = {
        **working,
        "IMAGE_BACKBONE": {
            "BACKEND": "open_clip",
            "OPTIONS": {"model_name": "ViT-S-32", "pretrained": str(tmp_path / "missing-checkpoint.bin")},
        },
    }
    path = clothing_images("validation", ["hat"], per_class=1)["hat"][0]
    with django_capture_on_commit_callbacks(execute=True):
        image = create_image(path)
    assert get_image_model().objects.filter(pk=image.pk).exists()
    state = states([image]).get()
    assert state.status == TaggingState.Status.PENDING
    assert state.error.startswith("Tagging is paused:")
    assert "missing-checkpoint.bin" in state.error

    settings.WAGTAIL_SMARTTAGS = working
    call_command("smarttags_tag", stdout=StringIO(), stderr=StringIO())
    assert states([image]).get().status == TaggingState.Status.DONE
