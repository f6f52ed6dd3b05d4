import sys

from django.core.management.base import BaseCommand, CommandError

from wagtail_smarttags.conf import get_setting
from wagtail_smarttags.pipeline.cycles import Progress, due_assets, run_cycle
from wagtail_smarttags.pipeline.kinds import get_asset_kinds
from wagtail_smarttags.pipeline.tagging import tag_assets


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
        parser.add_argument("--kind", help="Only assets of this kind (image, document, video).")
        parser.add_argument(
            "--no-age-limit", action="store_true", help="Skip unaltered assets however long ago they were tagged."
        )

    def handle(self, assets, all=False, failed=False, kind=None, no_age_limit=False, verbosity=1, **options):
        if kind and kind not in get_asset_kinds():
            raise CommandError(f"--kind must be one of {', '.join(get_asset_kinds())}, not {kind!r}.")
        if assets:
            outcome = {}
            for asset_kind, object_ids in self._named(assets).items():
                for status, count in tag_assets(asset_kind, object_ids).items():
                    outcome[status] = outcome.get(status, 0) + count
        else:
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
        """``{kind: [object ids]}`` from ``KIND:ID`` arguments."""
        kinds = get_asset_kinds()
        targets = {}
        for name in names:
            kind, _, object_id = name.partition(":")
            if kind not in kinds or not object_id.isdigit():
                raise CommandError(f"{name!r} is not KIND:ID with KIND one of {', '.join(kinds)}.")
            targets.setdefault(kinds[kind], []).append(int(object_id))
        return targets
