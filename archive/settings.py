"""Django settings for Strata, read from the environment.

DATABASE_URL  database to use (default: an SQLite file, db.sqlite3, next to manage.py)
SECRET_KEY    signing key; a development key is used when unset (set it in production)
DEBUG         "1"/"true" to enable debug mode (default off)
ALLOWED_HOSTS comma-separated host names (default: localhost and loopback)
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = _env_flag("DEBUG")
SECRET_KEY = os.environ.get("SECRET_KEY") or "strata-development-key-not-for-production"
ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
    if host.strip()
]

INSTALLED_APPS = [
    # The admin, with Strata's own site: the review queue and each user's work on its index.
    "records.staff_site.StrataAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "records",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.common.CommonMiddleware",
    # ETag on every response, and 304 for a conditional GET that matches it.
    "django.middleware.http.ConditionalGetMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "archive.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "archive.wsgi.application"


def _connection_age(text: str) -> int | None:
    """Seconds a worker keeps its database connection; "none" keeps it for good (Django's None)."""
    return None if text.strip().lower() == "none" else int(text)


def _database_from_env() -> dict:
    config = dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        # A connection per request costs about 3 ms on PostgreSQL, as much as a small page:
        # keep each worker's connection for a minute, checked before reuse.
        conn_max_age=_connection_age(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # IMMEDIATE transactions take SQLite's write lock at BEGIN, so appends are serialised
        # and position order is commit order (DESIGN invariant 4). WAL lets readers run beside
        # the single writer; the timeout makes a second writer wait instead of failing.
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
        # A file, not Django's shared in-memory database, so that tests with real threads
        # get real, separately locked connections.
        config["TEST"] = {"NAME": str(BASE_DIR / ".test-db.sqlite3")}
    if os.environ.get("TEST_DATABASE_NAME"):
        # Lets two test runs share one server or folder without dropping each other's database.
        config["TEST"] = {"NAME": os.environ["TEST_DATABASE_NAME"]}
    return config


DATABASES = {"default": _database_from_env()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# The public API (records/api): read-only, anonymous, throttled, documented.
REST_FRAMEWORK = {
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"anon": os.environ.get("API_THROTTLE_RATE", "600/minute")},
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "records.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Strata public API",
    "DESCRIPTION": (
        "Published claims with their provenance, conflicting estimates side by side, revision "
        "history, as-of reads and a verifiable change feed. Read-only and open."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The docs page's assets are served from this site: nothing is fetched from elsewhere.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "records.api.schema.add_public_statuses",
    ],
}
# History is a projection of the log: reverting from the history page would write a read model
# behind the commands' back.
SIMPLE_HISTORY_REVERT_DISABLED = True

CORS_ALLOW_ALL_ORIGINS = True
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS"]
API_CACHE_SECONDS = int(os.environ.get("API_CACHE_SECONDS", "60"))
# Rendered public pages kept per worker until the log moves (records/api/page_cache.py).
API_PAGE_CACHE_ENTRIES = int(os.environ.get("API_PAGE_CACHE_ENTRIES", "200"))
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "api_pages": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "api-pages",
        "TIMEOUT": None,  # a page is stale only when the log moves, and then it is unreachable
        "OPTIONS": {"MAX_ENTRIES": max(API_PAGE_CACHE_ENTRIES, 1)},
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
