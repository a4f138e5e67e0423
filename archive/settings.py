"""Django settings for Strata, read from the environment (deploy/.env.example lists them all).

SECRET_KEY            signing key; required unless DEBUG is on (the app refuses to start without it)
SECRET_KEY_FALLBACKS  comma-separated old keys still accepted while rotating (docs/operations.md)
DEBUG                 "1"/"true" to enable debug mode (default off)
ALLOWED_HOSTS         comma-separated host names (default: localhost and loopback)
CSRF_TRUSTED_ORIGINS  comma-separated origins the admin's forms may be posted from
HTTPS_ONLY            redirect to HTTPS, HSTS and secure cookies (default: on unless DEBUG)
DATABASE_URL          the primary database (default: an SQLite file, db.sqlite3, next to manage.py)
DATABASE_REPLICA_URLS comma-separated read replicas for the public API (archive/replicas.py)
DB_POOL               "1"/"0": psycopg's connection pool on PostgreSQL (default on)
LOG_FORMAT            "json" (default: one JSON object per line) or "text"
"""

import math
import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

from archive.log_formats import LOG_FORMATTERS

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_number(name: str, default: str, *, kind=int, minimum: float = 0):
    """A number from the environment, or a refusal to start that names the variable."""
    text = os.environ.get(name, default).strip()
    try:
        value = kind(text)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {text!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {text}")
    return value


def _env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = _env_flag("DEBUG")


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY", "").strip()
    if key:
        return key
    if DEBUG:
        return "strata-development-key-not-for-production"
    # A default key would sign every session and password-reset link with a secret anyone can
    # read in this file: refuse to start instead.
    raise ImproperlyConfigured(
        "SECRET_KEY is not set: set it in the environment (see deploy/.env.example), "
        "or set DEBUG=1 for a local development run."
    )


SECRET_KEY = _secret_key()
SECRET_KEY_FALLBACKS = _env_list("SECRET_KEY_FALLBACKS")
ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = _env_list("CSRF_TRUSTED_ORIGINS")

# HTTPS: on by default in production. Behind the proxy (deploy/nginx) TLS ends at nginx, which
# says so in X-Forwarded-Proto. Probes reach /healthz and /readyz over plain HTTP.
HTTPS_ONLY = _env_flag("HTTPS_ONLY", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = HTTPS_ONLY
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS_ONLY else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS_ONLY
SECURE_HSTS_PRELOAD = HTTPS_ONLY
SESSION_COOKIE_SECURE = HTTPS_ONLY
CSRF_COOKIE_SECURE = HTTPS_ONLY
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): everything from this site, no inline or foreign script.
# Inline styles stay allowed: the fact page draws its interval bars with style attributes and
# Swagger UI's page carries a <style> block; neither can run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

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
    "csp",
    "records",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files from the app itself, so a deployment without nginx (Kubernetes) serves them.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    # Public API reads go to a replica when one is configured (archive/replicas.py).
    "archive.replicas.ReplicaRoutingMiddleware",
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
    if text.strip().lower() == "none":
        return None
    return _env_number("DB_CONN_MAX_AGE", text)


def _pool_options(*, connect_timeout: float) -> dict:
    """psycopg's pool: each worker keeps DB_POOL_MIN_SIZE..DB_POOL_MAX_SIZE open connections."""
    smallest = _env_number("DB_POOL_MIN_SIZE", "2", minimum=1)
    largest = _env_number("DB_POOL_MAX_SIZE", "10", minimum=1)
    if largest < smallest:
        raise ImproperlyConfigured(
            f"DB_POOL_MAX_SIZE ({largest}) must be at least DB_POOL_MIN_SIZE ({smallest})"
        )
    return {
        "min_size": smallest,
        "max_size": largest,
        # How long a request waits for a connection before it fails (or, for a replica, before
        # it falls back to the primary: archive/replicas.py).
        "timeout": connect_timeout,
    }


def _database(url: str, *, connect_timeout: float) -> dict:
    pooled = _env_flag("DB_POOL", default=True) and url.startswith(("postgres", "postgis"))
    config = dj_database_url.parse(
        url,
        # Without the pool, a connection per request costs about 3 ms on PostgreSQL, as much as
        # a small page: keep each worker's connection for a minute, checked before reuse. The
        # pool keeps connections itself and needs Django to hand them back after each request.
        conn_max_age=0 if pooled else _connection_age(os.environ.get("DB_CONN_MAX_AGE", "60")),
        # With the pool, Django has the pool check each connection before handing it out, so a
        # restarted server costs no failed request.
        conn_health_checks=True,
    )
    config.setdefault("OPTIONS", {})
    if config["ENGINE"].startswith("django.db.backends.postgresql"):
        # libpq waits for an unreachable server until the system's TCP timeout (minutes): bound
        # every connection attempt, pooled or not, by the wait the setting promises.
        config["OPTIONS"].setdefault("connect_timeout", max(1, math.ceil(connect_timeout)))
    if pooled:
        config["OPTIONS"]["pool"] = _pool_options(connect_timeout=connect_timeout)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # IMMEDIATE transactions take SQLite's write lock at BEGIN, so appends are serialised
        # and position order is commit order (DESIGN invariant 4). WAL lets readers run beside
        # the single writer; the timeout makes a second writer wait instead of failing.
        config["OPTIONS"].update(
            transaction_mode="IMMEDIATE",
            timeout=30,
            init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        )
        # A file, not Django's shared in-memory database, so that tests with real threads
        # get real, separately locked connections.
        config["TEST"] = {"NAME": str(BASE_DIR / ".test-db.sqlite3")}
    return config


def _databases_from_env() -> dict:
    primary = _database(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        connect_timeout=_env_number("DB_POOL_TIMEOUT", "10", kind=float, minimum=0.1),
    )
    if os.environ.get("TEST_DATABASE_NAME"):
        # Lets two test runs share one server or folder without dropping each other's database.
        primary["TEST"] = {"NAME": os.environ["TEST_DATABASE_NAME"]}
    databases = {"default": primary}
    for number, url in enumerate(_env_list("DATABASE_REPLICA_URLS"), start=1):
        # A replica that does not answer quickly is skipped for a while (archive/replicas.py).
        replica = _database(
            url,
            connect_timeout=_env_number("REPLICA_CONNECT_TIMEOUT", "2", kind=float, minimum=0.1),
        )
        # Tests run against the primary's test database: a replica only mirrors it.
        replica["TEST"] = {"MIRROR": "default"}
        databases[f"replica_{number}"] = replica
    return databases


DATABASES = _databases_from_env()
DATABASE_ROUTERS = ["archive.replicas.PrimaryReplicaRouter"]
# Seconds a replica that failed to answer is left out before it is tried again.
REPLICA_RETRY_SECONDS = _env_number("REPLICA_RETRY_SECONDS", "30", kind=float)
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
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # collectstatic writes a gzip copy beside each file; whitenoise serves it to clients that ask.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# The public API (records/api): read-only, anonymous, throttled, documented.
REST_FRAMEWORK = {
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"anon": os.environ.get("API_THROTTLE_RATE", "600/minute")},
    # Proxies in front of the app that append to X-Forwarded-For: the throttle counts requests
    # by the address the outermost of them saw, which a client cannot choose. 0: no proxy, the
    # peer's address.
    "NUM_PROXIES": _env_number("NUM_PROXIES", "0"),
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
API_CACHE_SECONDS = _env_number("API_CACHE_SECONDS", "60")
# Rendered public pages kept per worker until the log moves (records/api/page_cache.py).
API_PAGE_CACHE_ENTRIES = _env_number("API_PAGE_CACHE_ENTRIES", "200")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "api_pages": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "api-pages",
        "TIMEOUT": None,  # a page is stale only when the log moves, and then it is unreachable
        "OPTIONS": {"MAX_ENTRIES": max(API_PAGE_CACHE_ENTRIES, 1)},
    },
}

# One JSON object per line by default, for a log collector; LOG_FORMAT=text for people.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json").strip().lower()
if LOG_FORMAT not in LOG_FORMATTERS:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": LOG_FORMATTERS,
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
