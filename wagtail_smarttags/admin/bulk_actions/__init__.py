"""The smart-tag bulk actions, one module each, made for the listing of every asset kind that has one."""

from ...pipeline.kinds import get_asset_kinds
from .promote_smart_tag import PromoteSmartTagMixin
from .remove_smart_tag import RemoveSmartTagMixin
from .retag import RetagMixin

ACTIONS = [PromoteSmartTagMixin, RemoveSmartTagMixin, RetagMixin]


def get_bulk_actions():
    """A Wagtail bulk-action class per action and asset kind, e.g. ``PromoteSmartTagImagesBulkAction``."""
    classes = []
    for kind in get_asset_kinds().values():
        listing_base = kind.bulk_action_base()
        if listing_base is None:
            continue
        for action in ACTIONS:
            name = action.__name__.removesuffix("Mixin") + f"{kind.name.title()}sBulkAction"
            attributes = {"edit_url_name": kind.edit_url_name, "__module__": __name__}
            classes.append(type(name, (action, listing_base), attributes))
    return classes
