"""Settings for the test suite. SMARTTAGS_TEST_DATABASE=postgres or mysql runs it against PostgreSQL or MariaDB."""

import os
from importlib.util import find_spec
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "tests-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"
ROOT_URLCONF = "tests.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "wagtail_smarttags",
    "tests.testapp",
    "wagtailmedia",
    "wagtail.contrib.forms",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.api.v2",
    "rest_framework",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_q",
    "django_tasks",
    "django_tasks_db",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

if os.environ.get("SMARTTAGS_TEST_DATABASE") == "postgres":
    # Wagtail's search index uses PostgreSQL's own fields and indexes, which Django 6.1 checks for.
    INSTALLED_APPS.append("django.contrib.postgres")
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            # A worker process started by a test connects straight to the test database.
            "NAME": os.environ.get("SMARTTAGS_WORKER_DB", "smarttags"),
            "TEST": {"NAME": f"test_smarttags_{os.getpid()}"},
            "USER": os.environ.get("SMARTTAGS_PG_USER", "postgres"),
            "HOST": os.environ.get("SMARTTAGS_PG_HOST", "127.0.0.1"),
            "PORT": os.environ.get("SMARTTAGS_PG_PORT", "5432"),
        }
    }
elif os.environ.get("SMARTTAGS_TEST_DATABASE") == "mysql":
    # MariaDB (or MySQL) as .ci/start-mariadb sets it up: user smarttags, allowed to create test databases.
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.mysql",
            # A worker process started by a test connects straight to the test database.
            "NAME": os.environ.get("SMARTTAGS_WORKER_DB", "smarttags"),
            "TEST": {
                "NAME": f"test_smarttags_{os.getpid()}",
                # Not the server's default, which may be utf8mb3 or another collation.
                "CHARSET": "utf8mb4",
                "COLLATION": "utf8mb4_unicode_ci",
            },
            "USER": os.environ.get("SMARTTAGS_MYSQL_USER", "smarttags"),
            "PASSWORD": os.environ.get("SMARTTAGS_MYSQL_PASSWORD", "smarttags"),
            "HOST": os.environ.get("SMARTTAGS_MYSQL_HOST", "127.0.0.1"),
            "PORT": os.environ.get("SMARTTAGS_MYSQL_PORT", "3306"),
            "OPTIONS": {
                "charset": "utf8mb4",
                # The connection's collation too: CAST(... AS char) takes it, and comparing that to a column
                # of another collation fails ("Illegal mix of collations").
                "collation": "utf8mb4_unicode_ci",
                # As on PostgreSQL: a test sees what a worker process commits while its transaction is open.
                "isolation_level": "read committed",
                # Strict whatever the server is configured with: an overlong value is an error, not truncated.
                "init_command": "SET sql_mode='STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'",
            },
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SMARTTAGS_WORKER_DB", str(BASE_DIR / "test.sqlite3")),
            # A file, not memory, so that a real worker process can share the test database.
            "TEST": {"NAME": str(BASE_DIR / f"test-{os.getpid()}.sqlite3")},
            "OPTIONS": {
                "timeout": 30,
                # WAL lets the worker write while the site reads; IMMEDIATE avoids lock-upgrade deadlocks.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
            },
        }
    }

STATIC_URL = "/static/"
STATIC_ROOT = str(BASE_DIR / "static")
MEDIA_URL = "/media/"
MEDIA_ROOT = os.environ.get("SMARTTAGS_TEST_MEDIA_ROOT", str(BASE_DIR / "media"))

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

WAGTAIL_SITE_NAME = "wagtail-smarttags tests"
WAGTAILADMIN_BASE_URL = "http://testserver"
WAGTAILIMAGES_EXTENSIONS = [
    "avif", "bmp", "dib", "gif", "ico", "jpg", "jpeg", "pbm", "pgm", "png", "pnm", "ppm",
    "psd", "tif", "tiff", "webp", "xbm", "xpm",
]  # fmt: skip
# wagtailmedia's own list lacks FLV and WMV, which the app tags.
WAGTAILMEDIA = {
    "VIDEO_EXTENSIONS": ["avi", "flv", "h264", "m4v", "mkv", "mov", "mp4", "mpeg", "mpg", "ogv", "webm", "wmv"],
}
# A site without one of the app's optional companions (e.g. SMARTTAGS_TEST_WITHOUT=django_q).
for missing_app in filter(None, os.environ.get("SMARTTAGS_TEST_WITHOUT", "").split(",")):
    INSTALLED_APPS.remove(missing_app)
