"""Train tag models from their example images, as versions that can be activated and rolled back."""

import logging

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from ..conf import get_setting
from ..ml.classifiers import classifier_to_arrays, train_classifier
from ..ml.errors import SmartTagsError
from ..models import TagModel, TrainingExample, TrainingVersion
from ..pipeline.kinds import IMAGE, get_asset_kind
from ..pipeline.loading import get_backbone
from ..pipeline.tagging import embed_assets
from ..queues import enqueue_on_commit
from .decisions import Decisions, moderation_decisions
from .library import library_background
from .preview import PreviewStatus, compute_preview

logger = logging.getLogger(__name__)

TRAIN_TASK = "wagtail_smarttags.tasks.train_version"
RETAG_TASK = "wagtail_smarttags.tasks.retag_with_tag_model"
PREVIEW_TASK = "wagtail_smarttags.tasks.preview_version"


class TagTrainingStatus:
    TRAINED = "trained"
    PARTIALLY_TRAINED = "partially trained"
    NOT_TRAINED = "not trained"


def request_training(tag_model, user=None, run_now=False, activate=True):
    """Create a queued version of ``tag_model`` and train it in the worker (or now, if ``run_now``).

    With ``activate`` the version tags the library as soon as it is trained; without, it is previewed
    against the library and waits for an editor to activate or discard it.
    """
    with transaction.atomic():
        # A model whose active version goes on tagging stays Trained while a new version trains.
        TagModel.objects.select_for_update().filter(pk=tag_model.pk, active_version__isnull=True).update(
            status=TagModel.Status.PENDING, status_message=""
        )
        number = (tag_model.versions.aggregate(last=Max("number"))["last"] or 0) + 1
        version = TrainingVersion.objects.create(
            tag_model=tag_model, number=number, created_by=user, activate_when_trained=activate
        )
        if not run_now:
            enqueue_on_commit(TRAIN_TASK, version.pk)
    if run_now:
        train_version(version.pk)
        version.refresh_from_db()
    tag_model.refresh_from_db()
    return version


def train_version(version_id):
    """Train one queued version. Safe to run again after a crash: it starts from the examples each time."""
    version = TrainingVersion.objects.select_related("tag_model").filter(pk=version_id).first()
    if version is None or version.status == TrainingVersion.Status.SUCCEEDED:
        return version
    tag_model = version.tag_model
    TrainingVersion.objects.filter(pk=version.pk).update(status=TrainingVersion.Status.RUNNING, error="")
    try:
        backbone = get_backbone()
        decisions = moderation_decisions(tag_model)
        embeddings, labels, metrics, example_images = collect_examples(tag_model, backbone, decisions)
        negatives = _negatives(decisions)
        background = library_background(tag_model, backbone)
        classifier, tag_metrics = train_classifier(
            embeddings, labels, **classifier_settings(), background=background, negatives=negatives
        )
    except (SmartTagsError, ValueError) as error:
        _fail(version, str(error))
        return version
    except Exception as error:
        logger.exception("Training %s failed", version)
        # Translators: %(error)s is the exception's type and message, as Python gives them (in English).
        message = gettext("Unexpected error while training: %(error)s")
        _fail(version, message % {"error": f"{type(error).__name__}: {error}"})
        return version
    for tag_id, result in tag_metrics.items():
        metrics["tags"][tag_id].update(result.as_dict())
        # Rows of the training set become the example images an editor can look at.
        for mistake in metrics["tags"][tag_id].get("mistakes", []):
            mistake["image"] = example_images[mistake.pop("example")]
    metrics["library_images"] = 0 if background is None else len(background)
    metrics["moderation"] = {
        "promoted": sum(len(images) for images in decisions.promoted.values()),
        "removed": 0 if negatives is None else len(negatives),
    }
    metrics["background_classes"] = getattr(classifier, "background_classes", 0)
    version.set_parameters(classifier_to_arrays(classifier))
    version.metrics = metrics
    version.backbone_id = backbone.id
    version.status = TrainingVersion.Status.SUCCEEDED
    version.error = ""
    version.finished_at = timezone.now()
    with transaction.atomic():
        version.save()
        if version.activate_when_trained:
            activate_version(version)
        else:
            TagModel.objects.filter(pk=tag_model.pk).update(
                status=TagModel.Status.TRAINED, status_message="", last_trained_at=version.finished_at
            )
    if not version.activate_when_trained:
        compute_preview(version)
    return version


