"""The "Smart tags" screen of an image, document or video: list its smart tags, remove or promote them."""

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.permissions import policy_registry

from .. import moderation
from ..assets import DOCUMENT, IMAGE, VIDEO, get_asset_models
from ..models import SmartTag

MODERATED_KINDS = (IMAGE, DOCUMENT, VIDEO)
EDIT_URL_NAMES = {IMAGE: "wagtailimages:edit", DOCUMENT: "wagtaildocs:edit", VIDEO: "wagtailmedia:edit"}
KEEP = "keep"


class SmartTagDecisionsForm(forms.Form):
    """One keep / remove / promote choice per undecided smart tag."""

    CHOICES = [
        (KEEP, _("Keep")),
        (SmartTag.State.REMOVED, _("Remove")),
        (SmartTag.State.PROMOTED, _("Promote to tag")),
    ]

    def __init__(self, *args, smart_tags, **kwargs):
        super().__init__(*args, **kwargs)
        self.undecided = [tag for tag in smart_tags if tag.state == SmartTag.State.APPLIED]
        for smart_tag in self.undecided:
            self.fields[self.field_name(smart_tag)] = forms.ChoiceField(
                label=smart_tag.tag.name, choices=self.CHOICES, initial=KEEP, widget=forms.RadioSelect
            )

    @staticmethod
    def field_name(smart_tag):
        return f"decision_{smart_tag.pk}"

    def rows(self):
        return [(smart_tag, self[self.field_name(smart_tag)]) for smart_tag in self.undecided]

    def groups(self):
        """The undecided rows in two groups: the site's own (trained models, keywords), then generic tags."""
        rows = self.rows()
        own = [row for row in rows if row[0].source != SmartTag.Source.GENERIC]
        generic = [row for row in rows if row[0].source == SmartTag.Source.GENERIC]
        groups = [
            {"key": "own", "title": _("Smart tags"), "help": "", "rows": own},
            {
                "key": "generic",
                "title": _("Generic tags"),
                "help": _(
                    "What the image model recognises by itself, without any training. A tag model you train "
                    "decides on its own tags: generic tags never override it."
                ),
                "rows": generic,
            },
        ]
        return [group for group in groups if group["rows"]]

    def decisions(self):
        """``[(smart tag, state)]`` for every tag the editor chose to remove or promote."""
        return [
            (smart_tag, self.cleaned_data[self.field_name(smart_tag)])
            for smart_tag in self.undecided
            if self.cleaned_data[self.field_name(smart_tag)] != KEEP
        ]


class AssetSmartTagsView(WagtailAdminTemplateMixin, FormView):
    template_name = "wagtail_smarttags/moderation/asset_smart_tags.html"
    form_class = SmartTagDecisionsForm
    header_icon = "tag"

    @cached_property
    def kind(self):
        if self.kwargs["kind"] not in MODERATED_KINDS or self.kwargs["kind"] not in get_asset_models():
            raise Http404
        return self.kwargs["kind"]

    @cached_property
    def asset(self):
        model = get_asset_models().get(self.kind)
        asset = model._default_manager.filter(pk=self.kwargs["object_id"]).first() if model else None
        if asset is None:
            raise Http404
        if not policy_registry.get_by_type(model).user_has_permission_for_instance(self.request.user, "change", asset):
            raise PermissionDenied
        return asset

    @cached_property
    def smart_tags(self):
        return list(moderation.smart_tags_for(self.asset))

    def get_page_title(self):
        return _("Smart tags")

    def get_page_subtitle(self):
        return str(self.asset)

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": self.edit_url, "label": str(self.asset)},
            {"url": "", "label": _("Smart tags")},
        ]

    @cached_property
    def edit_url(self):
        return reverse(EDIT_URL_NAMES[self.kind], args=(self.asset.pk,))

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "smart_tags": self.smart_tags}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            asset=self.asset,
            edit_url=self.edit_url,
            decided=[tag for tag in self.smart_tags if tag.state != SmartTag.State.APPLIED],
        )
        return context

    def form_valid(self, form):
        made = {SmartTag.State.REMOVED: 0, SmartTag.State.PROMOTED: 0}
        try:
            for smart_tag, state in form.decisions():
                if moderation.DECISIONS[state](smart_tag, self.request.user):
                    made[state] += 1
        except moderation.ModerationError as error:
            messages.error(self.request, str(error))
            return redirect(self.request.path)
        messages.success(
            self.request,
            _("Smart tags of “%(asset)s” saved: %(removed)d removed, %(promoted)d promoted.")
            % {
                "asset": self.asset,
                "removed": made[SmartTag.State.REMOVED],
                "promoted": made[SmartTag.State.PROMOTED],
            },
        )
        return redirect(self.request.path)
