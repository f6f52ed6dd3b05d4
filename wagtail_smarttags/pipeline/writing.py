"""Make assets' smart tags match what a tag model, the backbone or a text says, changing only what differs.

Smart-tag rows are stable: a re-tag leaves a row alone when its decision stays the same (a row's
``version`` is the version that made its decision), updates it in place when its confidence changes,
inserts a row for a new tag and deletes one for a tag no longer given. What the active versions are
for an asset is recorded on its tagging state. A row an editor decided on (removed, promoted)
is that (asset, tag)'s decision for good: no writer changes its state or deletes it, and since a
smart tag is unique per (asset, tag), no source can apply that tag to the asset again. A smart tag
names a taggit tag or one of the app's labels (a keyword, a generic label no editor made a tag); a
label and a tag of the same name never coexist (``signal_handlers.adopt_labels``).
"""

from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from taggit.models import Tag

from ..models import SmartTag, SmartTagLabel, TagModel
from ..search.index import reindex_on_commit
from .sql import insert_smart_tags, rows_where_in, update_smart_tags

# Confidences closer than this are the same: a retrain on the same examples changes nothing else.
CONFIDENCE_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Writer:
    """Who writes: a source, and for a trained tag model, which model and version.

    ``replaces`` are the tag ids on which this writer's decision counts over generic tags (a trained
    model's own tags): applied generic rows on them are taken over or deleted.
    """

    source: str
    tag_model_id: int | None = None
    version_id: int | None = None
    replaces: frozenset = frozenset()

    def owns(self, source, tag_model_id, tag_id):
        if source == SmartTag.Source.GENERIC and tag_id in self.replaces:
            return True
        if source != self.source:
            return False
        return self.source != SmartTag.Source.TRAINED or tag_model_id == self.tag_model_id


def sync_smart_tags(content_type_id, wanted, writer):
    """Make the applied smart tags that ``writer`` owns on each asset match ``wanted``.

    ``wanted`` is ``{object id: {(tag id, label id): confidence}}``, one of the two ids None, and lists
    every asset written, with an empty dict for an asset that should have none of this writer's tags.
    A tag another source applied to the asset is left as it is. Returns the number of rows inserted,
    updated and deleted.
    """
    if not wanted:
        return 0
    updates, deletes, deleted_objects, present = [], [], [], set()
    for pk, object_id, tag_id, label_id, state, source, tag_model_id, confidence in existing_rows(
        content_type_id, list(wanted)
    ):
        present.add((object_id, tag_id, label_id))
        want = wanted[object_id].get((tag_id, label_id))
        if state != SmartTag.State.APPLIED or not writer.owns(source, tag_model_id, tag_id):
            continue  # an editor's decision, or another source's tag
        if want is None:
            deletes.append(pk)
            deleted_objects.append(object_id)
        elif abs(confidence - want) > CONFIDENCE_TOLERANCE or source != writer.source or (
            tag_model_id != writer.tag_model_id
        ):
            # A row keeps the version that gave its decision while later versions decide the same.
            updates.append((pk, want))
    inserts = {"tag": [], "label": []}
    for object_id, terms in wanted.items():
        for (tag_id, label_id), confidence in terms.items():
            if (object_id, tag_id, label_id) not in present:
                column, term_id = ("tag", tag_id) if tag_id is not None else ("label", label_id)
                inserts[column].append((object_id, term_id, confidence))
    # Assets whose shown smart tags changed; a new confidence alone changes no indexed text.
    renamed = {row[0] for rows in inserts.values() for row in rows} | set(deleted_objects)
    reindex_on_commit(ContentType.objects.get_for_id(content_type_id).model_class(), renamed)
    if deletes:
        for start in range(0, len(deletes), 5000):
            SmartTag.objects.filter(pk__in=deletes[start : start + 5000], state=SmartTag.State.APPLIED).delete()
    fields = {"source": writer.source, "tag_model_id": writer.tag_model_id, "version_id": writer.version_id}
    update_smart_tags(updates, **fields)
    for column, rows in inserts.items():
        insert_smart_tags(content_type_id, rows, term=column, **fields)
    return sum(len(rows) for rows in inserts.values()) + len(updates) + len(deletes)


