"""Tag one asset, or many from cached embeddings, and write smart tags that respect editors' decisions."""

import logging
from collections import defaultdict

from django.contrib.contenttypes.models import ContentType
from django.db.models import F

from .assets import DOCUMENT, IMAGE, VIDEO, asset_kind, file_identity
from .backbones import get_backbone
from .classifiers import active_tag_models
from .conf import get_setting
from .embeddings import embed_image_file, embed_video_file
from .generic import apply_generic_tags
from .ml.errors import BackboneLoadError, MissingDependencyError, NotTaggableError, SmartTagsError
from .models import SmartTag, TaggingState, TagModel
from .writing import write_source_tags, write_trained_tags

#: Asset kinds tagged from embeddings, whose tags change when a tag model is retrained.
VISUAL_KINDS = (IMAGE, VIDEO)

logger = logging.getLogger(__name__)

STATE_FIELDS_WRITTEN_BY_TAGGING = [
    "status", "error", "file_name", "file_hash", "model_versions", "tagged_at", "updated_at",
]  # fmt: skip


def tag_asset(content_type_id, object_id):
    """Tag one asset now. Never raises for a bad file: the error is recorded on the asset's state."""
    content_type = ContentType.objects.get_for_id(content_type_id)
    model = content_type.model_class()
    asset = model._default_manager.filter(pk=object_id).first() if model else None
    if asset is None:
        TaggingState.objects.filter(content_type=content_type, object_id=object_id).delete()
        return TaggingState.Status.SKIPPED
    state, _ = TaggingState.objects.get_or_create(content_type=content_type, object_id=object_id)
    # Counted in the database: two workers may be tagging the same asset at once.
    TaggingState.objects.filter(pk=state.pk).update(attempts=F("attempts") + 1)
    state.file_name, state.file_hash = file_identity(asset)
    kind = asset_kind(model)
    tagger = ASSET_TAGGERS.get(kind)
    versions = active_versions()
    try:
        if tagger is None:
            state.mark(TaggingState.Status.SKIPPED, f"Smart tags are not available for {kind or 'this'} assets yet.")
        else:
            state.file_hash = tagger(asset, content_type) or state.file_hash
            state.mark(TaggingState.Status.DONE)
    except NotTaggableError as error:
        state.mark(TaggingState.Status.SKIPPED, str(error))
    except (BackboneLoadError, MissingDependencyError) as error:
        # Nothing is wrong with the asset: tagging is paused until the backbone loads again.
        state.status = TaggingState.Status.PENDING
        state.error = f"Tagging is paused: {error}"
        logger.error("Tagging is paused: %s", error)
    except SmartTagsError as error:
        state.mark(TaggingState.Status.FAILED, str(error))
    except Exception as error:
        # A worker must survive anything a file can do to a library; keep the traceback in the log.
        logger.exception("Unexpected error while tagging %s %s", content_type.model, object_id)
        state.mark(TaggingState.Status.FAILED, f"Unexpected error while tagging: {type(error).__name__}: {error}")
    state.model_versions = versions
    state.save(update_fields=STATE_FIELDS_WRITTEN_BY_TAGGING)
    if state.status == TaggingState.Status.DONE and kind in VISUAL_KINDS:
        _catch_up_with_retraining(asset, content_type, state, ASSET_TAGGERS[kind])
    return state.status


def _catch_up_with_retraining(asset, content_type, state, tagger):
    """Re-apply the models if one was retrained or rolled back while this asset was being tagged.

    The library re-tag that follows a training only sees assets already marked done, so an
    asset finishing at that moment would otherwise keep the previous version's tags. Its
    embedding is cached by now: catching up costs no decoding.
    """
    for _ in range(3):
        versions = active_versions()
        if versions == state.model_versions:
            return
        tagger(asset, content_type)
        state.model_versions = versions
        TaggingState.objects.filter(pk=state.pk).update(model_versions=versions)


def tag_image(image, content_type):
    backbone = get_backbone()
    vector, labels, file_hash = embed_image_file(image.file, backbone)
    apply_tag_models(content_type.pk, {image.pk: vector}, backbone.id)
    apply_generic_tags(content_type.pk, {image.pk: (vector, [labels])}, backbone)
    return file_hash


def tag_video(media, content_type):
    """Smart tags for a video from frames sampled across it; audio files are skipped."""
    if getattr(media, "type", "video") == "audio":
        raise NotTaggableError("This is an audio file: only videos get smart tags.")
    backbone = get_backbone()
    frame_vectors, frame_labels, file_hash = embed_video_file(media.file, backbone)
    apply_tag_models(content_type.pk, {media.pk: frame_vectors}, backbone.id)
    apply_generic_tags(content_type.pk, {media.pk: (frame_vectors, frame_labels)}, backbone)
    return file_hash


