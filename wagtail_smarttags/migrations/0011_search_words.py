"""The word index of tag and label names that search looks terms up in, filled from the existing names."""

import re

import django.db.models.deletion
from django.db import migrations, models

APP = "wagtail_smarttags"


def words_of(name):
    # As search.words.split_words at the time of this migration.
    return list(dict.fromkeys(word.lower()[:100] for word in re.findall(r"\w+", name or "")))


def index_existing_names(apps, schema_editor):
    SearchWord = apps.get_model(APP, "SearchWord")
    for model, owner in ((apps.get_model("taggit", "Tag"), "tag_id"), (apps.get_model(APP, "SmartTagLabel"), "label_id")):
        rows = []
        for pk, name in model.objects.values_list("pk", "name").iterator(chunk_size=5000):
            rows += [SearchWord(word=word, **{owner: pk}) for word in words_of(name)]
            if len(rows) >= 5000:
                SearchWord.objects.bulk_create(rows)
                rows = []
        SearchWord.objects.bulk_create(rows)


class Migration(migrations.Migration):
    dependencies = [
        ("taggit", "0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx"),
        (APP, "0010_tagging_error_record"),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchWord",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("word", models.CharField(db_index=True, max_length=100)),
                (
                    "label",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="wagtail_smarttags.smarttaglabel",
                    ),
                ),
                (
                    "tag",
                    models.ForeignKey(
                        blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="taggit.tag"
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("label__isnull", True), ("tag__isnull", False)),
                            models.Q(("label__isnull", False), ("tag__isnull", True)),
                            _connector="OR",
                        ),
                        name="smarttags_word_of_tag_or_label",
                    )
                ],
            },
        ),
        migrations.RunPython(index_existing_names, migrations.RunPython.noop),
    ]
