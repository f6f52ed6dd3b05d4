"""System checks for the ``WAGTAIL_SMARTTAGS`` setting: clear messages at start-up, not in a worker."""

import importlib.util
import numbers
from datetime import timedelta

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from .conf import DEFAULTS, SETTING_NAME, get_settings


@register(Tags.compatibility)
def check_settings(app_configs=None, **kwargs):
    configured = getattr(settings, SETTING_NAME, None) or {}
    if not isinstance(configured, dict):
        return [Error(f"{SETTING_NAME} must be a dict.", id="wagtail_smarttags.E001")]
    messages = [
        Warning(
            f"{SETTING_NAME} has an unknown key {key!r}.",
            hint=f"Known keys: {', '.join(sorted(DEFAULTS))}.",
            id="wagtail_smarttags.W001",
        )
        for key in configured
        if key not in DEFAULTS
    ]
    values = get_settings()
    messages += _check_backbone(values["IMAGE_BACKBONE"])
    messages += _check_text_packages()
    for key in ("MIN_CONFIDENCE", "GENERIC_MIN_CONFIDENCE", "VIDEO_MIN_FRAME_SHARE", "COLOUR_MIN_COVERAGE"):
        messages += _check_fraction(key, values[key])
    for key in (
        "MAX_FILE_SIZE", "MAX_IMAGE_PIXELS", "DECODE_SIZE", "CROSS_VALIDATION_FOLDS", "TEXT_KEYWORDS",
        "GENERIC_MAX_TAGS", "VIDEO_MAX_FILE_SIZE", "BATCH_SIZE", "BATCH_MAX_BYTES", "WORKER_DRAIN_SECONDS",
        "READER_MAX_MEMORY", "READER_MAX_SECONDS",
    ):  # fmt: skip
        messages += _check_positive_integer(key, values[key])
    for key in ("TRAINING_LIBRARY_SIZE", "SUGGESTED_EXAMPLES"):
        size = values[key]
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            messages.append(
                Error(
                    f"{SETTING_NAME}[{key!r}] must be 0 or a positive integer, not {size!r}.",
                    id="wagtail_smarttags.E006",
                )
            )
    messages += _check_guidelines(values)
    for key in ("AUTO_TAG", "PREVIEW_BEFORE_ACTIVATION", "SCHEDULE_CYCLES", "ADMIN_LISTINGS", "COLOUR_TAGS"):
        if not isinstance(values[key], bool):
            messages.append(Error(f"{SETTING_NAME}[{key!r}] must be True or False.", id="wagtail_smarttags.E013"))
    if not isinstance(values["TASK_OPTIONS"], dict):
        messages.append(Error(f"{SETTING_NAME}['TASK_OPTIONS'] must be a dict.", id="wagtail_smarttags.E006"))
    elif values["TASK_OPTIONS"]:
        messages.append(
            Warning(
                f"{SETTING_NAME}['TASK_OPTIONS'] is deprecated.",
                hint=f"Move its options to {SETTING_NAME}['TASK_QUEUE']['OPTIONS'].",
                id="wagtail_smarttags.W006",
            )
        )
    messages += _check_task_queue(values["TASK_QUEUE"])
    messages += _check_search_backend()
    messages += _check_classifier(values["CLASSIFIER"])
    messages += _check_text_limits(values["TEXT_LIMITS"])
    messages += _check_generic_tags(values)
    messages += _check_colour_tags(values)
    messages += _check_video(values["VIDEO_LIMITS"])
    for key in ("CYCLE_RETAG_AFTER", "SCHEDULED_RETAG_AFTER", "WORKER_STALL_AFTER"):
        if not isinstance(values[key], timedelta) or values[key] <= timedelta(0):
            messages.append(
                Error(f"{SETTING_NAME}[{key!r}] must be a positive datetime.timedelta.", id="wagtail_smarttags.E009")
            )
    return messages


def _check_task_queue(config):
    """The queue checks its own options and dependencies (``TaskQueue.check``)."""
    from .queues import task_queue_class, task_queue_config

    if not isinstance(config, dict) or not isinstance(config.get("OPTIONS", {}), dict):
        return [
            Error(
                f"{SETTING_NAME}['TASK_QUEUE'] must be a dict with a 'BACKEND' key and an optional 'OPTIONS' dict.",
                hint='For example {"BACKEND": "django_tasks", "OPTIONS": {"backend": "default"}}.',
                id="wagtail_smarttags.E014",
            )
        ]
    config = task_queue_config()
    try:
        cls = task_queue_class(config["BACKEND"])
    except Exception as error:  # not a string, not importable, not a TaskQueue
        return [Error(str(error), hint="Use django_q, django_tasks or a dotted path.", id="wagtail_smarttags.E014")]
    return [
        Error(problem.message, hint=problem.hint or None, id="wagtail_smarttags.E014")
        if problem.level == "error"
        else Warning(problem.message, hint=problem.hint or None, id="wagtail_smarttags.W003")
        for problem in cls.check(config["OPTIONS"])
    ]


