from django.db.models.signals import post_delete, post_migrate, post_save, pre_delete

from .conf import get_setting
from .models import SmartTag, SmartTagLabel, TaggingState, TagModel
from .pipeline.kinds import content_type_for, file_identity, get_asset_models
from .queues import enqueue_on_commit

TAG_ASSET_TASK = "wagtail_smarttags.tasks.tag_asset"


def queue_tagging_on_save(sender, instance, created=False, raw=False, update_fields=None, **kwargs):
    """Queue a new asset, or one whose file was replaced, for tagging once the save commits."""
    if raw or not get_setting("AUTO_TAG") or not instance.file:
        return
    if update_fields is not None and "file" not in update_fields:
        return
    content_type = content_type_for(type(instance))
    file_name, file_hash = file_identity(instance)
    state = TaggingState.objects.filter(content_type=content_type, object_id=instance.pk).first()
    if state is not None and not created and not _file_changed(state, file_name, file_hash):
        return
    mark_pending(content_type, instance.pk, file_name, file_hash)
    enqueue_on_commit(TAG_ASSET_TASK, content_type.pk, instance.pk)


def _file_changed(state, file_name, file_hash):
    if file_name != state.file_name:
        return True
    return bool(file_hash and state.file_hash and file_hash != state.file_hash)


def mark_pending(content_type, object_id, file_name="", file_hash=""):
    from django.utils import timezone

    TaggingState.objects.update_or_create(
        content_type=content_type,
        object_id=object_id,
        defaults={
            **TaggingState.outcome(TaggingState.Status.PENDING),
            "file_name": file_name,
            "file_hash": file_hash,
            "queued_at": timezone.now(),
        },
    )


def forget_deleted_asset(sender, instance, **kwargs):
    content_type = content_type_for(type(instance))
    SmartTag.objects.filter(content_type=content_type, object_id=instance.pk).delete()
    TaggingState.objects.filter(content_type=content_type, object_id=instance.pk).delete()


def forget_tags_of_deleted_tag_model(sender, instance, **kwargs):
    """A deleted tag model takes its applied smart tags along; editors' decisions on them stay."""
    from .search.index import indexes_smart_tags, reindex_on_commit

    applied = SmartTag.objects.filter(tag_model=instance, state=SmartTag.State.APPLIED)
    indexed = [model for model in get_asset_models().values() if indexes_smart_tags(model)]
    affected = {model: list(applied.for_model(model).values_list("object_id", flat=True)) for model in indexed}
    applied.delete()
    for model, object_ids in affected.items():
        reindex_on_commit(model, object_ids)


def adopt_labels_named_like(sender, instance, raw=False, **kwargs):
    """A taggit tag was created or renamed: the app's label of that name, if any, becomes it."""
    if not raw:
        from .vocabulary import adopt_labels

        adopt_labels(instance)


def index_name_words(sender, instance, **kwargs):
    """A taggit tag or a label was saved: search finds it by the words of its name (fixtures too)."""
    from .search.words import index_words

    index_words(instance)


def register_signal_handlers():
    from django.apps import apps
    from taggit.models import Tag

    pre_delete.connect(forget_tags_of_deleted_tag_model, sender=TagModel, dispatch_uid="smarttags_tag_model_deleted")
    post_save.connect(adopt_labels_named_like, sender=Tag, dispatch_uid="smarttags_tag_saved")
    post_save.connect(index_name_words, sender=Tag, dispatch_uid="smarttags_tag_words")
    post_save.connect(index_name_words, sender=SmartTagLabel, dispatch_uid="smarttags_label_words")
    post_migrate.connect(
        schedule_periodic_cycle, sender=apps.get_app_config("wagtail_smarttags"), dispatch_uid="smarttags_schedule"
    )
    for kind, model in get_asset_models().items():
        post_save.connect(queue_tagging_on_save, sender=model, dispatch_uid=f"wagtail_smarttags_{kind}_saved")
        post_delete.connect(forget_deleted_asset, sender=model, dispatch_uid=f"wagtail_smarttags_{kind}_deleted")


def schedule_periodic_cycle(sender, **kwargs):
    """Make sure the configured task queue runs the periodic tagging cycle once a day."""
    from .queues import schedule_periodic_cycle

    schedule_periodic_cycle()
