from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_smarttags", "0009_scheduled_runs"),
    ]

    operations = [
        migrations.AddField(
            model_name="taggingstate",
            name="error_record",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
