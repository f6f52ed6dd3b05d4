"""Generic smart tags: what the backbone itself sees in an image or video, before any training.

The default backbone labels images with readable ImageNet classes in the same pass that embeds
them (the labels are cached with the embedding); an OpenCLIP backbone instead scores the site's
own taxonomy zero-shot. Generic tags have their own source, threshold and cap, and never
override a trained tag model: a tag that an active tag model covers is left to that model.
"""

import numpy as np
from taggit.models import Tag

from ..conf import get_setting
from ..ml.labels import choose_generic_labels
from ..models import SmartTag, TagModelTag
from .embedding_cache import LABELS_KEPT
from .writing import write_source_tags

# Zero-shot labels are scored against every candidate: a bound keeps a vast tag table affordable.
MAX_ZERO_SHOT_LABELS = 20_000


def apply_generic_tags(content_type_id, assets, backbone):
    """Write generic smart tags for ``{object_id: (vectors, labels per row)}``.

    ``vectors`` is one embedding (image) or one per sampled frame (video); ``labels`` the
    backbone's own ``[(label, probability), ...]`` for each row. With ``GENERIC_TAGS`` off,
    any applied generic tags are removed instead; editors' decisions always stay.
    """
    if not assets:
        return
    chosen = {}
    if get_setting("GENERIC_TAGS"):
        covered = trained_tag_names()
        candidates = zero_shot_candidates() if backbone.supports_zero_shot else None
        for object_id, (vectors, rows) in assets.items():
            if candidates is not None:
                rows = backbone.zero_shot(np.atleast_2d(vectors), candidates, LABELS_KEPT) if candidates else []
            chosen[object_id] = choose_generic_labels(
                rows, get_setting("GENERIC_MIN_CONFIDENCE"), get_setting("GENERIC_MAX_TAGS"), excluded=covered
            )
    labels = {object_id: chosen.get(object_id, []) for object_id in assets}
    write_source_tags(content_type_id, SmartTag.Source.GENERIC, labels)


def trained_tag_names():
    """Lower-cased names of the tags that an active tag model decides on."""
    links = TagModelTag.objects.filter(tag_model__active_version__isnull=False)
    return frozenset(name.lower() for name in links.values_list("tag__name", flat=True))


def zero_shot_candidates():
    configured = get_setting("GENERIC_LABELS")
    if configured is not None:
        return list(dict.fromkeys(configured))
    return list(Tag.objects.order_by("name").values_list("name", flat=True)[:MAX_ZERO_SHOT_LABELS])
