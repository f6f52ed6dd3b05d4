from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_smarttags", "0002_smarttag_search_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="embeddingcache",
            name="labels",
            field=models.JSONField(blank=True, default=list),
        ),
    ]
