"""Bulk actions on the image and document listings: promote or remove a smart tag, re-tag now."""

from django import forms
from django.apps import apps
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from wagtail.images.views.bulk_actions.image_bulk_action import ImageBulkAction

from . import moderation
from .models import SmartTag


class SmartTagNameForm(forms.Form):
    tag = forms.CharField(
        label=_("Smart tag"),
        max_length=100,
        help_text=_("The name of the smart tag, as listed on an asset's Smart tags screen."),
    )


class SmartTagBulkActionMixin:
    """Shared by the image and document variants; the listing-specific base class comes second."""

    template_name = "wagtail_smarttags/moderation/confirm_bulk_action.html"
    # What the confirmation page says; set by each action.
    question = ""
    confirm_label = ""
    #: ``ngettext_lazy(singular, plural, "count")``: what the listing says once the action is done.
    success_message = None

    def get_success_message(self, num_parent_objects, num_child_objects):
        return self.success_message % {"count": num_parent_objects}

    def check_perm(self, obj):
        return self.permission_policy.user_has_permission_for_instance(self.request.user, "change", obj)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            action_title=self.aria_label,
            question=self.question,
            confirm_label=self.confirm_label,
            edit_url_name=self.edit_url_name,
        )
        return context

    def get_execution_context(self):
        context = {"user": self.request.user}
        if self.cleaned_form is not None and "tag" in self.cleaned_form.cleaned_data:
            context["tag_name"] = self.cleaned_form.cleaned_data["tag"]
        return context


class DecideSmartTagMixin(SmartTagBulkActionMixin):
    form_class = SmartTagNameForm
    decision = None

    @classmethod
    def execute_action(cls, objects, tag_name=None, user=None, **kwargs):
        return moderation.decide_for_assets(objects, tag_name, cls.decision, user), 0


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


class ImageActionMixin:
    edit_url_name = "wagtailimages:edit"


class DocumentActionMixin:
    edit_url_name = "wagtaildocs:edit"


class PromoteSmartTagImagesBulkAction(PromoteSmartTagMixin, ImageActionMixin, ImageBulkAction):
    pass


class RemoveSmartTagImagesBulkAction(RemoveSmartTagMixin, ImageActionMixin, ImageBulkAction):
    pass


class RetagImagesBulkAction(RetagMixin, ImageActionMixin, ImageBulkAction):
    pass


BULK_ACTIONS = [PromoteSmartTagImagesBulkAction, RemoveSmartTagImagesBulkAction, RetagImagesBulkAction]

# Documents are optional in Wagtail: their listing's base class only exists when the app is installed.
if apps.is_installed("wagtail.documents"):
    from wagtail.documents.views.bulk_actions.document_bulk_action import DocumentBulkAction

    class PromoteSmartTagDocumentsBulkAction(PromoteSmartTagMixin, DocumentActionMixin, DocumentBulkAction):
        pass

    class RemoveSmartTagDocumentsBulkAction(RemoveSmartTagMixin, DocumentActionMixin, DocumentBulkAction):
        pass

    class RetagDocumentsBulkAction(RetagMixin, DocumentActionMixin, DocumentBulkAction):
        pass

    BULK_ACTIONS += [PromoteSmartTagDocumentsBulkAction, RemoveSmartTagDocumentsBulkAction, RetagDocumentsBulkAction]