def activate_version(version):
    """Make ``version`` the one that tags assets, and re-tag the library with it from cached embeddings."""
    tag_model = version.tag_model
    with transaction.atomic():
        TagModel.objects.select_for_update().filter(pk=tag_model.pk).update(
            active_version=version,
            status=TagModel.Status.TRAINED,
            status_message="",
            last_trained_at=version.finished_at or timezone.now(),
        )
        if version.activated_at is None:
            version.activated_at = timezone.now()
            TrainingVersion.objects.filter(pk=version.pk).update(activated_at=version.activated_at)
        enqueue_on_commit(RETAG_TASK, tag_model.pk)


def request_preview(version, run_now=False):
    """Work out again what activating ``version`` would change, in the worker (or now)."""
    if run_now:
        return compute_preview(version)
    TrainingVersion.objects.filter(pk=version.pk).update(preview={"status": PreviewStatus.COMPUTING})
    enqueue_on_commit(PREVIEW_TASK, version.pk)
    return None


def preview_version(version_id):
    version = TrainingVersion.objects.select_related("tag_model").filter(pk=version_id).first()
    if version is None or not version.awaits_activation:
        return None
    return compute_preview(version)


def collect_examples(tag_model, backbone, decisions=None):
    """Embed the model's examples, and the images editors promoted to its tags (``decisions``). Returns
    ``(embeddings, labels, metrics, image id of each row)``; labels are tag ids as strings."""
    import numpy as np

    minimum = get_setting("MIN_EXAMPLES_PER_TAG")
    decisions = decisions or Decisions()
    tags = list(tag_model.tags.order_by("name"))
    chosen = [
        (example.image_id, example.tag_id)
        for example in TrainingExample.objects.filter(tag_model=tag_model).order_by("tag__name", "pk")
    ]
    promoted = [(image_id, tag_id) for tag_id, images in decisions.promoted.items() for image_id in images]
    rows = [*chosen, *promoted]
    vectors, errors = embed_assets(get_asset_kind(IMAGE), list(dict.fromkeys(image for image, _ in rows)))
    metrics = {"tags": {}, "skipped_examples": [], "backbone": backbone.id}
    counts = {tag.pk: 0 for tag in tags}
    embeddings, labels, example_images = [], [], []
    for image_id, tag_id in rows:
        if tag_id not in counts:
            continue  # The tag was taken out of the model after the example was chosen.
        if image_id not in vectors:
            error = errors.get(image_id, "The image could not be read.")
            metrics["skipped_examples"].append({"image": image_id, "error": error})
            continue
        counts[tag_id] += 1
        embeddings.append(vectors[image_id])
        labels.append(str(tag_id))
        example_images.append(image_id)
    for tag in tags:
        count = counts[tag.pk]
        metrics["tags"][str(tag.pk)] = {
            "name": tag.name,
            "examples": count,
            "status": tag_training_status(count, minimum),
            **({"moderation": decisions.counts(tag.pk)} if tag_model.learn_from_moderation else {}),
        }
    usable = [tag for tag in tags if counts[tag.pk]]
    if len(usable) < 2:
        # Shown to editors as the version's error: see train_version().
        message = ngettext(
            "A tag model needs example images for at least two tags; %(count)s of its %(total)s tags has usable "
            "examples.",
            "A tag model needs example images for at least two tags; %(count)s of its %(total)s tags have usable "
            "examples.",
            len(usable),
        )
        raise ValueError(message % {"count": len(usable), "total": len(tags)})
    return np.stack(embeddings), labels, metrics, example_images


def _negatives(decisions):
    """The embeddings of the images editors removed one of the model's tags from, or None."""
    import numpy as np

    images = decisions.removed_images
    if not images:
        return None
    vectors, _ = embed_assets(get_asset_kind(IMAGE), images)
    rows = [vector for vector in vectors.values() if vector.ndim == 1]
    return np.stack(rows) if rows else None


