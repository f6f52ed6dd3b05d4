"""django-q2 task entry points. They take primitive arguments and delegate to the service modules."""

from .pipeline import cycles, tagging
from .training import service as training


def tag_asset(content_type_id, object_id):
    """The upload task: tags the asset, and the other pending assets of its kind, in batches."""
    return tagging.tag_queued(int(content_type_id), int(object_id))


def train_version(version_id):
    version = training.train_version(int(version_id))
    return version.status if version else None


def retag_with_tag_model(tag_model_id):
    return tagging.retag_from_cache(int(tag_model_id))


def run_scheduled_cycle():
    return cycles.run_scheduled_cycle()


def preview_version(version_id):
    preview = training.preview_version(int(version_id))
    return preview.get("status") if preview else None
