"""The configured image backbone, loaded once per process."""

import threading

from django.utils.module_loading import import_string

from .conf import BACKBONE_ALIASES, get_setting
from .ml.errors import BackboneLoadError

_lock = threading.Lock()
_loaded = {}


def get_backbone():
    """Return the backbone named in ``WAGTAIL_SMARTTAGS['IMAGE_BACKBONE']``, shared by the process.

    Construction is cheap; network weights load on first use.
    """
    config = get_setting("IMAGE_BACKBONE")
    backend = config["BACKEND"]
    options = config.get("OPTIONS") or {}
    key = (backend, repr(sorted(options.items())))
    with _lock:
        if key not in _loaded:
            _loaded[key] = _build(backend, options)
        return _loaded[key]


def _build(backend, options):
    try:
        backbone_class = import_string(BACKBONE_ALIASES.get(backend, backend))
    except ImportError as error:
        raise BackboneLoadError(f"Unknown image backbone {backend!r}: {error}") from None
    try:
        return backbone_class(**options)
    except TypeError as error:
        raise BackboneLoadError(f"Bad options for the image backbone {backend!r}: {error}") from None


def reset_backbones():
    """Forget loaded backbones (tests that change the setting call this)."""
    with _lock:
        _loaded.clear()
