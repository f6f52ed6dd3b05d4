"""What the smart-tag bulk actions share: the confirmation page, permissions, the tag name form."""

from collections import Counter
from typing import TYPE_CHECKING

from django import forms
from django.db.models import Count
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ... import moderation
from ...models import SmartTag

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise


class SmartTagNameForm(forms.Form):
    """Which smart tag to decide on: one of those the selected items have undecided, with how many have it.

    A name typed by hand could be mistyped and decide nothing; only names offered are accepted.
    """

    tag = forms.ChoiceField(
        label=_("Smart tag"),
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("None of the selected items has the smart tag “%(value)s” undecided.")},
    )

    def __init__(self, *args, counts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tag"].choices = [(name, choice_label(name, count)) for name, count in counts]
        if not counts:
            self.fields["tag"].help_text = _("None of the selected items has smart tags waiting for a decision.")


def choice_label(name, count):
    return ngettext("%(tag)s (%(count)d item)", "%(tag)s (%(count)d items)", count) % {"tag": name, "count": count}


def undecided_smart_tag_counts(objects):
    """``[(name, number of the objects that have it undecided)]``, the most common first."""
    by_model = {}
    for obj in objects:
        by_model.setdefault(type(obj), []).append(obj.pk)
    counts = Counter()
    for model, ids in by_model.items():
        rows = (
            SmartTag.objects.for_model(model)
            .filter(object_id__in=ids, state=SmartTag.State.APPLIED)
            .annotate(term_name=Coalesce("tag__name", "label__name"))
            .values("term_name")
            .annotate(assets=Count("object_id", distinct=True))
        )
        counts.update({row["term_name"]: row["assets"] for row in rows})
    return sorted(counts.items(), key=lambda item: (-item[1], item[0].lower()))


class SmartTagBulkActionMixin:
    """Shared by every asset kind's variant; the listing-specific base class comes second."""

    template_name = "wagtail_smarttags/moderation/confirm_bulk_action.html"
    # What the confirmation page says; set by each action (lazy translations).
    question: "StrOrPromise" = ""
    confirm_label: "StrOrPromise" = ""
    #: ``ngettext_lazy(singular, plural, "count")``: what the listing says once the action is done.
    success_message: "StrOrPromise | None" = None

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
    decision: "SmartTag.State | None" = None

    def get_form_kwargs(self):
        objects, _ = self.get_actionable_objects()
        return {**super().get_form_kwargs(), "counts": undecided_smart_tag_counts(objects)}

    @classmethod
    def execute_action(cls, objects, tag_name=None, user=None, **kwargs):
        return moderation.decide_for_assets(objects, tag_name, cls.decision, user), 0
