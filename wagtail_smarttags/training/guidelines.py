"""The training guidelines, checked before anything is saved or trained.

Every check returns :class:`GuidelineMessage` objects that name the tag or image at fault,
so the admin, the commands and the API can show the same words. Errors block saving or
training; warnings (a partially trained tag, a tag another model also decides) do not.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ..conf import get_setting
from ..models import TagModelTag, TrainingExample

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class GuidelineMessage:
    level: str
    code: str
    message: str
    tag_id: int | None = None
    image_id: int | None = None

    @property
    def is_error(self):
        return self.level == ERROR

    def __str__(self):
        return str(self.message)


def errors_in(messages):
    return [message for message in messages if message.is_error]


def quoted(name):
    """``name`` between the quotation marks of the editor's language, for a list of names in a message."""
    # Translators: a tag's or a tag model's name, quoted; use your language's quotation marks.
    return _("“%(name)s”") % {"name": name}


def check_tag_count(tags):
    """At least MIN_TAGS_PER_MODEL and at most MAX_TAGS_PER_MODEL tags per model."""
    count = len(tags)
    minimum, maximum = get_setting("MIN_TAGS_PER_MODEL"), get_setting("MAX_TAGS_PER_MODEL")
    if count < minimum:
        text = _("A tag model needs at least %(minimum)s tags to decide between; it has %(count)s.")
        return [GuidelineMessage(ERROR, "too_few_tags", text % {"minimum": minimum, "count": count})]
    if count > maximum:
        text = _("A tag model may have at most %(maximum)s tags; it has %(count)s.")
        return [GuidelineMessage(ERROR, "too_many_tags", text % {"maximum": maximum, "count": count})]
    return []


def check_examples(examples_by_tag, unseen=None):
    """Check ``{tag: [image, ...]}``: the example count of each tag, and no image exemplifying two tags.

    ``unseen`` (``{tag id: count}``) are further examples the editor may not see, counted but not named.
    """
    minimum, maximum = get_setting("MIN_EXAMPLES_PER_TAG"), get_setting("MAX_EXAMPLES_PER_TAG")
    unseen = unseen or {}
    messages = []
    tags_of_image = defaultdict(list)
    images = {}
    for tag, tag_images in examples_by_tag.items():
        count = len(tag_images) + unseen.get(tag.pk, 0)
        values = {"tag": tag.name, "count": count, "minimum": minimum, "maximum": maximum}
        if count > maximum:
            text = _("“%(tag)s” has %(count)s example images; a tag may have at most %(maximum)s.")
            messages.append(GuidelineMessage(ERROR, "too_many_examples", text % values, tag_id=tag.pk))
        elif count == 0:
            text = _("“%(tag)s” has no example images: it will not be trained until it has some.")
            messages.append(GuidelineMessage(WARNING, "not_trained", text % values, tag_id=tag.pk))
        elif count < minimum:
            text = ngettext(
                "“%(tag)s” has %(count)s example image, fewer than %(minimum)s: it will be partially trained, "
                "and not applied to assets automatically until it has %(minimum)s.",
                "“%(tag)s” has %(count)s example images, fewer than %(minimum)s: it will be partially trained, "
                "and not applied to assets automatically until it has %(minimum)s.",
                count,
            )
            messages.append(GuidelineMessage(WARNING, "partially_trained", text % values, tag_id=tag.pk))
        for image in tag_images:
            images[image.pk] = image
            if tag not in tags_of_image[image.pk]:
                tags_of_image[image.pk].append(tag)
    for image_id, tags in tags_of_image.items():
        if len(tags) > 1:
            text = _(
                "The image “%(image)s” is an example of %(tags)s: an image may be an example of only one tag "
                "of a model. Remove it from all but one."
            )
            names = ", ".join(quoted(tag.name) for tag in tags)
            messages.append(
                GuidelineMessage(
                    ERROR,
                    "image_in_two_tags",
                    text % {"image": images[image_id].title, "tags": names},
                    tag_id=tags[-1].pk,
                    image_id=image_id,
                )
            )
    return messages


def find_shared_tags(tags, tag_model=None):
    """``{tag: [other tag model, ...]}`` for the tags that other tag models also decide."""
    links = TagModelTag.objects.filter(tag__in=tags).select_related("tag_model", "tag").order_by("tag_model__title")
    if tag_model is not None and tag_model.pk:
        links = links.exclude(tag_model=tag_model)
    shared = defaultdict(list)
    for link in links:
        shared[link.tag].append(link.tag_model)
    return dict(shared)


def check_shared_tags(tags, tag_model=None, accepted=False):
    """A tag another model also decides makes the two models fight over it: an error until the editor accepts it."""
    level = WARNING if accepted else ERROR
    messages = []
    for tag, other_models in find_shared_tags(tags, tag_model).items():
        text = ngettext(
            "“%(tag)s” already belongs to the tag model %(models)s: both models would apply it, each by its own "
            "examples. Remove it from this model, or confirm that both may use it.",
            "“%(tag)s” already belongs to the tag models %(models)s: every model would apply it, each by its own "
            "examples. Remove it from this model, or confirm that they may all use it.",
            len(other_models),
        )
        names = ", ".join(quoted(other.title) for other in other_models)
        messages.append(GuidelineMessage(level, "shared_tag", text % {"tag": tag.name, "models": names}, tag.pk))
    return messages


def check_ready_to_train(tag_model):
    """Everything the guidelines say about training ``tag_model`` as it is saved now.

    Tags shared with other models are not among them: the editor confirmed each when it joined the model
    (``check_shared_tags``), and a confirmation asked for again at every training is one nobody reads.
    """
    tags = list(tag_model.tags.order_by("name"))
    examples = defaultdict(list)
    for example in TrainingExample.objects.filter(tag_model=tag_model, tag__in=tags).select_related("image", "tag"):
        examples[example.tag].append(example.image)
    messages = check_tag_count(tags)
    messages += check_examples({tag: examples.get(tag, []) for tag in tags})
    trainable = [tag for tag in tags if examples.get(tag)]
    if len(tags) >= get_setting("MIN_TAGS_PER_MODEL") and len(trainable) < 2:
        text = ngettext(
            "Training needs example images for at least two tags; %(count)s of the %(total)s tags has some. "
            "Add assets to the tags first.",
            "Training needs example images for at least two tags; %(count)s of the %(total)s tags have some. "
            "Add assets to the tags first.",
            len(trainable),
        )
        messages.append(
            GuidelineMessage(ERROR, "too_few_trainable_tags", text % {"count": len(trainable), "total": len(tags)})
        )
    return messages
