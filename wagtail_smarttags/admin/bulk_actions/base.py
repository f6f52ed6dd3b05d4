"""What the smart-tag bulk actions share: the confirmation page, permissions, the tag name form."""

from django import forms
from django.utils.translation import gettext_lazy as _

from ... import moderation


class SmartTagNameForm(forms.Form):
    tag = forms.CharField(
        label=_("Smart tag"),
        max_length=100,
        help_text=_("The name of the smart tag, as listed on an asset's Smart tags screen."),
    )


class SmartTagBulkActionMixin:
    """Shared by every asset kind's variant; the listing-specific base class comes second."""

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