def tag_document(document, content_type):
    """Smart tags for a text document: the keywords that occur in it, preferring taxonomy tags."""
    from dataclasses import replace

    from taggit.models import Tag

    from .embeddings import stream_hash
    from .ml.text import DEFAULT_LIMITS, keywords_for_file

    limits = replace(DEFAULT_LIMITS, **get_setting("TEXT_LIMITS"))
    file_hash = stream_hash(document.file)
    taxonomy = list(Tag.objects.values_list("name", flat=True))
    document.file.open("rb")
    try:
        result = keywords_for_file(
            document.file, document.file.name, taxonomy=taxonomy, top_n=get_setting("TEXT_KEYWORDS"), limits=limits
        )
    finally:
        document.file.close()
    minimum = get_setting("MIN_CONFIDENCE")
    labels = [(kw.tag or kw.phrase, kw.score) for kw in result.keywords if kw.score >= minimum]
    write_source_tags(content_type.pk, document.pk, SmartTag.Source.TEXT, labels)
    return file_hash


ASSET_TAGGERS = {IMAGE: tag_image, DOCUMENT: tag_document, VIDEO: tag_video}


def apply_tag_models(content_type_id, vectors, backbone_id, tag_models=None):
    """Apply every active tag model (or the given ones) to ``{object_id: embedding}`` and write the results.

    An embedding is a vector (an image) or a matrix with one row per sampled frame (a video).
    """
    if not vectors:
        return
    from .classifiers import classifier_for

    minimum = get_setting("MIN_CONFIDENCE")
    for tag_model, version, classifier in tag_models or active_tag_models(backbone_id):
        # A retrain or rollback may activate another version while we work: then apply that one,
        # so the asset never keeps a stale version's tags nor misses the new version's.
        for _ in range(3):
            decisions = _decisions(classifier, vectors, minimum)
            if write_trained_tags(tag_model, version, content_type_id, decisions):
                break
            tag_model.refresh_from_db()
            version = tag_model.active_version
            if version is None or version.backbone_id != backbone_id or not version.parameters:
                break
            classifier = classifier_for(version)


def _decisions(classifier, vectors, minimum):
    """``{object_id: (tag id, confidence) or None}``: what one model decides for each image or video."""
    import numpy as np

    decisions = {}
    images = [object_id for object_id, vector in vectors.items() if vector.ndim == 1]
    if images:
        # Vectorised: a library re-tag decides for thousands of images per call.
        best, confidences, _, applied, _ = classifier.decide(np.stack([vectors[object_id] for object_id in images]))
        applied &= confidences >= minimum
        tag_ids = [int(label) for label in classifier.labels]
        for object_id, index, confidence, is_applied in zip(
            images, best.tolist(), confidences.tolist(), applied.tolist()
        ):
            decisions[object_id] = (tag_ids[index], confidence) if is_applied else None
    share = get_setting("VIDEO_MIN_FRAME_SHARE")
    for object_id, frames in vectors.items():
        if frames.ndim == 2:
            prediction = classifier.predict_frames(frames, share)
            applied = prediction.applied and prediction.confidence >= minimum
            decisions[object_id] = (int(prediction.label), prediction.confidence) if applied else None
    return decisions


def active_versions():
    """``{tag model id: active version id}`` as strings and integers, as stored on tagging states."""
    return {
        str(model_id): version_id
        for model_id, version_id in TagModel.objects.filter(active_version__isnull=False).values_list(
            "pk", "active_version_id"
        )
    }


def retag_from_cache(tag_model_id, chunk_size=2000):
    """Apply a tag model's active version to every tagged image and video whose embedding is cached.

    Runs after training or a rollback: nothing is decoded or embedded again.
    Returns the number of assets the model was applied to.
    """
    from .classifiers import classifier_for
    from .embeddings import cached_embeddings

    tag_model = TagModel.objects.select_related("active_version").filter(pk=tag_model_id).first()
    version = tag_model.active_version if tag_model else None
    backbone = get_backbone()
    if version is None or version.backbone_id != backbone.id or not version.parameters:
        return 0
    models = [(tag_model, version, classifier_for(version))]
    applied = 0
    states = TaggingState.objects.filter(status=TaggingState.Status.DONE).exclude(file_hash="")
    visual_types = [ct.pk for ct in _visual_content_types()]
    states = states.filter(content_type_id__in=visual_types).order_by("pk")
    last_pk = 0
    columns = ("pk", "content_type_id", "object_id", "file_hash", "model_versions")
    while True:
        chunk = list(states.filter(pk__gt=last_pk).values_list(*columns)[:chunk_size])
        if not chunk:
            return applied
        last_pk = chunk[-1][0]
        vectors = cached_embeddings({file_hash for _, _, _, file_hash, _ in chunk}, backbone.id)
        by_type = defaultdict(dict)
        for _, content_type_id, object_id, file_hash, _ in chunk:
            if file_hash in vectors:
                by_type[content_type_id][object_id] = vectors[file_hash]
        for content_type_id, type_vectors in by_type.items():
            apply_tag_models(content_type_id, type_vectors, backbone.id, tag_models=models)
            applied += len(type_vectors)
        by_versions = defaultdict(list)
        for pk, _, _, _, model_versions in chunk:
            versions = {**model_versions, str(tag_model.pk): version.pk}
            by_versions[tuple(sorted(versions.items()))].append(pk)
        for versions, pks in by_versions.items():
            TaggingState.objects.filter(pk__in=pks).update(model_versions=dict(versions))


def _visual_content_types():
    from .assets import get_asset_models

    models = [model for kind, model in get_asset_models().items() if kind in VISUAL_KINDS]
    return [ContentType.objects.get_for_model(model) for model in models]
