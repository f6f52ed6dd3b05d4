class SmartTagsError(Exception):
    """Base class for errors that are recorded on an asset instead of crashing a worker."""


class UnreadableAssetError(SmartTagsError):
    """The file could not be decoded: corrupt, truncated, empty, hostile or of the wrong type."""


class MissingDependencyError(SmartTagsError, ImportError):
    """An optional dependency needed by the configured backend is not installed."""

    def __init__(self, package, extra=None, purpose=""):
        self.package = package
        hint = f'pip install "wagtail-smarttags[{extra}]"' if extra else f"pip install {package}"
        what = f" for {purpose}" if purpose else ""
        super().__init__(f"The package '{package}' is required{what} but is not installed. Install it with: {hint}")


class BackboneLoadError(SmartTagsError):
    """The configured image backbone could not be loaded (missing weights, bad options)."""


class NotTaggableError(SmartTagsError):
    """The asset holds nothing the app can tag (an audio-only media file): it is skipped, not failed."""
