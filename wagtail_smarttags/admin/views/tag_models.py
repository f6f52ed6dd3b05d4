"""The "Tag models" screens: list, create, edit (tags and their example images), train and delete."""

from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Subquery
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.ui.tables import Column, DateColumn, StatusTagColumn
from wagtail.admin.views import generic
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import Button
from wagtail.images.shortcuts import get_rendition_or_not_found
from wagtail.log_actions import log

from ...conf import get_setting
from ...models import TagModel, TrainingVersion
from ...training import service as training
from ...training.decisions import Decisions, decisions_on
from ...training.guidelines import check_ready_to_train, errors_in, find_shared_tags
from ...training.suggestions import suggest_examples
from ...worker_health import worker_backlog
from ..forms import TagModelForm
from ..permissions import ANY_TAG_MODEL_ACTION, can_train, forbidden_on_denied, tag_model_permissions
from . import versions

THUMBNAIL_FILTER = "fill-120x120"
#: Thumbnails of the images editors promoted (or removed) a tag on, shown under the tag's examples.
DECISIONS_SHOWN = 12


class TrainingProgressColumn(Column):
    """The latest training of each model: queued, training, succeeded or failed with its reason."""

    cell_template_name = "wagtail_smarttags/tables/training_progress_cell.html"


class TagModelIndexView(generic.IndexView):
    any_permission_required = ANY_TAG_MODEL_ACTION
    template_name = "wagtail_smarttags/tag_models/index.html"
    # Wagtail's "Add %(model_name)s" reads "Ajouter un(e) …" in French; a label of our own agrees.
    add_item_label = _("Add tag model")

    def get_base_queryset(self):
        latest = TrainingVersion.objects.filter(tag_model=OuterRef("pk")).order_by("-number")
        return (
            super()
            .get_base_queryset()
            .select_related("active_version")
            .annotate(
                tag_count=Count("tag_links", distinct=True),
                latest_version_number=Subquery(latest.values("number")[:1]),
                latest_version_status=Subquery(latest.values("status")[:1]),
                latest_version_error=Subquery(latest.values("error")[:1]),
                latest_version_id=Subquery(latest.values("pk")[:1]),
                latest_version_activated_at=Subquery(latest.values("activated_at")[:1]),
            )
        )

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if can_train(self.request.user):
            buttons.append(
                Button(_("Train"), url=reverse("tagmodel:train", args=[quote(instance.pk)]), icon_name="cogs")
            )
            buttons.append(
                Button(_("Versions"), url=reverse("tagmodel:versions", args=[quote(instance.pk)]), icon_name="history")
            )
        return buttons

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        # The list refreshes itself while a training is queued or running, to show its outcome.
        context["training_in_progress"] = any(
            row.latest_version_status in (TrainingVersion.Status.QUEUED, TrainingVersion.Status.RUNNING)
            for row in context["object_list"]
        )
        context["backlog"] = worker_backlog() if context["training_in_progress"] else None
        return context


