"""A small Wagtail site using wagtail-smarttags.

Embedded default: SQLite and django-q2's ORM broker, nothing else to run.
Production path: SMARTTAGS_DATABASE=postgres (or mysql) and SMARTTAGS_BROKER=redis (see docs/operations.md).
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-project-not-secret")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "demo",
    "wagtail_smarttags",
    "wagtailmedia",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_q",
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
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "example_project.urls"
WSGI_APPLICATION = "example_project.wsgi.application"

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

if os.environ.get("SMARTTAGS_DATABASE") == "postgres":
    # Wagtail's search index uses PostgreSQL's own fields and indexes, which Django 6.1 checks for.
    INSTALLED_APPS.append("django.contrib.postgres")
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ.get("SMARTTAGS_PG_NAME", "smarttags_example"),
            "USER": os.environ.get("SMARTTAGS_PG_USER", "postgres"),
            "HOST": os.environ.get("SMARTTAGS_PG_HOST", "127.0.0.1"),
            "PORT": os.environ.get("SMARTTAGS_PG_PORT", "5432"),
        }
    }
elif os.environ.get("SMARTTAGS_DATABASE") == "mysql":
    # MariaDB or MySQL; .ci/start-mariadb creates this user and database on 127.0.0.1:3306.
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.mysql",
            "NAME": os.environ.get("SMARTTAGS_MYSQL_NAME", "smarttags_example"),
            "USER": os.environ.get("SMARTTAGS_MYSQL_USER", "smarttags"),
            "PASSWORD": os.environ.get("SMARTTAGS_MYSQL_PASSWORD", "smarttags"),
            "HOST": os.environ.get("SMARTTAGS_MYSQL_HOST", "127.0.0.1"),
            "PORT": os.environ.get("SMARTTAGS_MYSQL_PORT", "3306"),
            "OPTIONS": {
                "charset": "utf8mb4",
                # As the database's (.ci/start-mariadb): CAST(... AS char) takes the connection's collation.
                "collation": "utf8mb4_unicode_ci",
                "isolation_level": "read committed",
                "init_command": "SET sql_mode='STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'",
            },
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SMARTTAGS_SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            # The web process and the worker share the file; wait for each other's writes.
            "OPTIONS": {
                "timeout": 30,
                # WAL lets the worker write while the site reads; IMMEDIATE avoids lock-upgrade deadlocks.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_PASSWORD_VALIDATORS = []
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("SMARTTAGS_MEDIA_ROOT", BASE_DIR / "media"))

WAGTAIL_SITE_NAME = "Smart tags example"
# Offline: Wagtail's own default avatar, not one fetched from Gravatar.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAILADMIN_BASE_URL = "http://127.0.0.1:8000"
WAGTAILIMAGES_EXTENSIONS = [
    "avif", "bmp", "dib", "gif", "ico", "jpg", "jpeg", "pbm", "pgm", "png", "pnm", "ppm",
    "psd", "tif", "tiff", "webp", "xbm", "xpm",
]  # fmt: skip
# Metadata terms match with AND through the wrapped backend, smart tags with OR (docs/moderation-and-search.md).
WAGTAILSEARCH_BACKENDS = {
    "default": {"BACKEND": "wagtail_smarttags.search.backend", "WRAPPED_BACKEND": "wagtail.search.backends.database"}
}

if os.environ.get("SMARTTAGS_BROKER") == "redis":
    Q_CLUSTER = {
        "name": "smarttags",
        "workers": 2,
        "timeout": 600,
        "retry": 900,
        "max_attempts": 3,
        "redis": os.environ.get("SMARTTAGS_REDIS_URL", "redis://127.0.0.1:6379/0"),
    }
else:
    Q_CLUSTER = {
        "name": "smarttags",
        "workers": 1,
        "timeout": 600,
        "retry": 900,
        "max_attempts": 3,
        "orm": "default",
        "poll": 0.5,
        # Keep failed tasks only: fewer writes to share the SQLite file with the site.
        "save_limit": -1,
    }

# Videos and audio through wagtailmedia; FLV and WMV added to its list of video extensions.
WAGTAILMEDIA = {
    "VIDEO_EXTENSIONS": ["avi", "flv", "h264", "m4v", "mkv", "mov", "mp4", "mpeg", "mpg", "ogv", "webm", "wmv"],
}

# Every key is optional; see docs/configuration.md. The default backbone runs offline.
WAGTAIL_SMARTTAGS = {}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"wagtail_smarttags": {"handlers": ["console"], "level": "INFO"}},
}
