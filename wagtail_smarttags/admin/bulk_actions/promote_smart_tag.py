"""Promote a smart tag to an ordinary tag on every selected asset that has it."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from ...models import SmartTag
from .base import DecideSmartTagMixin


class PromoteSmartTagMixin(DecideSmartTagMixin):
    display_name = _("Promote smart tag")
    action_type = "smarttags_promote"
    aria_label = _("Promote a smart tag to a tag on the selected items")
    question = _("Promote this smart tag to an ordinary tag wherever the selected items have it:")
    confirm_label = _("Yes, promote")
    action_priority = 110
    decision = SmartTag.State.PROMOTED
    success_message = ngettext_lazy(
        "The smart tag has been promoted on %(count)d item.",
        "The smart tag has been promoted on %(count)d items.",
        "count",
    )