SMART_TAG_SEARCH_BACKEND = "wagtail_smarttags.search.backend"


def _check_search_backend():
    """Without the smart-tag search backend, Wagtail's search ignores smart tags, and nothing says so."""
    backends = getattr(settings, "WAGTAILSEARCH_BACKENDS", None) or {}
    configs = backends.values() if isinstance(backends, dict) else []
    if any(
        isinstance(config, dict) and str(config.get("BACKEND", "")).startswith(SMART_TAG_SEARCH_BACKEND)
        for config in configs
    ):
        return []
    return [
        Warning(
            "No WAGTAILSEARCH_BACKENDS entry uses the smart-tag search backend: searching images, documents and "
            "media in the admin and choosers ignores their smart tags.",
            hint=f'WAGTAILSEARCH_BACKENDS = {{"default": {{"BACKEND": "{SMART_TAG_SEARCH_BACKEND}", '
            '"WRAPPED_BACKEND": "wagtail.search.backends.database"}} (docs/installation.md).',
            id="wagtail_smarttags.W005",
        )
    ]


def _check_classifier(config):
    from .ml.classifiers import classifier_class

    if not isinstance(config, dict) or "BACKEND" not in config or not isinstance(config.get("OPTIONS", {}), dict):
        return [
            Error(
                f"{SETTING_NAME}['CLASSIFIER'] must be a dict with a 'BACKEND' key and an optional 'OPTIONS' dict.",
                hint="For example {'BACKEND': 'ridge_centroid', 'OPTIONS': {'rejection_rate': 0.05}}.",
                id="wagtail_smarttags.E012",
            )
        ]
    try:
        classifier_class(config["BACKEND"])
    except ValueError as error:
        hint = "Use an alias of CLASSIFIER_ALIASES or a dotted path."
        return [Error(str(error), hint=hint, id="wagtail_smarttags.E012")]
    return []


def _check_text_limits(limits):
    from .ml.text.extractors.base import ExtractionLimits

    return _check_limits("TEXT_LIMITS", limits, ExtractionLimits, "wagtail_smarttags.E008")


def _check_limits(key, limits, limits_class, error_id):
    """A dict of overrides for the fields of the dataclass ``limits_class``."""
    from dataclasses import fields

    known = {field.name for field in fields(limits_class)}
    if not isinstance(limits, dict) or set(limits) - known:
        return [
            Error(f"{SETTING_NAME}[{key!r}] must be a dict with keys among {', '.join(sorted(known))}.", id=error_id)
        ]
    return []


def _check_generic_tags(values):
    messages = []
    if not isinstance(values["GENERIC_TAGS"], bool):
        messages.append(Error(f"{SETTING_NAME}['GENERIC_TAGS'] must be True or False.", id="wagtail_smarttags.E010"))
    labels = values["GENERIC_LABELS"]
    if labels is not None and (
        isinstance(labels, str) or not isinstance(labels, list | tuple) or not all(isinstance(x, str) for x in labels)
    ):
        messages.append(
            Error(
                f"{SETTING_NAME}['GENERIC_LABELS'] must be None or a list of label strings.",
                id="wagtail_smarttags.E010",
            )
        )
    return messages


def _check_colour_tags(values):
    from .ml.colours import MAX_COLOURS, PALETTE

    messages = []
    most = values["COLOUR_MAX_TAGS"]
    if isinstance(most, bool) or not isinstance(most, int) or not 1 <= most <= MAX_COLOURS:
        messages.append(
            Error(
                f"{SETTING_NAME}['COLOUR_MAX_TAGS'] must be an integer from 1 to {MAX_COLOURS}, not {most!r}.",
                id="wagtail_smarttags.E015",
            )
        )
    names = values["COLOUR_NAMES"]
    if not isinstance(names, dict) or not all(isinstance(name, str) and name.strip() for name in names.values()):
        messages.append(
            Error(f"{SETTING_NAME}['COLOUR_NAMES'] must be a dict of names.", id="wagtail_smarttags.E015")
        )
    elif set(names) - set(PALETTE):
        messages.append(
            Error(
                f"{SETTING_NAME}['COLOUR_NAMES'] renames colours that are not in the palette: "
                f"{', '.join(sorted(set(names) - set(PALETTE)))}.",
                hint=f"The palette's colours: {', '.join(PALETTE)}.",
                id="wagtail_smarttags.E015",
            )
        )
    return messages


