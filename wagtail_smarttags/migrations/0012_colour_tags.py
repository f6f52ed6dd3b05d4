from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_smarttags", "0011_search_words"),
    ]

    operations = [
        # Null on every row cached so far: with colour tags on, each file is decoded once more at its next
        # tagging, and gets its colours then.
        migrations.AddField(
            model_name="embeddingcache",
            name="colours",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="smarttag",
            name="source",
            field=models.CharField(
                choices=[
                    ("trained", "Trained tag model"),
                    ("generic", "Generic"),
                    ("text", "Text keywords"),
                    ("colour", "Colour"),
                ],
                max_length=16,
            ),
        ),
    ]
