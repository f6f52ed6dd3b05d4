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


@pytest.mark.django_db(transaction=True)
def test_tags_only_the_app_used_become_labels_with_their_smart_tags_and_decisions(settings):
    from django.contrib.contenttypes.models import ContentType
    from wagtail.images import get_image_model

    from .factories import create_image, solid_image_bytes

    # As a site at 0007 would be: colour tags came with 0012.
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "COLOUR_TAGS": False}
    image = create_image(solid_image_bytes(), title="Poster", name="poster.png")  # with today's models
    executor = MigrationExecutor(connection)
    executor.migrate([(APP, "0007_smart_tag_labels")])
    old = executor.loader.project_state([(APP, "0007_smart_tag_labels")]).apps
    Tag, SmartTag = old.get_model("taggit", "Tag"), old.get_model(APP, "SmartTag")
    content_type = ContentType.objects.get_for_model(get_image_model()).pk
    made_by_the_app = Tag.objects.create(name="African rock python", slug="african-rock-python")
    a_keyword = Tag.objects.create(name="report looks", slug="report-looks")
    editors = Tag.objects.create(name="poster", slug="poster")
    old.get_model("taggit", "TaggedItem").objects.create(tag=editors, content_type_id=content_type, object_id=image.pk)
    rows = {
        "generic": SmartTag.objects.create(content_type_id=content_type, object_id=image.pk, tag=made_by_the_app,
                                           confidence=0.6, source="generic", state="removed"),
        "text": SmartTag.objects.create(content_type_id=content_type, object_id=image.pk, tag=a_keyword,
                                        confidence=0.5, source="text", state="applied"),
        "editors": SmartTag.objects.create(content_type_id=content_type, object_id=image.pk, tag=editors,
                                           confidence=0.7, source="generic", state="applied"),
    }  # fmt: skip

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes(APP))
    from taggit.models import Tag as CurrentTag

    from wagtail_smarttags.models import SmartTag as CurrentSmartTag

    assert sorted(CurrentTag.objects.values_list("name", flat=True)) == ["poster"]
    moved = {key: CurrentSmartTag.objects.select_related("tag", "label").get(pk=row.pk) for key, row in rows.items()}
    assert (moved["generic"].label.name, moved["generic"].tag, moved["generic"].state) == (
        "African rock python", None, "removed"
    )
    assert (moved["text"].label.name, moved["text"].confidence) == ("report looks", 0.5)
    assert moved["editors"].tag.name == "poster" and moved["editors"].label is None
    # 0011 indexed the words of the names that were there, so that search finds them as before.
    from wagtail_smarttags.search.words import names_matching_terms

    tags, labels = names_matching_terms(["python", "poster", "looks"])
    assert tags == {moved["editors"].tag_id: {1}}
    assert labels == {moved["generic"].label_id: {0}, moved["text"].label_id: {2}}
