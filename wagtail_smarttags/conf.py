"""All of the app's settings, read from one ``WAGTAIL_SMARTTAGS`` dict.

Every key and its default is listed here and nowhere else; ``checks.py`` validates
the values a site sets. Read settings through :func:`get_setting`, never from
``django.conf.settings`` directly, so that ``override_settings`` in tests works.
"""

from datetime import timedelta

from django.conf import settings

from .ml.backbones import BACKBONE_ALIASES  # noqa: F401  (settings name these aliases)

SETTING_NAME = "WAGTAIL_SMARTTAGS"


DEFAULTS = {
    # Tag assets automatically when they are uploaded or their file is replaced.
    "AUTO_TAG": True,
    # The image backbone: an alias from BACKBONE_ALIASES or a dotted path to an ImageBackbone subclass.
    # The default, chosen by bench/few_shot.py: EfficientNet-Lite0 on two framings of each image plus
    # EfficientNet-Lite1 on the centre crop, offline. One torch thread per worker process: scale out
    # with more workers, not more threads.
    "IMAGE_BACKBONE": {
        "BACKEND": "ensemble",
        "OPTIONS": {
            "members": [
                {
                    "BACKEND": "efficientnet_lite",
                    "OPTIONS": {"variant": "lite0", "views": ["crop", "pad"], "threads": 1},
                },
                {
                    "BACKEND": "efficientnet_lite",
                    "OPTIONS": {"variant": "lite1", "views": ["crop"], "threads": 1},
                },
            ]
        },
    },
    # The worker tags assets in batches: at most this many at once, holding at most BATCH_MAX_BYTES of
    # their files in memory, and reads and decodes the next batch while the network embeds this one.
    "BATCH_SIZE": 16,
    "BATCH_MAX_BYTES": 64 * 1024 * 1024,
    # A queued tagging task also tags the other pending assets of its kind, for up to this many seconds
    # (keep it well below django-q2's task timeout).
    "WORKER_DRAIN_SECONDS": 120,
    # The few-shot classifier trained for each tag model: an alias from CLASSIFIER_ALIASES or a dotted path
    # to a TagClassifier subclass, with its options (for ridge_centroid, the fields of its TrainingOptions).
    "CLASSIFIER": {"BACKEND": "ridge_centroid", "OPTIONS": {}},
    # Smart tags below this confidence are never applied, whatever a tag's own threshold.
    "MIN_CONFIDENCE": 0.0,
    # Image and document files larger than this (bytes) are not read; the asset is marked failed with a message.
    "MAX_FILE_SIZE": 100 * 1024 * 1024,
    # Every untrusted file is decoded or parsed in the worker's reader child (wagtail_smarttags.isolation),
    # which may grow by at most READER_MAX_MEMORY bytes beyond its own libraries (about 200 MiB resident)
    # and take at most READER_MAX_SECONDS of CPU and wall-clock time per file; a file that needs more is
    # stopped and recorded as failed ("needs more than 512 MiB to read"). With these defaults a worker, its
    # reader and the default backbone fit in about 1.5 GiB.
    "READER_MAX_MEMORY": 512 * 1024 * 1024,
    "READER_MAX_SECONDS": 30,
    # Images with more pixels than this are refused before decoding (Pillow's own default).
    "MAX_IMAGE_PIXELS": 89_478_485,
    # Images are decoded no larger than this on their shorter side.
    "DECODE_SIZE": 320,
    # Training shows each tag model up to this many of the library's images (from the embedding cache) and
    # the other tag models' examples, unlabelled, so that it learns what its tags are not: an image gets a
    # tag only if it looks more like the tag's examples than like anything else the site holds. 0 turns it off.
    "TRAINING_LIBRARY_SIZE": 2000,
    # A training started in the admin waits, once trained, for an editor to preview what it would change in
    # the library and to activate or discard it; the train screen lets the editor choose either way each time.
    # False makes "activate as soon as trained" the screen's default. Commands activate unless told --preview.
    "PREVIEW_BEFORE_ACTIVATION": True,
    # The edit screen of a tag model suggests, under each tag's examples, this many library images most like
    # them (from the embedding cache, within the collections the editor may choose from); 0 turns it off.
    "SUGGESTED_EXAMPLES": 8,
    # Wagtail's image and document listings show each asset's tagging state (a column, a badge on the image
    # grid), filter by it, and order a search by relevance unless another sort is chosen. The app serves them
    # on Wagtail's own paths, extending Wagtail's views; False leaves Wagtail's listings as they are.
    "ADMIN_LISTINGS": True,
    # Folds used to cross-validate thresholds, precision and recall while training.
    "CROSS_VALIDATION_FOLDS": 5,
    # The training guidelines enforced in the admin.
    "MIN_TAGS_PER_MODEL": 2,
    "MAX_TAGS_PER_MODEL": 50,
    "MIN_EXAMPLES_PER_TAG": 10,
    "MAX_EXAMPLES_PER_TAG": 50,
    # Generic tags: tags from the backbone itself, before (and besides) any training. The default backbone
    # gives readable ImageNet labels; an OpenCLIP backbone scores the site's own taxonomy (every taggit tag,
    # or GENERIC_LABELS if set) zero-shot. A tag that an active tag model covers is left to that model.
    "GENERIC_TAGS": True,
    "GENERIC_MIN_CONFIDENCE": 0.3,
    "GENERIC_MAX_TAGS": 3,
    # Candidate labels for zero-shot generic tags (OpenCLIP only); None means every taggit tag.
    "GENERIC_LABELS": None,
    # Colour tags: the dominant colours of images and videos, named from a fixed palette of 16 colours
    # (wagtail_smarttags.ml.colours.PALETTE), as smart tags whose confidence is the share of the picture each
    # covers: at most COLOUR_MAX_TAGS (1-40) colours, each covering at least COLOUR_MIN_COVERAGE. COLOUR_NAMES
    # renames palette colours in the site's own words, e.g. {"grey": "gray"} or {"red": "rouge"}.
    "COLOUR_TAGS": True,
    "COLOUR_MIN_COVERAGE": 0.15,
    "COLOUR_MAX_TAGS": 3,
    "COLOUR_NAMES": {},
    # Videos (with wagtailmedia installed): files larger than this (bytes) are not read.
    "VIDEO_MAX_FILE_SIZE": 4 * 1024**3,
    # Overrides for frame sampling, e.g. {"max_frames": 32, "max_seconds": 120}
    # (see wagtail_smarttags.ml.video.VideoLimits for every field).
    "VIDEO_LIMITS": {},
    # A tag model's tag is applied to a video when at least this share of its sampled frames get it.
    "VIDEO_MIN_FRAME_SHARE": 0.25,
    # How many keywords of a text document become its smart tags.
    "TEXT_KEYWORDS": 5,
    # Overrides for text extraction limits, e.g. {"max_pages": 300, "max_chars": 1_000_000, "max_seconds": 30}
    # (see wagtail_smarttags.ml.text.ExtractionLimits for every field). Its max_seconds, and that of
    # VIDEO_LIMITS, are soft budgets that keep what was read; they are capped at 80% of READER_MAX_SECONDS
    # and at least a second below it.
    "TEXT_LIMITS": {},
    # A tagging cycle (smarttags_tag) also re-tags unaltered assets last tagged longer ago than this.
    "CYCLE_RETAG_AFTER": timedelta(hours=24),
    # The periodic cycle, run daily by django-q2's scheduler, re-tags unaltered assets older than this.
    "SCHEDULED_RETAG_AFTER": timedelta(days=182),
    # Create the daily schedule for that cycle when migrating (set False to schedule it yourself).
    "SCHEDULE_CYCLES": True,
    # The admin warns (dashboard, Smart tags screen, tag models) that no worker seems to run when an upload
    # or a training has waited longer than this and nothing was finished since it was queued.
    "WORKER_STALL_AFTER": timedelta(minutes=5),
    # Where the app's tasks run (wagtail_smarttags.queues): "django_q" (django-q2, the default: its ORM broker
    # needs no set-up, Redis serves production; run manage.py qcluster) or "django_tasks" (the site's own
    # TASKS backend, as Wagtail's own background work: django-tasks-db's db_worker, RQ, ...). OPTIONS go to
    # django-q2's async_task, or name the TASKS backend, queue_name and priority: {"backend": "default"}.
    "TASK_QUEUE": {"BACKEND": "django_q", "OPTIONS": {}},
    # Deprecated: django-q2 options, now TASK_QUEUE["OPTIONS"]; still merged into them.
    "TASK_OPTIONS": {},
}


def get_setting(name):
    if name not in DEFAULTS:
        raise KeyError(f"Unknown wagtail-smarttags setting {name!r}.")
    return get_settings()[name]


def get_settings():
    configured = getattr(settings, SETTING_NAME, None) or {}
    # A site's IMAGE_BACKBONE replaces the default whole: options of one backbone mean nothing to another.
    merged = dict(DEFAULTS)
    merged.update(configured)
    return merged