class TagModelFormMixin:
    """Shared by the create and edit views: the form with thumbnails, guideline warnings and training."""

    template_name = "wagtail_smarttags/tag_models/form.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["form"]
        context["tag_sections"] = self.tag_sections(form)
        context["image_chooser_url"] = reverse("wagtailimages_chooser:choose")
        context["can_train"] = can_train(self.request.user)
        context["media"] += form.media
        return context

    def tag_sections(self, form):
        """One section per tag of the model: its chosen images as thumbnails, its field's errors, and the
        editors' decisions on its smart tags that a training learns from."""
        # Only images the editor may choose are shown, whatever ids a submitted form names.
        images = form.choosable_images.in_bulk
        decisions = decisions_on(form.instance) if form.instance.pk else Decisions()
        suggested = suggest_examples(form.instance, form.choosable_images) if form.instance.pk else {}
        suggested_images = images([pk for ids in suggested.values() for pk in ids])
        sections = []
        for tag, field_name in form.example_fields.items():
            bound = form[field_name]
            if form.is_bound:
                ids = [value for value in form.data.getlist(form.add_prefix(field_name)) if str(value).isdigit()]
            else:
                ids = [str(value) for value in bound.initial]
            chosen = images([int(value) for value in ids])
            sections.append(
                {
                    "tag": tag,
                    "field_name": form.add_prefix(field_name),
                    "errors": bound.errors,
                    "images": [
                        {"image": chosen[int(value)], "thumbnail": self.thumbnail(chosen[int(value)])}
                        for value in ids
                        if int(value) in chosen
                    ],
                    "unseen": len(form.unseen_examples.get(tag.pk, [])),
                    "suggested": [
                        {"image": suggested_images[pk], "thumbnail": self.thumbnail(suggested_images[pk])}
                        for pk in suggested.get(tag.pk, [])
                        if pk in suggested_images and str(pk) not in ids
                    ],
                    "promoted": self.decided_images(form, decisions.promoted.get(tag.pk, [])),
                    "removed": self.decided_images(form, decisions.removed.get(tag.pk, [])),
                }
            )
        return sections

    def decided_images(self, form, image_ids):
        """``{"count", "shown": [{"image", "thumbnail"}]}`` for images editors decided on, the latest first;
        the count is of them all, the thumbnails only of images the editor may choose."""
        found = form.choosable_images.in_bulk(image_ids)
        shown = [found[pk] for pk in image_ids if pk in found][:DECISIONS_SHOWN]
        thumbnails = [{"image": i, "thumbnail": get_rendition_or_not_found(i, "fill-80x80")} for i in shown]
        return {"count": len(image_ids), "shown": thumbnails}

    def thumbnail(self, image):
        return get_rendition_or_not_found(image, THUMBNAIL_FILTER)

    def get_success_buttons(self):
        # Success leads to the edit screen already: an "Edit" button would go nowhere new.
        return []

    def show_guideline_warnings(self, form):
        for message in form.warnings():
            messages.warning(self.request, str(message))


class TagModelCreateView(TagModelFormMixin, generic.CreateView):
    success_message = _("Tag model “%(object)s” created. Now add example images to each of its tags.")

    def save_instance(self):
        tag_model = self.form.save()
        log(tag_model, training.LOG_CREATE, user=self.request.user)
        self.show_guideline_warnings(self.form)
        return tag_model

    def get_success_url(self):
        return reverse(self.edit_url_name, args=[quote(self.object.pk)])


class TagModelEditView(TagModelFormMixin, generic.EditView):
    actions = ["edit", "train"]

    def save_instance(self):
        tag_model = self.form.save()
        log(tag_model, "wagtail.edit", user=self.request.user)
        if self.action != "train":  # training shows the same guideline messages itself, once
            self.show_guideline_warnings(self.form)
        return tag_model

    def save_action(self):
        if self.action != "train":
            return super().save_action()
        messages.success(self.request, self.get_success_message())
        return start_training(self.request, self.object)

    def get_success_url(self):
        return reverse(self.edit_url_name, args=[quote(self.object.pk)])


class TagModelDeleteView(generic.DeleteView):
    success_message = _(
        "Tag model “%(object)s” deleted, with its versions and the smart tags it gave; editors' decisions on them "
        "stay."
    )

    def delete_action(self):
        training.delete_tag_model(self.object, user=self.request.user)


def start_training(request, tag_model, activate=None):
    """Queue a training if the guidelines allow it, and tell the editor what happens next.

    ``activate`` None follows ``PREVIEW_BEFORE_ACTIVATION``.
    """
    if not can_train(request.user):
        messages.error(request, _("You may edit tag models but not train them: ask someone who may."))
        return redirect("tagmodel:edit", quote(tag_model.pk))
    problems = check_ready_to_train(tag_model)
    blocking = errors_in(problems)
    if blocking:
        for message in blocking:
            messages.error(request, str(message))
        return redirect("tagmodel:edit", quote(tag_model.pk))
    for message in problems:
        messages.warning(request, str(message))
    if activate is None:
        activate = not get_setting("PREVIEW_BEFORE_ACTIVATION")
    version = training.train_tag_model(tag_model, user=request.user, activate=activate)
    if activate:
        message = _(
            "Training of “%(model)s” started in the background as version %(version)s. "
            "This list shows its progress; the version tags the library as soon as it is trained."
        )
    else:
        message = _(
            "Training of “%(model)s” started in the background as version %(version)s. "
            "This list shows its progress; once it is trained, preview what it would change in the library, "
            "then activate or discard it."
        )
    messages.success(request, message % {"model": tag_model.title, "version": version.number})
    return redirect("tagmodel:index")


