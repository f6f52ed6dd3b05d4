"""Editors' decisions on a tag model's tags, as training data for its next version.

A smart tag an editor promoted says "this image is that tag": the image becomes an example of it.
One an editor removed says "this image is not that tag", though the model (or the generic tags) thought
so: the image becomes a negative, which the classifier learns as something the model's tags are not.
Only images count (a video's frames are not examples), and only when the model opts in
(``TagModel.learn_from_moderation``). The examples editors chose win over a decision that contradicts
them, and a promotion over a removal of the same image.
"""

from dataclasses import dataclass, field

from ..models import SmartTag, TrainingExample
from ..pipeline.kinds import IMAGE, content_type_for, get_asset_kind

#: The most recent decisions taken per tag (promotions) and per model (removals).
MAX_PROMOTED_PER_TAG = 200
MAX_REMOVED = 1000


@dataclass
class Decisions:
    #: ``{tag id: [image id, ...]}``: promoted, so examples of the tag.
    promoted: dict = field(default_factory=dict)
    #: ``{tag id: [image id, ...]}``: removed, so images that are not the tag.
    removed: dict = field(default_factory=dict)

    @property
    def removed_images(self):
        return list(dict.fromkeys(image for images in self.removed.values() for image in images))

    def counts(self, tag_id):
        return {"promoted": len(self.promoted.get(tag_id, [])), "removed": len(self.removed.get(tag_id, []))}


def moderation_decisions(tag_model):
    """The editors' decisions on ``tag_model``'s tags that its next training learns from (empty unless it opts in)."""
    return decisions_on(tag_model) if tag_model.learn_from_moderation else Decisions()


def decisions_on(tag_model):
    """The editors' decisions on ``tag_model``'s tags that a training would learn from, opted in or not."""
    kind = get_asset_kind(IMAGE)
    tag_ids = set(tag_model.tag_links.values_list("tag_id", flat=True))
    examples = dict(TrainingExample.objects.filter(tag_model=tag_model).values_list("image_id", "tag_id"))
    rows = (
        SmartTag.objects.filter(
            content_type=content_type_for(kind.get_model()),
            tag_id__in=tag_ids,
            state__in=[SmartTag.State.PROMOTED, SmartTag.State.REMOVED],
        )
        .order_by("-decided_at", "-pk")
        .values_list("object_id", "tag_id", "state")
    )
    decisions, promoted_images = Decisions(), set()
    removals = []
    for image_id, tag_id, state in rows:
        if image_id in examples:
            continue  # an editor's chosen example says more than a decision on its smart tag
        if state == SmartTag.State.PROMOTED:
            promoted = decisions.promoted.setdefault(tag_id, [])
            if image_id not in promoted_images and len(promoted) < MAX_PROMOTED_PER_TAG:
                promoted.append(image_id)
                promoted_images.add(image_id)
        else:
            removals.append((image_id, tag_id))
    taken = 0
    for image_id, tag_id in removals:
        # Promoted as another of the model's tags: an example of that one, not a negative.
        if image_id not in promoted_images and taken < MAX_REMOVED:
            decisions.removed.setdefault(tag_id, []).append(image_id)
            taken += 1
    return decisions
