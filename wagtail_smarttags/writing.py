"""Write smart tags so that they match what a model, a backbone or a text says, keeping editors' decisions."""

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from taggit.models import Tag

from .models import SmartTag, TagModel, TagModelTag


def write_source_tags(content_type_id, object_id, source, labels):
    """Make an asset's applied smart tags from ``source`` (keywords, generic) match ``labels``.

    ``labels`` is ``[(tag name, confidence), ...]``; each name is matched to a taggit tag
    case-insensitively, or becomes a new one. Removed and promoted smart tags keep their
    state, and a tag already applied from another source is left as it is.
    """
    wanted = {}
    for name, confidence in labels:
        wanted.setdefault(tag_named(name).pk, clamp(confidence))
    with transaction.atomic():
        rows = SmartTag.objects.select_for_update().filter(content_type_id=content_type_id, object_id=object_id)
        existing = {row.tag_id: row for row in rows}
        rows.filter(source=source, state=SmartTag.State.APPLIED).exclude(tag_id__in=wanted).delete()
        to_create = []
        for tag_id, confidence in wanted.items():
            row = existing.get(tag_id)
            if row is None:
                to_create.append(
                    SmartTag(
                        content_type_id=content_type_id,
                        object_id=object_id,
                        tag_id=tag_id,
                        confidence=confidence,
                        source=source,
                    )
                )
            elif row.source == source and row.state == SmartTag.State.APPLIED and row.confidence != confidence:
                SmartTag.objects.filter(pk=row.pk).update(confidence=confidence, updated_at=timezone.now())
        SmartTag.objects.bulk_create(to_create, ignore_conflicts=True)


def tag_named(name):
    """The taggit tag called ``name`` (any case), created if there is none."""
    name = name.strip()[: Tag._meta.get_field("name").max_length]
    for _ in range(2):
        tag = Tag.objects.filter(name__iexact=name).first()
        if tag is not None:
            return tag
        try:
            with transaction.atomic():
                return Tag.objects.create(name=name)
        except IntegrityError:
            continue  # another worker created it meanwhile
    return Tag.objects.get(name__iexact=name)


def write_trained_tags(tag_model, version, content_type_id, decisions):
    """Make each asset's applied smart tags from ``tag_model`` match ``decisions``.

    ``decisions`` maps object id to ``(tag id, confidence)`` or ``None``. Smart tags
    that editors removed or promoted keep their state whatever the model now says,
    and the write is skipped if the version stopped being active meanwhile, so an
    asset always ends with the tags of exactly one version of each model.
    """
    with transaction.atomic():
        current = TagModel.objects.select_for_update().filter(pk=tag_model.pk).values_list("active_version", flat=True)
        if list(current) != [version.pk]:
            return False
        rows = SmartTag.objects.filter(content_type_id=content_type_id, object_id__in=list(decisions))
        decided = {
            (object_id, tag_id): pk
            for object_id, tag_id, pk in rows.exclude(state=SmartTag.State.APPLIED).values_list(
                "object_id", "tag_id", "pk"
            )
        }
        # Rewriting this model's applied rows wholesale is one DELETE and one INSERT per batch,
        # which keeps re-tagging a large library from cached embeddings fast. Generic tags on the
        # model's tags go too: on its own tags, a trained model's decision is the one that counts.
        model_tags = TagModelTag.objects.filter(tag_model=tag_model).values("tag_id")
        rows.filter(state=SmartTag.State.APPLIED).filter(
            Q(tag_model=tag_model) | Q(source=SmartTag.Source.GENERIC, tag_id__in=model_tags)
        ).delete()
        to_create, decided_seen = [], []
        for object_id, decision in decisions.items():
            if decision is None:
                continue
            tag_id, confidence = decision
            if (object_id, tag_id) in decided:
                decided_seen.append(decided[(object_id, tag_id)])
                continue
            to_create.append(
                SmartTag(
                    content_type_id=content_type_id,
                    object_id=object_id,
                    tag_id=tag_id,
                    confidence=clamp(confidence),
                    source=SmartTag.Source.TRAINED,
                    tag_model=tag_model,
                    version=version,
                )
            )
        # A tag another source already applied to the asset (keywords, another model) is left as it is.
        SmartTag.objects.bulk_create(to_create, ignore_conflicts=True, batch_size=2000)
        if decided_seen:
            # The editor's decision stands; only the record of which version last saw it changes.
            SmartTag.objects.filter(pk__in=decided_seen).update(version=version, updated_at=timezone.now())
    return True


def clamp(confidence):
    return min(1.0, max(0.0, float(confidence)))


