"""The "Smart tags" screen of an image, document or video: list its smart tags, remove or promote them."""

import re

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from ... import moderation
from ...models import SmartTag, TaggingState, TrainingVersion
from ...pipeline.kinds import get_asset_kind
from ...worker_health import worker_backlog

KEEP = "keep"
FIELD_PREFIX = "decision_"
# decision_<tag id> for a taggit tag, decision_l<label id> for one of the app's labels (see SmartTag.term).
TERM_FIELD = re.compile(rf"{FIELD_PREFIX}l?\d+")


class SmartTagDecisionsForm(forms.Form):
    """One keep / remove / promote choice per undecided smart tag, named by its tag or label, not the row.

    A re-tag may update, add or withdraw smart tags while the page is open: a posted choice
    still names its (asset, tag), and one for a tag no longer listed is kept as a field so that
    the view can apply it or tell the editor why not, never drop it silently.
    """

    CHOICES = [
        (KEEP, _("Keep")),
        (SmartTag.State.REMOVED, _("Remove")),
        (SmartTag.State.PROMOTED, _("Promote to tag")),
    ]

    def __init__(self, *args, smart_tags, **kwargs):
        super().__init__(*args, **kwargs)
        self.undecided = [tag for tag in smart_tags if tag.state == SmartTag.State.APPLIED]
        for smart_tag in self.undecided:
            self.fields[self.field_name(smart_tag.term)] = self._choice(smart_tag.name)
        listed = {smart_tag.term for smart_tag in self.undecided}
        self.unlisted = sorted(
            name[len(FIELD_PREFIX) :]
            for name in (self.data or {})
            if TERM_FIELD.fullmatch(name) and name[len(FIELD_PREFIX) :] not in listed
        )
        for term in self.unlisted:
            self.fields[self.field_name(term)] = self._choice(term)

    def _choice(self, label):
        # Not required: a smart tag a re-tag added after the page was opened is simply kept.
        return forms.ChoiceField(
            label=label, choices=self.CHOICES, initial=KEEP, required=False, widget=forms.RadioSelect
        )

    @staticmethod
    def field_name(term):
        return f"{FIELD_PREFIX}{term}"

    def rows(self):
        return [(smart_tag, self[self.field_name(smart_tag.term)]) for smart_tag in self.undecided]

    def groups(self):
        """The undecided rows in groups: the site's own (trained models, keywords), then generic tags, then colours."""
        rows = self.rows()
        apart = (SmartTag.Source.GENERIC, SmartTag.Source.COLOUR)
        own = [row for row in rows if row[0].source not in apart]
        generic = [row for row in rows if row[0].source == SmartTag.Source.GENERIC]
        colours = [row for row in rows if row[0].source == SmartTag.Source.COLOUR]
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
            {
                "key": "colour",
                "title": _("Colours"),
                "help": _(
                    "The picture's dominant colours, named from a fixed palette; the percentage is the share "
                    "of the picture each covers."
                ),
                "rows": colours,
            },
        ]
        return [group for group in groups if group["rows"]]

    def decisions(self):
        """``[(term, state)]`` for every smart tag the editor chose to remove or promote."""
        terms = [smart_tag.term for smart_tag in self.undecided] + self.unlisted
        return [
            (term, self.cleaned_data[self.field_name(term)])
            for term in terms
            if self.cleaned_data[self.field_name(term)] not in (KEEP, "")
        ]


class AssetSmartTagsView(WagtailAdminTemplateMixin, FormView):
    template_name = "wagtail_smarttags/moderation/asset_smart_tags.html"
    form_class = SmartTagDecisionsForm
    header_icon = "tag"

    @cached_property
    def kind(self):
        kind = get_asset_kind(self.kwargs["kind"])
        if kind is None:
            raise Http404
        return kind

    @cached_property
    def asset(self):
        model = self.kind.get_model()
        asset = model._default_manager.filter(pk=self.kwargs["object_id"]).first()
        if asset is None:
            raise Http404
        if not self.kind.permission_policy().user_has_permission_for_instance(self.request.user, "change", asset):
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
        return self.kind.edit_url(self.asset.pk)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "smart_tags": self.smart_tags}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tagging = TaggingState.objects.for_asset(self.asset).first()
        context.update(
            asset=self.asset,
            # How the last tagging went, so that an editor sees why a file has no smart tags.
            tagging=tagging,
            tagged_by=self.versions_of(tagging),
            # Only for a queued asset: whether a worker is coming at all.
            backlog=worker_backlog() if getattr(tagging, "status", None) == TaggingState.Status.PENDING else None,
            edit_url=self.edit_url,
            summary=self.kind.summary(self.asset),
            decided=[tag for tag in self.smart_tags if tag.state != SmartTag.State.APPLIED],
        )
        return context

    def versions_of(self, tagging):
        """The tag-model versions the asset was last tagged with, as "Garments v2" strings."""
        if tagging is None or tagging.status != TaggingState.Status.DONE or not self.kind.visual:
            return []
        versions = TrainingVersion.objects.filter(pk__in=list((tagging.model_versions or {}).values()))
        return [f"{version.tag_model.title} v{version.number}" for version in versions.select_related("tag_model")]

    def form_invalid(self, form):
        messages.error(self.request, _("The decisions could not be saved: choose Keep, Remove or Promote."))
        return super().form_invalid(form)

    def form_valid(self, form):
        made = {SmartTag.State.REMOVED: 0, SmartTag.State.PROMOTED: 0}
        refused = []
        for term, state in form.decisions():
            try:
                if moderation.decide(self.asset, term, state, self.request.user):
                    made[state] += 1
            except moderation.ModerationError as error:
                refused.append(str(error))
        for message in refused:
            messages.error(self.request, message)
        if refused and not any(made.values()):
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
