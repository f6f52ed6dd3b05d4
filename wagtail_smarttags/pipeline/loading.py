"""The configured backbone and the trained classifiers, loaded once per process and shared by its threads."""

import threading
from collections import OrderedDict

from ..conf import get_setting
from ..ml.arrays import decode_arrays
from ..ml.backbones import load_backbone
from ..ml.classifiers import classifier_from_arrays

_lock = threading.Lock()
_backbones: dict = {}
_CLASSIFIERS_KEPT = 128
_classifiers: OrderedDict = OrderedDict()


def get_backbone():
    """Return the backbone named in ``WAGTAIL_SMARTTAGS['IMAGE_BACKBONE']``, shared by the process.

    Construction is cheap; network weights load on first use.
    """
    config = get_setting("IMAGE_BACKBONE")
    backend = config["BACKEND"]
    options = config.get("OPTIONS") or {}
    key = (backend, repr(options))
    with _lock:
        if key not in _backbones:
            _backbones[key] = load_backbone(backend, options)
        return _backbones[key]


def reset_backbones():
    """Forget loaded backbones (tests that change the setting call this)."""
    with _lock:
        _backbones.clear()


def classifier_for(version):
    # A version's parameters never change once it has finished, so (pk, finished_at) identifies
    # them even across test databases that reuse primary keys.
    key = (version.pk, version.finished_at)
    with _lock:
        if key in _classifiers:
            _classifiers.move_to_end(key)
            return _classifiers[key]
    classifier = classifier_from_arrays(decode_arrays(version.parameters))
    with _lock:
        _classifiers[key] = classifier
        while len(_classifiers) > _CLASSIFIERS_KEPT:
            _classifiers.popitem(last=False)
    return classifier


def active_tag_models(backbone_id, tag_model_ids=None):
    """``[(tag_model, version, classifier)]`` for every trained model usable with this backbone."""
    from ..models import TagModel

    models = TagModel.objects.filter(active_version__isnull=False).select_related("active_version")
    if tag_model_ids is not None:
        models = models.filter(pk__in=list(tag_model_ids))
    return [
        (tag_model, tag_model.active_version, classifier_for(tag_model.active_version))
        for tag_model in models
        if tag_model.active_version.backbone_id == backbone_id and tag_model.active_version.parameters
    ]


def active_versions():
    """``{tag model id: active version id}`` as strings and integers, as stored on tagging states."""
    from ..models import TagModel

    return {
        str(model_id): version_id
        for model_id, version_id in TagModel.objects.filter(active_version__isnull=False).values_list(
            "pk", "active_version_id"
        )
    }
