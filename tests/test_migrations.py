"""Data migrations keep what sites already have."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

APP = "wagtail_smarttags"


@pytest.mark.django_db(transaction=True)
def test_versions_trained_before_previews_count_as_activated():
    executor = MigrationExecutor(connection)
    executor.migrate([(APP, "0004_stable_smart_tags")])
    old = executor.loader.project_state([(APP, "0004_stable_smart_tags")]).apps
    TagModel, TrainingVersion = old.get_model(APP, "TagModel"), old.get_model(APP, "TrainingVersion")
    tag_model = TagModel.objects.create(title="Garments")
    trained = TrainingVersion.objects.create(tag_model=tag_model, number=1, status="succeeded")
    TrainingVersion.objects.filter(pk=trained.pk).update(finished_at=trained.created_at)
    failed = TrainingVersion.objects.create(tag_model=tag_model, number=2, status="failed")

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes(APP))
    from wagtail_smarttags.models import TrainingVersion as CurrentVersion

    assert CurrentVersion.objects.get(pk=trained.pk).activated_at == trained.created_at
    assert CurrentVersion.objects.get(pk=failed.pk).activated_at is None
    assert CurrentVersion.objects.get(pk=trained.pk).activate_when_trained is True
