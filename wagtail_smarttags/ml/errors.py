"""Errors recorded on an asset instead of crashing a worker, and the messages they carry.

The code that raises them runs where Django is absent (the reader child, the ML backends), and the
editor who reads them may use another language than the worker. So an error keeps its message
untranslated, marked for ``makemessages`` with :func:`gettext_noop`, beside its parameters; the
admin translates it when it shows it (:func:`wagtail_smarttags.i18n.render_message`).
"""


def gettext_noop(message):
    """Mark ``message`` for translation without translating it (Django's name for the same thing)."""
    return message


def message_record(message, /, **params):
    """A message and its parameters as plain data: what is stored, and what crosses the reader's pipe.

    A parameter that is itself a record (or a :class:`SmartTagsError`) is translated in its turn; any
    other value becomes text, because it stays as the code gave it (a file name, a library's error).
    """
    return {"message": str(message), "params": {name: _plain(value) for name, value in params.items()}}


def format_record(record, translate=None, number=None):
    """The record's text: in the language of ``translate`` (a ``gettext``) and with whole numbers
    written by ``number``, or in English ("1,000") without them."""
    if not isinstance(record, dict):
        return str(record)
    message = record.get("message", "")
    params = record.get("params") or {}
    if translate is not None:
        message = translate(message)
    if not params:
        return message
    number = number or "{:,}".format
    values = {name: _formatted(value, translate, number) for name, value in params.items()}
    try:
        return message % values
    except (KeyError, TypeError, ValueError):
        # A translation that names other parameters than the code gives must not hide the error.
        return format_record(record) if translate is not None else message


def _formatted(value, translate, number):
    if isinstance(value, dict):
        return format_record(value, translate, number)
    if isinstance(value, int):
        return number(value)
    return value


def _checked(record):
    """``record`` as a well-formed record: one that came through a pipe is not trusted to be."""
    params = record.get("params")
    if not isinstance(record.get("message"), str) or not isinstance(params, dict | None):
        return message_record(repr(record))
    return message_record(record["message"], **{str(name): value for name, value in (params or {}).items()})


def _plain(value):
    if isinstance(value, SmartTagsError):
        return value.record
    if isinstance(value, dict):
        return _checked(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return str(value)


class SmartTagsError(Exception):
    """Base class for errors that are recorded on an asset instead of crashing a worker.

    Raise it with a message marked by :func:`gettext_noop` and named parameters::

        raise UnreadableAssetError(gettext_noop("%(name)s is empty."), name=name)
    """

    def __init__(self, message="", /, **params):
        if isinstance(message, dict):  # rebuilt from a record, e.g. one the reader child sent back
            self.record = _checked(message)
        else:
            self.record = message_record(message, **params)
        super().__init__(format_record(self.record))

    def __reduce__(self):
        return (type(self), (self.record,))


class UnreadableAssetError(SmartTagsError):
    """The file could not be decoded: corrupt, truncated, empty, hostile or of the wrong type."""


class MissingDependencyError(SmartTagsError, ImportError):
    """An optional dependency needed by the configured backend is not installed."""

    def __init__(self, package, extra=None, purpose=""):
        if isinstance(package, dict):  # rebuilt from its record
            self.package = package.get("params", {}).get("package", "")
            super().__init__(package)
            return
        self.package = package
        hint = f'pip install "wagtail-smarttags[{extra}]"' if extra else f"pip install {package}"
        if purpose:
            super().__init__(
                gettext_noop(
                    "The package '%(package)s' is required for %(purpose)s but is not installed. "
                    "Install it with: %(hint)s"
                ),
                package=package,
                purpose=message_record(purpose),
                hint=hint,
            )
        else:
            super().__init__(
                gettext_noop("The package '%(package)s' is required but is not installed. Install it with: %(hint)s"),
                package=package,
                hint=hint,
            )


class BackboneLoadError(SmartTagsError):
    """The configured image backbone could not be loaded (missing weights, bad options)."""


class NotTaggableError(SmartTagsError):
    """The asset holds nothing the app can tag (an audio-only media file): it is skipped, not failed."""
