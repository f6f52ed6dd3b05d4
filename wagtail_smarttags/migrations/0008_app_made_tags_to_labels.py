"""Give the site's vocabulary back to its editors.

Earlier releases made a taggit tag of every document keyword and generic label. A tag that nothing
but such smart tags uses (no asset, page or snippet is tagged with it, no tag model decides it, no
training example names it) was made by the app: it becomes one of the app's labels, its smart tags
keep their confidence, state and decision and point at the label, and the tag is deleted, so that the
tag autocomplete stops suggesting it and keyword scoring stops favouring it. Search matches labels as
it matches tags, so every search finds what it found before.
"""

from django.db import migrations
from django.utils.text import slugify

APP = "wagtail_smarttags"


def _tags_used_elsewhere(apps, Tag, SmartTag):
    """Ids of the tags that anything but the app's keyword and generic smart tags points at."""
    used = set(SmartTag.objects.filter(source="trained").values_list("tag_id", flat=True))
    for model in apps.get_models():
        if model is SmartTag:
            continue
        for field in model._meta.concrete_fields:
            if field.many_to_one and field.related_model is Tag:
                used.update(model.objects.exclude(**{field.name: None}).values_list(field.attname, flat=True))
    return used


def app_made_tags_to_labels(apps, schema_editor):
    Tag = apps.get_model("taggit", "Tag")
    SmartTag = apps.get_model(APP, "SmartTag")
    SmartTagLabel = apps.get_model(APP, "SmartTagLabel")
    used = _tags_used_elsewhere(apps, Tag, SmartTag)
    candidates = (
        SmartTag.objects.filter(source__in=["generic", "text"], tag__isnull=False)
        .exclude(tag_id__in=used)
        .values_list("tag_id", flat=True)
        .distinct()
    )
    for tag in Tag.objects.filter(pk__in=list(candidates)):
        label = SmartTagLabel.objects.filter(name__iexact=tag.name).first() or SmartTagLabel.objects.create(
            name=tag.name
        )
        SmartTag.objects.filter(tag=tag).update(label=label, tag=None)
        tag.delete()


def labels_to_tags(apps, schema_editor):
    """Backwards: every label becomes a taggit tag again, as before this release."""
    Tag = apps.get_model("taggit", "Tag")
    SmartTag = apps.get_model(APP, "SmartTag")
    SmartTagLabel = apps.get_model(APP, "SmartTagLabel")
    for label in SmartTagLabel.objects.all():
        tag = Tag.objects.filter(name__iexact=label.name).first()
        if tag is None:
            slug, number = slugify(label.name, allow_unicode=True) or "tag", 1
            while Tag.objects.filter(slug=slug).exists():
                number += 1
                slug = f"{slugify(label.name, allow_unicode=True) or 'tag'}_{number}"
            tag = Tag.objects.create(name=label.name, slug=slug)
        for row in SmartTag.objects.filter(label=label):
            if SmartTag.objects.filter(content_type_id=row.content_type_id, object_id=row.object_id, tag=tag).exists():
                row.delete()
            else:
                SmartTag.objects.filter(pk=row.pk).update(tag=tag, label=None)
        label.delete()


class Migration(migrations.Migration):
    dependencies = [
        (APP, "0007_smart_tag_labels"),
        ("taggit", "0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx"),
    ]

    operations = [migrations.RunPython(app_made_tags_to_labels, labels_to_tags)]