def existing_rows(content_type_id, object_ids):
    """The smart-tag rows of these assets as plain tuples, read with the database's own cursor:
    ``(pk, object id, tag id, label id, state, source, tag model id, confidence)``.

    A library re-tag reads every row it may change; the ORM's per-row work would cost more than
    the query.
    """
    columns = ["pk", "object_id", "tag", "label", "state", "source", "tag_model", "confidence"]
    return rows_where_in(SmartTag, columns, "object_id", object_ids, content_type=content_type_id)


def write_trained_tags(tag_model, version, content_type_id, decisions):
    """Make each asset's smart tags from ``tag_model`` match ``decisions``.

    ``decisions`` maps object id to ``(tag id, confidence)`` or ``None``. The write is skipped (and
    False returned) if the version stopped being active meanwhile, so an asset always ends with
    the tags of exactly one version of each model.
    """
    with transaction.atomic():
        current = TagModel.objects.select_for_update().filter(pk=tag_model.pk).values_list("active_version", flat=True)
        if list(current) != [version.pk]:
            return False
        model_tags = frozenset(tag_model.tag_links.values_list("tag_id", flat=True))
        writer = Writer(SmartTag.Source.TRAINED, tag_model.pk, version.pk, replaces=model_tags)
        wanted = {
            object_id: ({(decision[0], None): clamp(decision[1])} if decision else {})
            for object_id, decision in decisions.items()
        }
        sync_smart_tags(content_type_id, wanted, writer)
    return True


def write_source_tags(content_type_id, source, labels):
    """Make assets' applied smart tags from ``source`` (keywords, generic) match ``labels``.

    ``labels`` is ``{object id: [(name, confidence), ...]}``. A name that is one of the site's taggit
    tags (any case) is that tag; any other is a label of the app's own (``SmartTagLabel``), created if
    need be: the app never adds to the site's vocabulary (see ``moderation`` for how one joins it).
    """
    terms = terms_named({name for pairs in labels.values() for name, _ in pairs})
    wanted = {}
    for object_id, pairs in labels.items():
        wanted[object_id] = {}
        for name, confidence in pairs:
            term = terms.get(normalise(name).lower())
            if term is not None:
                wanted[object_id].setdefault(term, clamp(confidence))
    with transaction.atomic():
        sync_smart_tags(content_type_id, wanted, Writer(source))


def normalise(name):
    return name.strip()[: Tag._meta.get_field("name").max_length]


def terms_named(names):
    """``{lower-cased name: (tag id, None) or (None, label id)}`` for ``names``: the site's taggit tag of that
    name if there is one, else the app's label, created if there is none yet."""
    lowered = {normalise(name).lower(): normalise(name) for name in names if normalise(name)}
    found = {
        low: (pk, None)
        for low, pk in Tag.objects.annotate(lowered=Lower("name"))
        .filter(lowered__in=list(lowered))
        .values_list("lowered", "pk")
    }
    missing = [low for low in lowered if low not in found]
    if missing:
        labels = dict(
            SmartTagLabel.objects.annotate(lowered=Lower("name"))
            .filter(lowered__in=missing)
            .values_list("lowered", "pk")
        )
        for low in missing:
            found[low] = (None, labels[low] if low in labels else label_named(lowered[low]).pk)
    return found


def label_named(name):
    """The app's label called ``name`` (any case), created if there is none."""
    return _get_or_create_named(SmartTagLabel, name)


def tag_named(name):
    """The taggit tag called ``name`` (any case), created if there is none."""
    return _get_or_create_named(Tag, name)


def _get_or_create_named(model, name):
    name = normalise(name)
    for _ in range(2):
        existing = model.objects.filter(name__iexact=name).first()
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                return model.objects.create(name=name)
        except IntegrityError:
            continue  # another worker created it meanwhile
    return model.objects.get(name__iexact=name)


def clamp(confidence):
    return min(1.0, max(0.0, float(confidence)))
