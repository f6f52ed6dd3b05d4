"""Faults injected for real: concurrent taggers, a retrain landing mid-tagging, a worker killed mid-task."""

import os
import signal
import threading

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django_q.conf import Conf
from django_q.models import OrmQ

from wagtail_smarttags.models import SmartTag, TaggingState
from wagtail_smarttags.pipeline.tagging import tag_asset
from wagtail_smarttags.training.service import request_training

from ..datasets import clothing_images
from ..factories import create_image, create_tag_model
from ..helpers import assert_tagged_by_active_version
from ..workers import running_worker, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("pixel_backbone")]


@pytest.fixture
def garments(settings):
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "AUTO_TAG": False}
    tag_model = create_tag_model("Garments", clothing_images("train", ["hat", "shoes"], per_class=10))
    request_training(tag_model, run_now=True)
    tag_model.refresh_from_db()
    return tag_model


def in_threads(*targets):
    errors = []

    def run(target):
        try:
            target()
        except Exception as error:  # reported below: a thread's exception would otherwise vanish
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors


def applied_by_model(image, tag_model):
    return list(
        SmartTag.objects.filter(
            content_type=ContentType.objects.get_for_model(image), object_id=image.pk, tag_model=tag_model
        ).values_list("tag__name", "version", "state")
    )


def test_two_workers_tagging_the_same_asset_at_once(garments):
    image = create_image(clothing_images("validation", ["hat"], per_class=1)["hat"][0])
    content_type_id = ContentType.objects.get_for_model(image).pk
    in_threads(*[lambda: tag_asset(content_type_id, image.pk)] * 2)
    assert applied_by_model(image, garments) == [("hat", garments.active_version_id, "applied")]
    state = TaggingState.objects.get(content_type_id=content_type_id, object_id=image.pk)
    assert state.status == TaggingState.Status.DONE and state.attempts == 2


def test_a_retrain_finishing_while_assets_are_tagged(garments):
    images = [create_image(p) for ps in clothing_images("validation", ["hat", "shoes"], 4).values() for p in ps]
    content_type_id = ContentType.objects.get_for_model(images[0]).pk

    def tag_all():
        for image in images:
            tag_asset(content_type_id, image.pk)

    in_threads(tag_all, lambda: request_training(garments, run_now=True))
    garments.refresh_from_db()
    assert garments.active_version.number == 2
    assert_tagged_by_active_version(images, garments)
    assert sum(len(applied_by_model(image, garments)) for image in images) >= 6


def test_a_worker_killed_mid_task_is_retried_with_the_same_result(garments, monkeypatch):
    path = clothing_images("validation", ["shoes"], per_class=1)["shoes"][0]
    reference = create_image(path, title="reference")
    tag_asset(ContentType.objects.get_for_model(reference).pk, reference.pk)
    expected = [(name, state) for name, _, state in applied_by_model(reference, garments)]

    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "ORM", "default")
    from django.test import override_settings

    with override_settings(WAGTAIL_SMARTTAGS={**garments_settings(), "AUTO_TAG": True}):
        image = create_image(path.read_bytes(), name="killed.jpg")
    state = TaggingState.objects.filter(object_id=image.pk, content_type=ContentType.objects.get_for_model(image))
    retry = {"SMARTTAGS_TEST_RETRY": "20"}
    with running_worker(extra_env=retry) as worker:
        # Kill the whole worker tree the moment it takes the task off the queue.
        assert wait_until(lambda: OrmQ.objects.filter(lock__isnull=False).exists(), interval=0.05, worker=worker)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    with running_worker(extra_env=retry) as worker:
        assert wait_until(lambda: state.filter(status=TaggingState.Status.DONE).exists(), worker=worker), (
            "the killed task was not retried"
        )
    assert [(name, s) for name, _, s in applied_by_model(image, garments)] == expected
    # Generic tags too: the same file gets the same smart tags, none twice.
    assert all_smart_tags(image) == all_smart_tags(reference)


def all_smart_tags(image):
    rows = SmartTag.objects.filter(content_type=ContentType.objects.get_for_model(image), object_id=image.pk)
    return sorted((row.name, row.source, row.state) for row in rows.select_related("tag", "label"))


def garments_settings():
    from django.conf import settings

    return settings.WAGTAIL_SMARTTAGS


