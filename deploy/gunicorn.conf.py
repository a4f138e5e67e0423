"""Gunicorn's configuration for Strata: `gunicorn -c deploy/gunicorn.conf.py archive.wsgi`.

Read from the environment (deploy/.env.example):

PORT             the port to listen on, on every interface (default 8000); `--bind` overrides it
WEB_CONCURRENCY  worker processes (default 2); each serves one request at a time
LOG_FORMAT       "json" (default): one JSON object per line, like the app's own log; or "text"

Every request is one line on stdout (the access log); gunicorn's own messages go to stderr.
"""

import os
from pathlib import Path

from gunicorn import glogging

from archive.log_formats import LOG_FORMATTERS

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"

# Sync workers: the app's requests are short database reads and writes. A worker holds one
# database connection per database at a time, so DB_POOL_MAX_SIZE need not exceed a few.
worker_class = "sync"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# A request that takes longer than this is killed and its worker restarted.
timeout = 30
# On SIGTERM (a rolling restart, a scale-down), requests under way get this long to finish;
# the orchestrator waits longer (terminationGracePeriodSeconds, stop_grace_period).
graceful_timeout = 25
keepalive = 5
# Restart each worker after about this many requests, staggered, so that any slow growth in
# memory never accumulates and the workers never all restart at once.
max_requests = 1000
max_requests_jitter = 100

# Only the proxy reaches this port (nginx in compose, the Service in Kubernetes; the port is
# never published), so its X-Forwarded-Proto is believed. Django reads the same header itself
# (SECURE_PROXY_SSL_HEADER in archive/settings.py).
forwarded_allow_ips = "*"

# The workers' heartbeat files: in memory, and writable under a read-only root filesystem.
if Path("/dev/shm").is_dir():
    worker_tmp_dir = "/dev/shm"

proc_name = "strata"

# Paths of the orchestrator's probes: answered often, logged only when they fail.
PROBE_PATHS = frozenset({"/healthz", "/readyz"})


class AccessLogger(glogging.Logger):
    """Gunicorn's logger, with each request as named fields rather than one formatted string,
    so that the JSON formatter writes them as keys (a quote in a User-Agent cannot break a
    line)."""

    def access(self, resp, req, environ, request_time):
        status = int(str(resp.status).split(None, 1)[0])
        path = environ.get("PATH_INFO", "")
        if path in PROBE_PATHS and status < 400:
            return
        fields = {
            "remote_addr": environ.get("REMOTE_ADDR"),
            "forwarded_for": environ.get("HTTP_X_FORWARDED_FOR"),
            "request_id": environ.get("HTTP_X_REQUEST_ID"),
            "method": environ.get("REQUEST_METHOD"),
            "path": path,
            "query": environ.get("QUERY_STRING") or None,
            "protocol": environ.get("SERVER_PROTOCOL"),
            "status": status,
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 3),
            "referer": environ.get("HTTP_REFERER"),
            "user_agent": environ.get("HTTP_USER_AGENT"),
        }
        try:
            self.access_log.info("%s %s %s", fields["method"], path, status, extra={"http": fields})
        except Exception:
            self.exception("could not write the access log")


logger_class = AccessLogger

_log_format = os.environ.get("LOG_FORMAT", "json").strip().lower()
# The app's own formats (the settings refuse an unknown LOG_FORMAT; here it falls back to text).
_formatter = LOG_FORMATTERS.get(_log_format, LOG_FORMATTERS["text"])

# Replaces gunicorn's own handlers (dictConfig clears the loggers it configures): the access
# log on stdout, gunicorn's messages on stderr, both in the app's format. Django configures
# the root logger from LOGGING when each worker loads the app; these two do not propagate to it.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"strata": _formatter},
    "handlers": {
        "access": {
            "class": "logging.StreamHandler",
            "formatter": "strata",
            "stream": "ext://sys.stdout",
        },
        "error": {
            "class": "logging.StreamHandler",
            "formatter": "strata",
            "stream": "ext://sys.stderr",
        },
    },
    "loggers": {
        "gunicorn.access": {"level": "INFO", "handlers": ["access"], "propagate": False},
        "gunicorn.error": {"level": "INFO", "handlers": ["error"], "propagate": False},
    },
    "root": {"level": "WARNING", "handlers": ["error"]},
}
