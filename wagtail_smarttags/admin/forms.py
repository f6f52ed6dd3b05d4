"""Forms of the training admin: a tag model with its tags, and the example images of each tag."""

from django import forms
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext_lazy as _
from taggit.models import Tag, TaggedItemBase
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.images import get_image_model

from ..models import TagModel, TagModelTag, TrainingExample
from ..pipeline.kinds import IMAGE, get_asset_kind
from ..training.guidelines import check_examples, check_shared_tags, check_tag_count, errors_in


def choosable_images(user):
    """The images ``user`` may choose in Wagtail's image chooser; every image when there is no user
    (a form built outside a request)."""
    if user is None:
        return get_image_model().objects.all()
    return get_asset_kind(IMAGE).choosable_by(user)


def tag_last_used_positions():
    """``{tag id: position}``, higher for tags applied more recently.

    Taggit records no dates, so the newest tagging row of each through model stands in for
    "last used"; rows are numbered in the order they were written.
    """
    from django.apps import apps

    positions = {}
    for model in apps.get_models():
        if not issubclass(model, TaggedItemBase) or model._meta.get_field("tag").related_model is not Tag:
            continue
        for tag_id, newest in model.objects.values_list("tag_id").annotate(newest=Max("pk")):
            positions[tag_id] = max(positions.get(tag_id, 0), newest)
    return positions


#: The picker posts the names of tags it creates as ``<field name>_new``: they have no id until saved.
NEW_TAGS_SUFFIX = "_new"
TAG_NAME_MAX_LENGTH = Tag._meta.get_field("name").max_length


class TagPicker(forms.CheckboxSelectMultiple):
    """Tick tags from the taxonomy, with a search box and sorting by name, creation or last use; a name that
    matches no tag can be created, and is saved as a taggit tag with the model."""

    template_name = "wagtail_smarttags/widgets/tag_picker.html"

    class Media:
        js = ["wagtail_smarttags/js/tag-picker.js"]
        css = {"all": ["wagtail_smarttags/css/training-admin.css"]}

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        last_used = tag_last_used_positions()
        chosen = {str(item) for item in (value or [])}
        context["new_names"] = getattr(self, "new_names", [])
        context["new_tags_name"] = f"{name}{NEW_TAGS_SUFFIX}"
        context["tag_rows"] = [
            {
                "id": tag.pk,
                "name": tag.name,
                "last_used": last_used.get(tag.pk, 0),
                "checked": str(tag.pk) in chosen,
                "input_id": f"{attrs.get('id', 'id_' + name)}_{tag.pk}",
            }
            for tag in self.choices.queryset.order_by("name")
        ]
        return context


