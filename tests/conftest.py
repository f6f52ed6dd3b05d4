import pytest

from wagtail_smarttags.ml.backbones.efficientnet_lite import EfficientNetLiteBackbone

# Embeddings computed by any test, kept for the rest of the session:
# {(file hash, backbone id): (vector bytes, labels)}.
# Each real image is pushed through the network once per session; tests still exercise the
# production cache (a warmed row is exactly what an earlier tagging would have left).
_SESSION_EMBEDDINGS = {}


@pytest.fixture(scope="session")
def backbone():
    """The real default backbone, loaded once for the whole session."""
    return EfficientNetLiteBackbone(variant="lite0", flip_average=False)


@pytest.fixture
def pixel_backbone(settings, monkeypatch):
    """The small deterministic backbone of ``tests/backbones.py``, here and in worker processes."""
    from wagtail_smarttags.pipeline.loading import reset_backbones

    monkeypatch.setenv("SMARTTAGS_TEST_BACKBONE", "pixels")
    settings.WAGTAIL_SMARTTAGS = {
        **settings.WAGTAIL_SMARTTAGS, "IMAGE_BACKBONE": {"BACKEND": "tests.backbones.PixelBackbone"}
    }
    reset_backbones()
    yield
    reset_backbones()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture(autouse=True)
def warm_embedding_cache(request):
    if request.node.get_closest_marker("django_db") is None or request.node.get_closest_marker("cold_cache"):
        yield
        return
    request.getfixturevalue("db")
    from wagtail_smarttags.models import EmbeddingCache

    EmbeddingCache.objects.bulk_create(
        [
            EmbeddingCache(file_hash=h, backbone_id=b, vector=v, labels=labels, colours=colours)
            for (h, b), (v, labels, colours) in _SESSION_EMBEDDINGS.items()
        ],
        ignore_conflicts=True,
    )
    yield
    rows = EmbeddingCache.objects.values_list("file_hash", "backbone_id", "vector", "labels", "colours")
    for file_hash, backbone_id, vector, labels, colours in rows:
        _SESSION_EMBEDDINGS[(file_hash, backbone_id)] = (bytes(vector), labels, colours)
