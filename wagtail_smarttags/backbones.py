"""The configured image backbone, loaded once per process."""

import threading

from .conf import get_setting
from .ml.backbones import load_backbone

_lock = threading.Lock()
_loaded = {}


def get_backbone():
    """Return the backbone named in ``WAGTAIL_SMARTTAGS['IMAGE_BACKBONE']``, shared by the process.

    Construction is cheap; network weights load on first use.
    """
    config = get_setting("IMAGE_BACKBONE")
    backend = config["BACKEND"]
    options = config.get("OPTIONS") or {}
    key = (backend, repr(options))
    with _lock:
        if key not in _loaded:
            _loaded[key] = load_backbone(backend, options)
        return _loaded[key]


def reset_backbones():
    """Forget loaded backbones (tests that change the setting call this)."""
    with _lock:
        _loaded.clear()
