"""Trained tag models as ready-to-use classifiers, cached per process by version."""

import threading
from collections import OrderedDict

from .conf import get_setting
from .ml.arrays import decode_arrays
from .ml.classifier import TagClassifier, TrainingOptions
from .models import TagModel

_CACHE_SIZE = 128
_lock = threading.Lock()
_cache = OrderedDict()


def classifier_for(version):
    # A version's parameters never change once it has finished, so (pk, finished_at) identifies
    # them even across test databases that reuse primary keys.
    key = (version.pk, version.finished_at)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    classifier = TagClassifier.from_arrays(decode_arrays(version.parameters))
    with _lock:
        _cache[key] = classifier
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return classifier


def active_tag_models(backbone_id):
    """``[(tag_model, version, classifier)]`` for every trained model usable with this backbone."""
    models = TagModel.objects.filter(active_version__isnull=False).select_related("active_version")
    return [
        (tag_model, tag_model.active_version, classifier_for(tag_model.active_version))
        for tag_model in models
        if tag_model.active_version.backbone_id == backbone_id and tag_model.active_version.parameters
    ]


def training_options():
    return TrainingOptions(folds=get_setting("CROSS_VALIDATION_FOLDS"))