class TrainView(WagtailAdminTemplateMixin, TemplateView):
    """Show what the guidelines say about a tag model as it is saved now, then train it on POST."""

    template_name = "wagtail_smarttags/tag_models/train.html"
    header_icon = "tag"
    page_title = _("Train")

    def dispatch(self, request, *args, **kwargs):
        if not can_train(request.user):
            raise PermissionDenied
        self.tag_model = get_object_or_404(TagModel, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_page_subtitle(self):
        return self.tag_model.title

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("tagmodel:index"), "label": _("Tag models")},
            {"url": "", "label": self.tag_model.title},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        problems = check_ready_to_train(self.tag_model)
        context.update(
            tag_model=self.tag_model,
            errors=errors_in(problems),
            warnings=[message for message in problems if not message.is_error],
            shared_tags=find_shared_tags(list(self.tag_model.tags.order_by("name")), self.tag_model),
            preview_first=get_setting("PREVIEW_BEFORE_ACTIVATION"),
        )
        return context

    def post(self, request, pk):
        return start_training(request, self.tag_model, activate=request.POST.get("then") == "activate")


class TagModelViewSet(ModelViewSet):
    model = TagModel
    icon = "tag"
    menu_label = _("Tag models")
    name = "tagmodel"
    url_prefix = "smart-tags/models"
    form_fields = ["title", "description", "tags", "learn_from_moderation"]
    copy_view_enabled = False
    add_to_reference_index = False
    index_view_class = TagModelIndexView
    add_view_class = TagModelCreateView
    edit_view_class = TagModelEditView
    delete_view_class = TagModelDeleteView
    search_fields = ["title", "description"]
    search_backend_name = None
    list_display = [
        "title",
        StatusTagColumn("get_status_display", label=_("Status"), sort_key="status"),
        TrainingProgressColumn("latest_version_status", label=_("Last training")),
        Column("tag_count", label=_("Tags")),
        DateColumn("last_trained_at", label=_("Last trained"), sort_key="last_trained_at"),
    ]
    list_filter = ["status"]

    def get_form_class(self, for_update=False):
        return TagModelForm

    def get_permissions_to_register(self):
        return tag_model_permissions()

    @cached_property
    def menu_item_class(self):
        from wagtail.admin.menu import MenuItem

        from ..permissions import can_see_tag_models

        class TagModelsMenuItem(MenuItem):
            def is_shown(self, request):
                return can_see_tag_models(request.user)

        return TagModelsMenuItem

    def get_urlpatterns(self):
        urlpatterns = [
            *(pattern for pattern in super().get_urlpatterns() if pattern.name != "usage"),
            path("train/<int:pk>/", TrainView.as_view(), name="train"),
            path("versions/<int:pk>/", versions.VersionsView.as_view(), name="versions"),
            path("versions/<int:pk>/rollback/<int:version_id>/", versions.RollbackView.as_view(), name="rollback"),
            path("versions/<int:pk>/preview/<int:version_id>/", versions.PreviewView.as_view(), name="preview"),
            path(
                "versions/<int:pk>/preview/<int:version_id>/refresh/",
                versions.RefreshPreviewView.as_view(),
                name="refresh_preview",
            ),
            path("versions/<int:pk>/activate/<int:version_id>/", versions.ActivateView.as_view(), name="activate"),
            path("versions/<int:pk>/discard/<int:version_id>/", versions.DiscardView.as_view(), name="discard"),
        ]
        # Every URL answers 403 to users without the permission it needs.
        for pattern in urlpatterns:
            pattern.callback = forbidden_on_denied(pattern.callback)
        return urlpatterns

    def get_common_view_kwargs(self, **kwargs):
        return super().get_common_view_kwargs(usage_url_name=None, **kwargs)


class SmartTagsMenu(ViewSetGroup):
    menu_label = _("Smart tags")
    menu_icon = "tag"
    menu_order = 250
    items = [TagModelViewSet]
