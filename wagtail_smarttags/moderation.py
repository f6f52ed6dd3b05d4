"""Editors' decisions on smart tags: remove or promote them, and re-tag assets on demand.

A decision is keyed by (asset, tag), never by a smart-tag row's id: rows are updated in place by
re-tagging, but a screen opened before a re-tag may still show a tag the re-tag withdrew. Removed
and promoted are final for an asset: no writer in ``pipeline.writing`` changes them back. Every
decision is written to Wagtail's audit log against the asset.
"""

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.log_actions import log
from wagtail.search import index

from .models import SmartTag, SmartTagLabel, term_filter
from .pipeline.kinds import content_type_for, file_identity
from .pipeline.writing import tag_named
from .queues import enqueue_on_commit
from .search.index import indexes_smart_tags
from .signal_handlers import TAG_ASSET_TASK, mark_pending
from .vocabulary import adopt_labels

REMOVE_ACTION = "wagtail_smarttags.remove_smart_tag"
PROMOTE_ACTION = "wagtail_smarttags.promote_smart_tag"
RETAG_ACTION = "wagtail_smarttags.retag"


class ModerationError(Exception):
    """A decision that cannot be made: reversing an earlier one, or on a smart tag that was withdrawn."""


def smart_tags_for(asset):
    """The asset's smart tags for the moderation screen: undecided first, most confident first."""
    return (
        SmartTag.objects.for_asset(asset)
        .select_related("tag", "label", "tag_model", "decided_by")
        .order_by("state", "-confidence", "tag__name", "label__name")
    )


def remove_smart_tag(smart_tag, user):
    """Stop the smart tag matching searches. Returns False if it was already removed."""
    return _decide_row(smart_tag, SmartTag.State.REMOVED, user)


def promote_smart_tag(smart_tag, user):
    """Make the smart tag one of the asset's ordinary tags. Returns False if it was already promoted."""
    return _decide_row(smart_tag, SmartTag.State.PROMOTED, user)


def _decide_row(smart_tag, state, user):
    changed = decide(_asset_of(smart_tag), smart_tag.term, state, user)
    current = SmartTag.objects.filter(pk=smart_tag.pk).values("state", "decided_by", "decided_at").first()
    if current:
        smart_tag.state, smart_tag.decided_by_id, smart_tag.decided_at = current.values()
    return changed


def decide_for_assets(assets, tag_name, state, user):
    """Remove or promote the smart tag named ``tag_name`` on each of ``assets`` that has it undecided.

    Returns how many assets changed. Assets without that smart tag, or where it is already decided, are skipped.
    """
    changed = 0
    for asset in assets:
        name = tag_name.strip()
        smart_tag = (
            SmartTag.objects.for_asset(asset)
            .filter(Q(tag__name__iexact=name) | Q(label__name__iexact=name), state=SmartTag.State.APPLIED)
            .only("tag_id", "label_id")
            .first()
        )
        if smart_tag is None:
            continue
        try:
            if decide(asset, smart_tag.term, state, user):
                changed += 1
        except ModerationError:
            continue  # decided or withdrawn by someone else meanwhile
    return changed


def retag_assets(assets, user=None):
    """Queue each asset to be tagged again by the active tag models, once the current transaction commits."""
    queued = 0
    for asset in assets:
        content_type = content_type_for(type(asset))
        mark_pending(content_type, asset.pk, *file_identity(asset))
        enqueue_on_commit(TAG_ASSET_TASK, content_type.pk, asset.pk)
        log(instance=asset, action=RETAG_ACTION, user=user)
        queued += 1
    return queued


def decide(asset, term, state, user):
    """Remove or promote the smart tag ``term`` of ``asset`` (a tag id, or ``"l<label id>"``: see
    ``SmartTag.term``). Returns False if it already had that state.

    Raises :class:`ModerationError`, with a message for the editor, if the asset no longer has that
    smart tag (a re-tag withdrew it after the screen was opened) or an editor already made the other
    decision. Promoting one of the app's labels makes it a taggit tag of the site (see ``vocabulary``).
    """
    with transaction.atomic():
        # Lock the row so two editors deciding at once cannot both win. No select_related: its outer joins
        # (tag and label are each nullable) cannot be locked on PostgreSQL.
        current = SmartTag.objects.for_asset(asset).select_for_update().filter(term_filter(term)).first()
        if current is None:
            raise ModerationError(
                _("The smart tag “%(tag)s” was withdrawn after this page was opened (the asset was re-tagged or "
                  "its tag model deleted); nothing was changed for it. The list below is up to date.")
                % {"tag": _name_of(term)}  # fmt: skip
            )
        if current.state == state:
            return False
        if current.state != SmartTag.State.APPLIED:
            raise ModerationError(
                # Translators: %(state)s is the earlier decision, lower-cased: “removed” or “promoted”.
                _("The smart tag “%(tag)s” was already %(state)s; that decision is final.")
                % {"tag": current.name, "state": current.get_state_display().lower()}
            )
        if state == SmartTag.State.PROMOTED and current.label_id:
            current = _as_tag(asset, current)
            if current.state != SmartTag.State.APPLIED:
                raise ModerationError(
                    _("The smart tag “%(tag)s” was already %(state)s; that decision is final.")
                    % {"tag": current.name, "state": current.get_state_display().lower()}
                )
        current.state = state
        current.decided_by = user if getattr(user, "pk", None) else None
        current.decided_at = timezone.now()
        current.save(update_fields=["state", "decided_by", "decided_at", "updated_at"])
        if state == SmartTag.State.PROMOTED:
            asset.tags.add(current.tag)
        # Tags are indexed with the asset, and smart tags too where its model indexes them
        # (search.index): re-index so that search ranks it as metadata now, or stops matching a removed tag.
        if state == SmartTag.State.PROMOTED or indexes_smart_tags(type(asset)):
            index.insert_or_update_object(asset)
        log(
            instance=asset,
            action=PROMOTE_ACTION if state == SmartTag.State.PROMOTED else REMOVE_ACTION,
            user=user,
            data={"tag": current.name, "confidence": round(current.confidence, 4), "source": current.source},
        )
    return True


def _as_tag(asset, smart_tag):
    """The editor promotes one of the app's labels: it becomes a taggit tag, and its smart tags that tag's."""
    tag = tag_named(smart_tag.label.name)
    adopt_labels(tag)  # also when the tag already existed: a label and a tag of one name never coexist
    return SmartTag.objects.for_asset(asset).select_for_update().get(tag=tag)


def _name_of(term):
    from taggit.models import Tag

    term = str(term)
    model, pk = (SmartTagLabel, term[1:]) if term.startswith("l") else (Tag, term)
    return model.objects.filter(pk=pk).values_list("name", flat=True).first() or "?"


def _asset_of(smart_tag):
    model = ContentType.objects.get_for_id(smart_tag.content_type_id).model_class()
    return model._default_manager.get(pk=smart_tag.object_id)