def _check_video(limits):
    from .ml.video import VideoLimits
    from .pipeline.kinds import get_media_model_or_none

    messages = _check_limits("VIDEO_LIMITS", limits, VideoLimits, "wagtail_smarttags.E011")
    if messages:
        return messages
    if get_media_model_or_none() is not None and importlib.util.find_spec("av") is None:
        return [
            Warning(
                "wagtailmedia is installed but PyAV is not: videos will not get smart tags.",
                hint='pip install "wagtail-smarttags[video]"',
                id="wagtail_smarttags.W002",
            )
        ]
    return []


BACKBONE_PROBLEM_IDS = {"unknown": "wagtail_smarttags.E002", "invalid": "wagtail_smarttags.E003"}


def _check_backbone(config):
    """Each backbone checks its own options and dependencies (``ImageBackbone.check``).

    Missing packages are one warning, not errors: a web host without the ML extras migrates and
    serves the admin while the workers, which have them, tag.
    """
    from .ml.backbones import check_backbone

    problems = check_backbone(config)
    messages = [
        Error(problem.message, hint=problem.hint or None, id=BACKBONE_PROBLEM_IDS[problem.kind])
        for problem in problems
        if problem.kind != "missing"
    ]
    missing = [problem for problem in problems if problem.kind == "missing"]
    named = [problem for problem in missing if problem.package and problem.extra]
    if named:
        messages.append(_missing_packages_warning(named, "tags no images or videos", "wagtail_smarttags.W007"))
    # A site's own backbone may report what it misses in its own words.
    messages += [
        Warning(problem.message, hint=problem.hint or None, id="wagtail_smarttags.W007")
        for problem in missing
        if problem not in named
    ]
    return messages


def _missing_packages_warning(missing, what_it_cannot_do, check_id):
    packages = ", ".join(dict.fromkeys(problem.package for problem in missing))
    extras = ",".join(dict.fromkeys(problem.extra for problem in missing))
    return Warning(
        f"This host lacks {packages}: it migrates and serves the admin but {what_it_cannot_do}; uploads wait "
        "for a worker that has them.",
        hint=f'pip install "wagtail-smarttags[{extras}]" where the worker runs (for torch, install the build for '
        "your machine first: docs/installation.md).",
        id=check_id,
    )


TEXT_PACKAGES = ("pdfminer", "rake_nltk", "nltk", "docx", "pptx", "striprtf", "bs4", "lxml", "charset_normalizer")


def _check_text_packages():
    from .ml.backbones import Problem

    missing = [
        Problem("", kind="missing", package=package, extra="text")
        for package in TEXT_PACKAGES
        if importlib.util.find_spec(package) is None
    ]
    return [_missing_packages_warning(missing, "tags no documents", "wagtail_smarttags.W008")] if missing else []


def _check_fraction(key, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        return [
            Error(
                f"{SETTING_NAME}[{key!r}] must be a number between 0 and 1, not {value!r}.",
                id="wagtail_smarttags.E005",
            )
        ]
    return []


def _check_positive_integer(key, value):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return [
            Error(f"{SETTING_NAME}[{key!r}] must be a positive integer, not {value!r}.", id="wagtail_smarttags.E006")
        ]
    return []


def _check_guidelines(values):
    messages = []
    for key in ("MIN_TAGS_PER_MODEL", "MAX_TAGS_PER_MODEL", "MIN_EXAMPLES_PER_TAG", "MAX_EXAMPLES_PER_TAG"):
        messages += _check_positive_integer(key, values[key])
    if messages:
        return messages
    if values["MIN_TAGS_PER_MODEL"] < 2 or values["MIN_TAGS_PER_MODEL"] > values["MAX_TAGS_PER_MODEL"]:
        messages.append(
            Error(
                "MIN_TAGS_PER_MODEL must be at least 2 and not above MAX_TAGS_PER_MODEL.",
                id="wagtail_smarttags.E007",
            )
        )
    if values["MIN_EXAMPLES_PER_TAG"] > values["MAX_EXAMPLES_PER_TAG"]:
        messages.append(
            Error("MIN_EXAMPLES_PER_TAG must not be above MAX_EXAMPLES_PER_TAG.", id="wagtail_smarttags.E007")
        )
    return messages
