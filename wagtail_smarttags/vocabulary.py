"""The site's vocabulary is its taggit tags, and it stays the editors'.

Keywords and generic labels that are not taggit tags are the app's own labels (``SmartTagLabel``):
they match searches and can be moderated like tags, but the tag autocomplete never suggests them,
and keyword scoring never favours them. A label joins the vocabulary when an editor promotes one of
its smart tags, or creates a tag of that name anywhere: :func:`adopt_labels` then points its smart
tags at the tag, so that a label and a tag of one name never coexist and a decision made on either
stays the decision for that name.
"""

from django.db import transaction

from .models import SmartTag, SmartTagLabel


def adopt_labels(tag):
    """Move the smart tags of the labels named like ``tag`` (any case) onto it, and drop those labels.

    An asset that already has a smart tag of ``tag`` keeps that row; an editor's decision on the
    label's row carries over onto it, since a decision outlives anything the app does.
    """
    labels = list(SmartTagLabel.objects.filter(name__iexact=tag.name))
    if not labels:
        return 0
    moved = 0
    with transaction.atomic():
        for label in labels:
            rows = SmartTag.objects.filter(label=label)
            assets = set(rows.values_list("content_type_id", "object_id"))
            if assets:
                existing = {
                    (row.content_type_id, row.object_id): row
                    for row in SmartTag.objects.filter(tag=tag, object_id__in={oid for _, oid in assets})
                    if (row.content_type_id, row.object_id) in assets
                }
                for row in rows.filter(object_id__in={oid for _, oid in existing}):
                    kept = existing.get((row.content_type_id, row.object_id))
                    if kept is None:
                        continue
                    if row.state != SmartTag.State.APPLIED and kept.state == SmartTag.State.APPLIED:
                        kept.state, kept.decided_by_id, kept.decided_at = row.state, row.decided_by_id, row.decided_at
                        kept.save(update_fields=["state", "decided_by", "decided_at", "updated_at"])
                    row.delete()
            moved += SmartTag.objects.filter(label=label).update(tag=tag, label=None)
            label.delete()
    return moved
