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
        parser.add_argument(
            "--preview",
            action="store_true",
            help="Do not activate the new version: work out what it would change in the library and leave it "
            "for an editor to activate or discard in the admin.",
        )
        parser.add_argument("--json", action="store_true", help="Print the version's metrics (and preview) as JSON.")

    def handle(self, model, background=False, json=False, preview=False, **options):
        tag_model = find_tag_model(model)
        version = request_training(tag_model, run_now=not background, activate=not preview)
        if background:
            self.stdout.write(f"Queued training of {tag_model.title!r} as version {version.number}.")
            return
        if version.status != TrainingVersion.Status.SUCCEEDED:
            raise CommandError(f"Training {tag_model.title!r} failed: {version.error}")
        if json:
            shown = {**version.metrics, "preview": version.preview} if preview else version.metrics
            self.stdout.write(_json_dumps(shown))
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
        if preview:
            self._write_preview(version)
            self.stdout.write(
                self.style.SUCCESS(
                    f"{tag_model.title!r} is trained; version {version.number} waits to be activated or discarded."
                )
            )
            return
        self.stdout.write(self.style.SUCCESS(f"{tag_model.title!r} is trained; version {version.number} is active."))

    def _write_preview(self, version):
        preview = version.preview or {}
        if preview.get("status") != "ready":
            self.stderr.write(f"No preview: {preview.get('error', 'it could not be worked out')}")
            return
        self.stdout.write(
            f"Activating it would change {preview['changed']} of {preview['assets']} embedded images and videos "
            f"({preview['not_embedded']} not embedded yet):"
        )
        self.stdout.write(f"{'tag':<24} {'gain':>7} {'lose':>7} {'keep':>7}")
        for tag in preview["tags"].values():
            self.stdout.write(f"{tag['name']:<24} {tag['gain']:>7} {tag['lose']:>7} {tag['keep']:>7}")


def _percent(value):
    return "–" if value is None else f"{value:.0%}"


def _json_dumps(value):
    return json.dumps(value, indent=2, sort_keys=True)
