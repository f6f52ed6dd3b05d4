import json

from django.core.management.base import BaseCommand, CommandError

from wagtail_smarttags.models import TrainingVersion
from wagtail_smarttags.training.service import request_training

from ._options import find_tag_model


class Command(BaseCommand):
    help = "Train a tag model from its example images now, and print each tag's cross-validated metrics."

    def add_arguments(self, parser):
        parser.add_argument("model", help="Tag model id or title.")
        parser.add_argument(
            "--background", action="store_true", help="Queue the training for the worker instead of running it here."
        )
        parser.add_argument("--json", action="store_true", help="Print the version's metrics as JSON.")

    def handle(self, model, background=False, json=False, **options):
        tag_model = find_tag_model(model)
        version = request_training(tag_model, run_now=not background)
        if background:
            self.stdout.write(f"Queued training of {tag_model.title!r} as version {version.number}.")
            return
        if version.status != TrainingVersion.Status.SUCCEEDED:
            raise CommandError(f"Training {tag_model.title!r} failed: {version.error}")
        if json:
            self.stdout.write(_json_dumps(version.metrics))
            return
        self.stdout.write(f"{tag_model.title} v{version.number} ({version.backbone_id})")
        self.stdout.write(f"{'tag':<24} {'examples':>8} {'precision':>9} {'recall':>7}  status")
        for tag in version.metrics["tags"].values():
            self.stdout.write(
                f"{tag['name']:<24} {tag['examples']:>8} {_percent(tag.get('precision')):>9} "
                f"{_percent(tag.get('recall')):>7}  {tag['status']}"
            )
        for skipped in version.metrics.get("skipped_examples", []):
            self.stderr.write(f"Skipped example image {skipped['image']}: {skipped['error']}")
        self.stdout.write(self.style.SUCCESS(f"{tag_model.title!r} is trained; version {version.number} is active."))


def _percent(value):
    return "–" if value is None else f"{value:.0%}"


def _json_dumps(value):
    return json.dumps(value, indent=2, sort_keys=True)
