"""What activating a trained version would do to the library, worked out before it does it.

The preview runs the version over every tagged image and video whose embedding is cached, exactly as
the re-tag after activation would (the pipeline's decide step, then the writer's rules: an editor's
decision is never changed, another source's tag is left alone, generic tags on the model's own tags
are taken over), and counts per tag the assets that would gain it, lose it or keep it. Nothing is
decoded or embedded, and nothing is written but the preview itself, on the version.

Each tag keeps a few sample assets of what it would gain and lose: a seeded reservoir bounds the
memory at any library size, and the samples shown are spread over the confidences, so the editor
sees the doubtful gains beside the sure ones.
"""

import logging
import random

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext

from ..models import SmartTag, TaggingState, TrainingVersion
from ..pipeline.deciding import decide
from ..pipeline.kinds import content_type_for, get_asset_kinds
from ..pipeline.loading import classifier_for, get_backbone
from ..pipeline.tagging import cached_chunks
from ..pipeline.writing import Writer, existing_rows

logger = logging.getLogger(__name__)

#: Sample assets shown per tag for what it would gain and for what it would lose.
SAMPLES_SHOWN = 8
#: Candidates kept per tag and direction, from which the samples shown are picked.
SAMPLES_KEPT = 200


class PreviewStatus:
    COMPUTING = "computing"
    READY = "ready"
    FAILED = "failed"


class _Samples:
    """A uniform sample of a stream of ``(content type id, object id, confidence)``, of bounded size."""

    def __init__(self, seed):
        self.seen, self.kept, self.random = 0, [], random.Random(seed)

    def add(self, item):
        self.seen += 1
        if len(self.kept) < SAMPLES_KEPT:
            self.kept.append(item)
        else:
            slot = self.random.randrange(self.seen)
            if slot < SAMPLES_KEPT:
                self.kept[slot] = item

    def shown(self, count=SAMPLES_SHOWN):
        """Up to ``count`` of the kept items, surest first, evenly spread from the surest to the least sure."""
        ordered = sorted(self.kept, key=lambda item: (-item[2], item[0], item[1]))
        if len(ordered) <= count:
            return [list(item) for item in ordered]
        step = (len(ordered) - 1) / (count - 1)
        return [list(ordered[round(index * step)]) for index in range(count)]


def compute_preview(version, chunk_size=2000):
    """Work out and save ``version.preview``; returns it. Failures are recorded, never raised."""
    TrainingVersion.objects.filter(pk=version.pk).update(preview={"status": PreviewStatus.COMPUTING})
    try:
        preview = _preview(version, chunk_size)
    except Exception as error:
        logger.exception("Previewing %s failed", version)
        preview = {"status": PreviewStatus.FAILED, "error": f"{type(error).__name__}: {error}"}
    preview["computed_at"] = timezone.now().isoformat()
    TrainingVersion.objects.filter(pk=version.pk).update(preview=preview)
    version.preview = preview
    return preview


def _preview(version, chunk_size):
    tag_model = version.tag_model
    backbone = get_backbone()
    if version.status != TrainingVersion.Status.SUCCEEDED or not version.parameters:
        return {"status": PreviewStatus.FAILED, "error": gettext("This version has no trained parameters to preview.")}
    if version.backbone_id != backbone.id:
        message = gettext(
            "This version was trained with the backbone %(trained_with)s; the site now uses %(current)s. "
            "Train the model again."
        )
        return {
            "status": PreviewStatus.FAILED,
            "error": message % {"trained_with": version.backbone_id, "current": backbone.id},
        }
    classifier = classifier_for(version)
    model_tags = frozenset(tag_model.tag_links.values_list("tag_id", flat=True))
    writer = Writer(SmartTag.Source.TRAINED, tag_model.pk, version.pk, replaces=model_tags)
    names = {int(tag_id): tag["name"] for tag_id, tag in (version.metrics or {}).get("tags", {}).items()}
    tags = {}

    def tally(tag_id):
        if tag_id not in tags:
            seed = f"{version.pk}:{tag_id}"
            tags[tag_id] = {"gain": 0, "lose": 0, "keep": 0}
            tags[tag_id].update(gains=_Samples(seed + "+"), losses=_Samples(seed + "-"))
        return tags[tag_id]

    assets = changed = 0
    for chunk in cached_chunks(backbone, chunk_size):
        for content_type_id, chunk_assets in chunk.items():
            decisions = decide(classifier, {object_id: vector for object_id, (_, _, vector) in chunk_assets.items()})
            rows = {}
            for _, object_id, tag_id, label_id, state, source, row_model_id, confidence in existing_rows(
                content_type_id, list(chunk_assets)
            ):
                if label_id is not None:
                    continue  # a keyword or generic label: never one of the model's tags
                rows.setdefault(object_id, {})[tag_id] = (state, writer.owns(source, row_model_id, tag_id), confidence)
            for object_id, decision in decisions.items():
                assets += 1
                own = rows.get(object_id, {})
                before = {
                    tag_id for tag_id, (state, owned, _) in own.items() if owned and state == SmartTag.State.APPLIED
                }
                after = set()
                if decision is not None:
                    tag_id = decision[0]
                    # The writer inserts a tag the asset has no row for and updates the rows it owns; an
                    # editor's decision, or another source's tag, stays as it is.
                    if tag_id not in own or tag_id in before:
                        after.add(tag_id)
                for tag_id in after - before:
                    tally(tag_id)["gain"] += 1
                    tally(tag_id)["gains"].add((content_type_id, object_id, round(decision[1], 4)))
                for tag_id in before - after:
                    tally(tag_id)["lose"] += 1
                    tally(tag_id)["losses"].add((content_type_id, object_id, round(own[tag_id][2], 4)))
                for tag_id in before & after:
                    tally(tag_id)["keep"] += 1
                changed += bool(after ^ before)
    for tag_id in model_tags:
        tally(tag_id)
    return {
        "status": PreviewStatus.READY,
        "compared_with": tag_model.active_version.number if tag_model.active_version_id else None,
        "assets": assets,
        "changed": changed,
        "not_embedded": max(0, _visual_assets() - assets),
        "tags": {
            str(tag_id): {
                "name": names.get(tag_id) or _tag_name(tag_id),
                "gain": tally["gain"],
                "lose": tally["lose"],
                "keep": tally["keep"],
                "gain_samples": tally["gains"].shown(),
                "lose_samples": tally["losses"].shown(),
            }
            for tag_id, tally in sorted(tags.items(), key=lambda item: names.get(item[0]) or _tag_name(item[0]))
        },
    }


def _visual_assets():
    """How many images and videos the site holds that are not failed or skipped: what a full preview covers."""
    total = 0
    for kind in get_asset_kinds(visual=True).values():
        model = kind.get_model()
        total += model._default_manager.count()
        total -= TaggingState.objects.filter(
            content_type=content_type_for(model),
            status__in=[TaggingState.Status.FAILED, TaggingState.Status.SKIPPED],
        ).aggregate(count=Count("pk"))["count"]
    return total


def _tag_name(tag_id):
    from taggit.models import Tag

    name = Tag.objects.filter(pk=tag_id).values_list("name", flat=True).first()
    # Translators: stands for the name of a tag deleted since the version was trained.
    return name or gettext("tag %(id)s") % {"id": tag_id}
