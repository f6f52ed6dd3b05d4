"""The worker's batches: one upload task tags every pending asset of its kind, claims keep two workers
apart, and a batch holds no more than its count and bytes allow."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from wagtail.images import get_image_model

from wagtail_smarttags import tasks
from wagtail_smarttags.models import TaggingState
from wagtail_smarttags.pipeline.kinds import IMAGE, get_asset_kind
from wagtail_smarttags.pipeline.tagging import CLAIM_LEASE_SECONDS, tag_assets
from wagtail_smarttags.signal_handlers import mark_pending

from ..datasets import clothing_images
from ..factories import create_image
from ..helpers import state_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pixel_backbone")]


@pytest.fixture
def uploads(settings):
    """Six photos uploaded while no worker ran: pending, one task queued for each."""
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "AUTO_TAG": False}
    paths = clothing_images("validation", ["hat", "shoes"], per_class=3)
    images = [create_image(path) for group in paths.values() for path in group]
    content_type = ContentType.objects.get_for_model(get_image_model())
    for image in images:
        mark_pending(content_type, image.pk, image.file.name)
    return content_type, images


def statuses(images):
    return [state_of(image).status for image in images]


def test_one_upload_task_tags_every_pending_asset_and_the_others_return_at_once(uploads):
    content_type, images = uploads
    assert tasks.tag_asset.call(content_type.pk, images[0].pk) == TaggingState.Status.DONE
    assert statuses(images) == [TaggingState.Status.DONE] * 6
    for image in images[1:]:
        assert tasks.tag_asset.call(content_type.pk, image.pk) == TaggingState.Status.DONE
    assert [state_of(image).attempts for image in images] == [1] * 6, "each asset was tagged once"
    assert all(state_of(image).claimed_at is None for image in images)


def test_assets_another_worker_claimed_are_left_to_it_until_its_claim_lapses(uploads):
    content_type, images = uploads
    now = timezone.now()
    TaggingState.objects.filter(object_id__in=[images[1].pk, images[2].pk]).update(claimed_at=now)
    lapsed = now - timezone.timedelta(seconds=CLAIM_LEASE_SECONDS + 1)
    TaggingState.objects.filter(object_id=images[3].pk).update(claimed_at=lapsed)
    tasks.tag_asset.call(content_type.pk, images[0].pk)
    assert statuses(images) == ["done", "pending", "pending", "done", "done", "done"]
    # A claimed asset's own task still tags it: its worker may have died holding the claim.
    assert tasks.tag_asset.call(content_type.pk, images[1].pk) == TaggingState.Status.DONE


def test_batches_hold_no_more_than_their_count_and_bytes(uploads, settings):
    _, images = uploads

    class Batches:
        sizes = []

        def advance(self, count):
            self.sizes.append(count)

    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "BATCH_SIZE": 4}
    tag_assets(get_asset_kind(IMAGE), [image.pk for image in images], Batches())
    assert Batches.sizes == [4, 2]
    Batches.sizes = []
    smallest = min(image.file.size for image in images)
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "BATCH_SIZE": 4, "BATCH_MAX_BYTES": smallest}
    tag_assets(get_asset_kind(IMAGE), [image.pk for image in images], Batches())
    assert Batches.sizes == [1] * 6, "a file as large as the byte bound closes its batch"
    assert statuses(images) == [TaggingState.Status.DONE] * 6
