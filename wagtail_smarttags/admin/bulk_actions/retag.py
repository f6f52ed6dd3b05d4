"""Queue the selected assets to be tagged again now."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from ... import moderation
from .base import SmartTagBulkActionMixin


class RetagMixin(SmartTagBulkActionMixin):
    display_name = _("Re-tag now")
    action_type = "smarttags_retag"
    aria_label = _("Queue the selected items to be smart-tagged again now")
    question = _("Queue these items to be smart-tagged again by the active tag models?")
    confirm_label = _("Yes, re-tag")
    action_priority = 112

    success_message = ngettext_lazy(
        "%(count)d item has been queued for smart tagging.",
        "%(count)d items have been queued for smart tagging.",
        "count",
    )

    @classmethod
    def execute_action(cls, objects, user=None, **kwargs):
        return moderation.retag_assets(objects, user=user), 0