if os.environ.get("SMARTTAGS_TEST_WITHOUT_MEDIA"):
    # The app without its optional wagtailmedia dependency (tests/test_without_wagtailmedia.py).
    INSTALLED_APPS.remove("wagtailmedia")
# Wagtail 8's API v3 preview, where it exists (tests/api/test_v3.py).
try:
    import wagtail.api.v3  # noqa: F401

    INSTALLED_APPS.insert(INSTALLED_APPS.index("wagtail.api.v2"), "wagtail.api.v3")
except ImportError:
    pass
# django-modelsearch's own backend test suite runs through the wrapper (tests/search/test_modelsearch_conformance.py).
try:
    import modelsearch.test.testapp  # noqa: F401

    INSTALLED_APPS.append("modelsearch.test.testapp")
    FIXTURE_DIRS = [str(BASE_DIR / "fixtures" / "modelsearch")]
    # Its migrations depend on the "modelsearch" app's; a Wagtail site has "wagtailsearch" instead.
    MIGRATION_MODULES = {"searchtests": None}
except ImportError:  # Wagtail before django-modelsearch
    pass
# Metadata terms match with AND through the wrapped backend, smart tags with OR (docs/moderation-and-search.md).
WAGTAILSEARCH_BACKENDS = {
    "default": {"BACKEND": "wagtail_smarttags.search.backend", "WRAPPED_BACKEND": "wagtail.search.backends.database"}
}

# Tasks run in the test process unless a test starts a real worker (SMARTTAGS_WORKER_DB), which
# uses the ORM broker or, with SMARTTAGS_TEST_BROKER=redis, Redis on 127.0.0.1:6379.
Q_CLUSTER = {
    "name": "smarttags-tests",
    "orm": "default",
    "sync": os.environ.get("SMARTTAGS_WORKER_DB") is None,
    "workers": 1,
    # A worker started by a fault test redelivers a killed task quickly (SMARTTAGS_TEST_RETRY seconds).
    "timeout": int(os.environ.get("SMARTTAGS_TEST_RETRY", 600)) - 5,
    "retry": int(os.environ.get("SMARTTAGS_TEST_RETRY", 600)),
    "catch_up": False,
    "poll": 0.2,
}
# The Redis database the worker tests use; runs side by side (make test) each take their own.
TEST_REDIS = {"host": "127.0.0.1", "port": 6379, "db": int(os.environ.get("SMARTTAGS_TEST_REDIS_DB", 15))}
if os.environ.get("SMARTTAGS_TEST_BROKER") == "redis":
    del Q_CLUSTER["orm"]
    Q_CLUSTER["redis"] = TEST_REDIS

# Wagtail's own tasks run in the test process; the app's go to django-q2 (above) unless a test or a
# worker started with SMARTTAGS_TEST_QUEUE=django_tasks sends them to the database backend, which
# django-tasks-db's db_worker runs.
# Django's own task API from 6.0, the django-tasks backport before: their backends are not interchangeable.
TASK_BACKENDS = "django.tasks.backends" if find_spec("django.tasks") else "django_tasks.backends"
TASKS = {
    "default": {"BACKEND": f"{TASK_BACKENDS}.immediate.ImmediateBackend"},
    "database": {"BACKEND": "django_tasks_db.DatabaseBackend"},
}
DJANGO_TASKS_QUEUE = {"BACKEND": "django_tasks", "OPTIONS": {"backend": "database"}}

# The tests' django-q2 cluster runs tasks in the test process on purpose (tests/test_checks.py checks it).
SILENCED_SYSTEM_CHECKS = ["wagtail_smarttags.W003"]

WAGTAIL_SMARTTAGS = {
    "IMAGE_BACKBONE": {"BACKEND": "efficientnet_lite", "OPTIONS": {"variant": "lite0", "threads": 1}},
}
if os.environ.get("SMARTTAGS_TEST_QUEUE") == "django_tasks":
    WAGTAIL_SMARTTAGS["TASK_QUEUE"] = DJANGO_TASKS_QUEUE
# Tests that need embeddings but not real image features use a small deterministic backbone
# (the ``pixel_backbone`` fixture sets this for worker processes too).
if os.environ.get("SMARTTAGS_TEST_BACKBONE") == "pixels":
    WAGTAIL_SMARTTAGS["IMAGE_BACKBONE"] = {"BACKEND": "tests.backbones.PixelBackbone"}

WAGTAILIMAGES_IMAGE_MODEL = "testapp.CustomImage"
WAGTAILDOCS_DOCUMENT_MODEL = "testapp.CustomDocument"
