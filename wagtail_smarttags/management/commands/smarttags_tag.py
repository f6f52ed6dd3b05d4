from collections import Counter

from django.core.management.base import BaseCommand, CommandError

from wagtail_smarttags.assets import content_type_for, get_asset_models
from wagtail_smarttags.models import TaggingState
from wagtail_smarttags.tagging import tag_asset


class Command(BaseCommand):
    help = (
        "Tag assets now, in this process: by default those that are pending or have never been tagged; "
        "--failed retries failed ones, --all re-tags everything, or name assets as KIND:ID (e.g. image:12)."
    )

    def add_arguments(self, parser):
        parser.add_argument("assets", nargs="*", help="Assets to tag, as KIND:ID (KIND: image, document, video).")
        parser.add_argument("--all", action="store_true", help="Re-tag every asset.")
        parser.add_argument("--failed", action="store_true", help="Also retry assets whose tagging failed.")
        parser.add_argument("--kind", choices=["image", "document", "video"], help="Only assets of this kind.")

    def handle(self, assets, all=False, failed=False, kind=None, verbosity=1, **options):
        targets = self._named(assets) if assets else self._selected(all, failed, kind)
        outcomes = Counter()
        for index, (content_type, object_id) in enumerate(targets, start=1):
            status = tag_asset(content_type.pk, object_id)
            outcomes[status] += 1
            if verbosity > 1:
                self.stdout.write(f"[{index}/{len(targets)}] {content_type.model} {object_id}: {status}")
        summary = ", ".join(f"{count} {status}" for status, count in sorted(outcomes.items())) or "nothing to do"
        self.stdout.write(self.style.SUCCESS(f"Tagged {len(targets)} assets: {summary}."))

    def _named(self, names):
        models = get_asset_models()
        targets = []
        for name in names:
            kind, _, object_id = name.partition(":")
            if kind not in models or not object_id.isdigit():
                raise CommandError(f"{name!r} is not KIND:ID with KIND one of {', '.join(models)}.")
            targets.append((content_type_for(models[kind]), int(object_id)))
        return targets

    def _selected(self, everything, failed, only_kind):
        statuses = [TaggingState.Status.PENDING] + ([TaggingState.Status.FAILED] if failed else [])
        targets = []
        for kind, model in get_asset_models().items():
            if only_kind and kind != only_kind:
                continue
            content_type = content_type_for(model)
            ids = model._default_manager.order_by("pk").values_list("pk", flat=True)
            if not everything:
                states = TaggingState.objects.filter(content_type=content_type)
                settled = states.exclude(status__in=statuses).values_list("object_id", flat=True)
                ids = ids.exclude(pk__in=settled)
            targets += [(content_type, object_id) for object_id in ids]
        return targets