class TagModelForm(WagtailAdminModelForm):
    tags = forms.ModelMultipleChoiceField(
        label=_("Tags"),
        queryset=Tag.objects.all(),
        widget=TagPicker,
        # Tags created in the picker come as names, not ticked ids: clean_tags() counts both.
        required=False,
        help_text=_("The tags this model decides between; an asset gets at most one of them."),
    )
    share_tags = forms.BooleanField(
        label=_("Let this model share the flagged tags with the other tag models"),
        required=False,
        help_text=_("Tick only if both models should decide these tags, each from its own examples."),
    )

    class Meta:
        model = TagModel
        fields = ["title", "description", "tags", "learn_from_moderation"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.shared_tag_messages = []
        if self.instance.pk:
            self.initial["tags"] = [link.tag_id for link in self.instance.tag_links.all()]
        # An editor sees, adds and removes only the examples in collections they may choose from;
        # the others stay as they are and count towards the guidelines.
        self.choosable_images = choosable_images(self.for_user)
        examples = {}
        if self.instance.pk:
            for tag_id, image_id in self.instance.examples.order_by("pk").values_list("tag_id", "image_id"):
                examples.setdefault(tag_id, []).append(image_id)
        everyone = [image_id for image_ids in examples.values() for image_id in image_ids]
        visible = set(self.choosable_images.filter(pk__in=everyone).values_list("pk", flat=True))
        self.unseen_examples = {}
        self.example_fields = {}
        for tag in self.current_tags():
            field_name = f"examples_{tag.pk}"
            self.fields[field_name] = forms.ModelMultipleChoiceField(
                label=tag.name,
                queryset=self.choosable_images,
                required=False,
                widget=forms.MultipleHiddenInput,
            )
            self.initial[field_name] = [pk for pk in examples.get(tag.pk, []) if pk in visible]
            self.unseen_examples[tag.pk] = [pk for pk in examples.get(tag.pk, []) if pk not in visible]
            self.example_fields[tag] = field_name

    def current_tags(self):
        if not self.instance.pk:
            return []
        return [link.tag for link in self.instance.tag_links.select_related("tag")]

    def clean_tags(self):
        tags = list(self.cleaned_data["tags"])
        tags += self.created_tags(tags)
        for message in errors_in(check_tag_count(tags)):
            self.add_error("tags", str(message))
        return tags

    def created_tags(self, ticked):
        """Tags the picker created: an existing tag of the same name (whatever its case), or a new one that
        ``save()`` creates. Their names are kept on the widget, so that an invalid form shows them again."""
        names, seen = [], {tag.name.lower() for tag in ticked}
        for name in self.data.getlist(self.add_prefix("tags") + NEW_TAGS_SUFFIX):
            name = " ".join(str(name).split())
            if name and name.lower() not in seen:
                seen.add(name.lower())
                names.append(name)
        self.fields["tags"].widget.new_names = names
        created = []
        for name in names:
            if len(name) > TAG_NAME_MAX_LENGTH:
                message = _("A tag's name has at most %(count)s characters.") % {"count": TAG_NAME_MAX_LENGTH}
                self.add_error("tags", message)
                continue
            created.append(Tag.objects.filter(name__iexact=name).first() or Tag(name=name))
        return created

    def clean(self):
        cleaned = super().clean()
        tags = cleaned.get("tags") or []
        already_linked = {tag.pk for tag in self.current_tags()}
        # Shared tags are flagged when they join this model; once accepted they stay accepted.
        added = [tag for tag in tags if tag.pk and tag.pk not in already_linked]  # a new tag is in no model
        self.shared_tag_messages = check_shared_tags(added, self.instance, accepted=cleaned.get("share_tags"))
        for message in errors_in(self.shared_tag_messages):
            self.add_error("tags", str(message))
        kept = {tag.pk for tag in tags}
        examples = {
            tag: list(cleaned.get(field_name) or [])
            for tag, field_name in self.example_fields.items()
            if tag.pk in kept
        }
        unseen = {tag.pk: len(self.unseen_examples.get(tag.pk, [])) for tag in examples}
        self.example_messages = check_examples(examples, unseen=unseen)
        for message in errors_in(self.example_messages):
            field_name = f"examples_{message.tag_id}"
            self.add_error(field_name if field_name in self.fields else None, str(message))
        return cleaned

    @property
    def needs_share_confirmation(self):
        return any(message.is_error for message in self.shared_tag_messages)

    def warnings(self):
        messages = [*self.shared_tag_messages, *getattr(self, "example_messages", [])]
        return [message for message in messages if not message.is_error]

    @transaction.atomic
    def save(self, commit=True):
        tag_model = super().save(commit=True)
        self.cleaned_data["tags"] = [
            tag if tag.pk else Tag.objects.get_or_create(name=tag.name)[0] for tag in self.cleaned_data["tags"]
        ]
        save_tags(tag_model, self.cleaned_data["tags"])
        kept = {tag.pk for tag in self.cleaned_data["tags"]}
        save_examples(
            tag_model,
            {
                tag: [image.pk for image in self.cleaned_data.get(field_name) or []]
                + self.unseen_examples.get(tag.pk, [])
                for tag, field_name in self.example_fields.items()
                if tag.pk in kept
            },
        )
        return tag_model

    def _save_m2m(self):
        # Tags go through TagModelTag with an order, written by save_tags().
        pass


def save_tags(tag_model, tags):
    """Make ``tag_model`` decide exactly ``tags``, in that order; examples of tags taken out go with them."""
    wanted = [tag.pk for tag in tags]
    tag_model.tag_links.exclude(tag_id__in=wanted).delete()
    tag_model.examples.exclude(tag_id__in=wanted).delete()
    existing = {link.tag_id: link for link in tag_model.tag_links.all()}
    for position, tag_id in enumerate(wanted):
        link = existing.get(tag_id)
        if link is None:
            TagModelTag.objects.create(tag_model=tag_model, tag_id=tag_id, sort_order=position)
        elif link.sort_order != position:
            link.sort_order = position
            link.save(update_fields=["sort_order"])


def save_examples(tag_model, image_ids_by_tag):
    """Make ``{tag: [image id, ...]}`` the examples of those tags in ``tag_model``.

    Stale examples go first, so an image moved from one tag to another never meets itself.
    """
    wanted = {(tag.pk, image_id) for tag, image_ids in image_ids_by_tag.items() for image_id in image_ids}
    examples = TrainingExample.objects.filter(tag_model=tag_model, tag__in=list(image_ids_by_tag))
    have = set(examples.values_list("tag_id", "image_id"))
    for tag_id, image_id in have - wanted:
        examples.filter(tag_id=tag_id, image_id=image_id).delete()
    TrainingExample.objects.bulk_create(
        [TrainingExample(tag_model=tag_model, tag_id=tag_id, image_id=image_id) for tag_id, image_id in wanted - have]
    )