def classifier_settings():
    """``{"backend": ..., "options": ...}`` for :func:`~wagtail_smarttags.ml.classifiers.train_classifier`."""
    config = get_setting("CLASSIFIER")
    options = {
        "folds": get_setting("CROSS_VALIDATION_FOLDS"),
        "min_examples_to_apply": get_setting("MIN_EXAMPLES_PER_TAG"),
        **(config.get("OPTIONS") or {}),
    }
    return {"backend": config["BACKEND"], "options": options}


def tag_training_status(example_count, minimum):
    if example_count >= minimum:
        return TagTrainingStatus.TRAINED
    if example_count > 0:
        return TagTrainingStatus.PARTIALLY_TRAINED
    return TagTrainingStatus.NOT_TRAINED


def _fail(version, message):
    with transaction.atomic():
        TrainingVersion.objects.filter(pk=version.pk).update(
            status=TrainingVersion.Status.FAILED, error=message, finished_at=timezone.now()
        )
        # Failed only if nothing tags with it: an earlier active version goes on tagging.
        TagModel.objects.filter(pk=version.tag_model_id, active_version__isnull=True).update(
            status=TagModel.Status.FAILED, status_message=message
        )
    version.refresh_from_db()


# Audit log actions of the training admin, registered with Wagtail in wagtail_hooks.py.
LOG_CREATE = "wagtail_smarttags.tag_model.create"
LOG_TRAIN = "wagtail_smarttags.tag_model.train"
LOG_ROLLBACK = "wagtail_smarttags.tag_model.rollback"
LOG_ACTIVATE = "wagtail_smarttags.tag_model.activate"
LOG_DISCARD = "wagtail_smarttags.tag_model.discard"
LOG_DELETE = "wagtail_smarttags.tag_model.delete"


def train_tag_model(tag_model, user=None, activate=True):
    """Queue a training of ``tag_model`` for ``user`` and record it in the audit log."""
    from wagtail.log_actions import log

    version = request_training(tag_model, user, activate=activate)
    log(tag_model, LOG_TRAIN, user=user, data={"version": version.number, "preview": not activate})
    return version


def activate_previewed(version, user=None):
    """Make a version that awaited activation the active one, re-tag the library, and record who did it."""
    if not version.awaits_activation:
        raise ValueError(f"Version {version.number} of {version.tag_model} is not waiting to be activated.")
    return _switch_to(version, user, LOG_ACTIVATE)


def discard_version(version, user=None):
    """Turn down a version that awaited activation: it keeps its metrics, loses its parameters, never tags."""
    from wagtail.log_actions import log

    if not version.awaits_activation:
        raise ValueError(f"Version {version.number} of {version.tag_model} is not waiting to be activated.")
    with transaction.atomic():
        TrainingVersion.objects.filter(pk=version.pk).update(
            status=TrainingVersion.Status.DISCARDED, parameters=None, preview={}
        )
        log(version.tag_model, LOG_DISCARD, user=user, data={"version": version.number})
    version.refresh_from_db()
    return version


def rollback_to(version, user=None):
    """Make an earlier, successful ``version`` the active one again, and record who did it.

    The library is re-tagged from cached embeddings; smart tags editors removed or promoted keep
    their state (see ``pipeline.writing``).
    """
    if version.status != TrainingVersion.Status.SUCCEEDED or not version.parameters:
        raise ValueError(f"Version {version.number} of {version.tag_model} did not train successfully.")
    return _switch_to(version, user, LOG_ROLLBACK)


def _switch_to(version, user, action):
    from wagtail.log_actions import log

    previous = version.tag_model.active_version
    activate_version(version)
    version.tag_model.refresh_from_db()
    log(
        version.tag_model,
        action,
        user=user,
        data={"version": version.number, "previous_version": previous.number if previous else None},
    )
    return version


def delete_tag_model(tag_model, user=None):
    """Delete ``tag_model`` with its examples, versions and applied smart tags, after logging it.

    Smart tags that editors removed or promoted stay, as decisions on their (asset, tag).
    """
    from wagtail.log_actions import log

    with transaction.atomic():
        log(tag_model, LOG_DELETE, user=user)
        tag_model.delete()
