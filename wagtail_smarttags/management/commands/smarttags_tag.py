import sys

from django.core.management.base import BaseCommand, CommandError

from wagtail_smarttags.assets import content_type_for, get_asset_models
from wagtail_smarttags.conf import get_setting
from wagtail_smarttags.cycles import Progress, run_cycle, tag_one_by_one


class Command(BaseCommand):
    help = (
        "Run a tagging cycle now, in this process: tag every asset never tagged, pending, whose file changed, "
        "that a retrained tag model has not seen, or last tagged longer ago than CYCLE_RETAG_AFTER. "
        "Interrupted, it resumes where it stopped. Or name assets as KIND:ID (e.g. image:12)."
    )

    def add_arguments(self, parser):
        parser.add_argument("assets", nargs="*", help="Assets to tag, as KIND:ID (KIND: image, document, video).")
        parser.add_argument("--all", action="store_true", help="Re-tag every asset.")
        parser.add_argument("--failed", action="store_true", help="Also retry assets whose tagging failed.")
        parser.add_argument("--kind", choices=["image", "document", "video"], help="Only assets of this kind.")
        parser.add_argument(
            "--no-age-limit", action="store_true", help="Skip unaltered assets however long ago they were tagged."
        )

    def handle(self, assets, all=False, failed=False, kind=None, no_age_limit=False, verbosity=1, **options):
        if assets:
            outcome = {}
            for content_type, object_id in self._named(assets):
                for status, count in tag_one_by_one(content_type, [object_id]).items():
                    outcome[status] = outcome.get(status, 0) + count
        else:
            from wagtail_smarttags.cycles import due_assets

            older_than = None if no_age_limit else get_setting("CYCLE_RETAG_AFTER")
            kinds = [kind] if kind else None
            total = sum(
                len(ids)
                for _, _, ids in due_assets(kinds, older_than=older_than, everything=all, include_failed=failed)
            )
            progress = Progress(total, self.stderr._out, interactive=sys.stderr.isatty()) if verbosity else None
            outcome = run_cycle(
                kinds, older_than=older_than, everything=all, include_failed=failed, progress=progress
            )
            if progress:
                progress.finish()
        summary = ", ".join(f"{count} {status}" for status, count in sorted(outcome.items())) or "nothing to do"
        self.stdout.write(self.style.SUCCESS(f"Tagged {sum(outcome.values())} assets: {summary}."))

    def _named(self, names):
        models = get_asset_models()
        targets = []
        for name in names:
            kind, _, object_id = name.partition(":")
            if kind not in models or not object_id.isdigit():
                raise CommandError(f"{name!r} is not KIND:ID with KIND one of {', '.join(models)}.")
            targets.append((content_type_for(models[kind]), int(object_id)))
        return targets
