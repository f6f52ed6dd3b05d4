"""Colour tags: an image's or a video's dominant colours, as smart tags of their own source.

The coverage of each palette colour is computed while the file is decoded (``ml.colours``) and cached
with its embedding; here the colours that cover enough of the picture are chosen and written, their
coverage as the confidence. With ``COLOUR_TAGS`` off, applied colour tags are removed instead;
editors' decisions always stay.
"""

from ..conf import get_setting
from ..ml.colours import choose_colours
from ..models import SmartTag
from .writing import write_source_tags


def colour_tags_on():
    return bool(get_setting("COLOUR_TAGS"))


def apply_colour_tags(content_type_id, coverages):
    """Write colour smart tags for ``{object_id: {colour name: coverage} or None}``."""
    if not coverages:
        return
    labels = {object_id: [] for object_id in coverages}
    if colour_tags_on():
        names = get_setting("COLOUR_NAMES")
        minimum, most = get_setting("COLOUR_MIN_COVERAGE"), get_setting("COLOUR_MAX_TAGS")
        for object_id, coverage in coverages.items():
            chosen = choose_colours(coverage or {}, minimum, most)
            labels[object_id] = [(names.get(name, name), share) for name, share in chosen]
    write_source_tags(content_type_id, SmartTag.Source.COLOUR, labels)
