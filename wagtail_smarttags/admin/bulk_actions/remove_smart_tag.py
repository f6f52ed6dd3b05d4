"""Remove a smart tag from every selected asset that has it."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from ...models import SmartTag
from .base import DecideSmartTagMixin


class RemoveSmartTagMixin(DecideSmartTagMixin):
    display_name = _("Remove smart tag")
    action_type = "smarttags_remove"
    aria_label = _("Remove a smart tag from the selected items")
    question = _("Remove this smart tag wherever the selected items have it; they will no longer match it:")
    confirm_label = _("Yes, remove")
    action_priority = 111
    decision = SmartTag.State.REMOVED
    success_message = ngettext_lazy(
        "The smart tag has been removed from %(count)d item.",
        "The smart tag has been removed from %(count)d items.",
        "count",
    )
