"""Write smart tags so that they match what a model, a backbone or a text says, keeping editors' decisions."""

from django.db import IntegrityError, connections, router, transaction
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
            to_create.append((object_id, tag_id, clamp(confidence)))
        # A tag another source already applied to the asset (keywords, another model) is left as it is.
        insert_trained_tags(content_type_id, tag_model.pk, version.pk, to_create)
        if decided_seen:
            # The editor's decision stands; only the record of which version last saw it changes.
            SmartTag.objects.filter(pk__in=decided_seen).update(version=version, updated_at=timezone.now())
    return True


# Rows per INSERT: 3 values each stays well under SQLite's and PostgreSQL's limits on parameters.
INSERT_BATCH_SIZE = 2000


def insert_trained_tags(content_type_id, tag_model_id, version_id, rows):
    """Insert ``[(object id, tag id, confidence), ...]`` as applied smart tags, skipping existing ones.

    Multi-row INSERTs of plain values: building 100,000 model instances through ``bulk_create``
    costs several times the database's own work when a retrain re-tags a large library, and one
    statement per row costs PostgreSQL a round trip each. Only the three values that differ are
    sent per row; ``column1``… are the names SQLite and PostgreSQL both give a VALUES list's columns.
    """
    if not rows:
        return
    columns = {field.name: field.column for field in SmartTag._meta.concrete_fields}
    names = [
        "content_type", "object_id", "tag", "confidence", "source", "state", "tag_model", "version",
        "created_at", "updated_at",
    ]  # fmt: skip
    connection = connections[router.db_for_write(SmartTag)]
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    quote = connection.ops.quote_name
    insert = (
        f"INSERT INTO {quote(SmartTag._meta.db_table)} ({', '.join(quote(columns[name]) for name in names)}) "
        "SELECT %s, rows.column1, rows.column2, rows.column3, %s, %s, %s, %s, %s, %s FROM (VALUES {values}) AS rows "
        # SQLite needs a WHERE before ON CONFLICT in an INSERT ... SELECT.
        "WHERE true ON CONFLICT DO NOTHING"
    )
    fixed = [SmartTag.Source.TRAINED.value, SmartTag.State.APPLIED.value, tag_model_id, version_id, now, now]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), INSERT_BATCH_SIZE):
            batch = rows[start : start + INSERT_BATCH_SIZE]
            params = [content_type_id, *fixed]
            params += [value for row in batch for value in row]
            cursor.execute(insert.format(values=", ".join(["(%s, %s, %s)"] * len(batch))), params)


def clamp(confidence):
    return min(1.0, max(0.0, float(confidence)))


