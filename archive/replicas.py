"""Public reads on the read replicas; writes and staff reads on the primary.

Each request is routed once, when it starts. A GET or HEAD under the public API reads from a
replica (DATABASE_REPLICA_URLS). Everything else, the admin and any write, reads and writes the
primary, and so does a staff user's browser on the public API: a replica may be a moment behind,
and staff read their own writes. The admin gives a staff user's browser a signed cookie that says
so; a client cannot forge it to push public reads onto the primary.

A replica that does not answer is left out for REPLICA_RETRY_SECONDS, and its requests read from
the primary meanwhile; a request whose replica fails half-way is answered again from the primary.
So the public API keeps answering when a replica stops.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.utils import Error as DatabaseError

logger = logging.getLogger(__name__)

PUBLIC_READ_PREFIX = "/api/"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The staff browser's cookie: signed with SECRET_KEY, valid as long as a session.
STAFF_COOKIE = "strata_staff_reads_primary"
STAFF_COOKIE_SALT = "archive.replicas.staff"

# The alias this request reads from; the primary unless the middleware chose a replica.
_read_alias: ContextVar[str] = ContextVar("strata_read_alias", default=DEFAULT_DB_ALIAS)
# Replica alias -> monotonic time before which it is not tried again (per worker process).
_left_out_until: dict[str, float] = {}


def replica_aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias != DEFAULT_DB_ALIAS]


def is_public_read(request) -> bool:
    return request.method in READ_METHODS and request.path_info.startswith(PUBLIC_READ_PREFIX)


def carries_staff_cookie(request) -> bool:
    return (
        request.get_signed_cookie(
            STAFF_COOKIE,
            default=None,
            salt=STAFF_COOKIE_SALT,
            max_age=settings.SESSION_COOKIE_AGE,
        )
        is not None
    )


def reads_from_replica(request) -> bool:
    """True for a public read from anyone but staff: the only reads that may be a moment behind."""
    return is_public_read(request) and not carries_staff_cookie(request)


def _mark_staff_browser(request, response) -> None:
    """After an admin page: a staff user's browser gets the cookie, a logged-out one loses it."""
    user = getattr(request, "user", None)
    staff = user is not None and user.is_authenticated and user.is_staff
    if staff and not carries_staff_cookie(request):
        response.set_signed_cookie(
            STAFF_COOKIE,
            "1",
            salt=STAFF_COOKIE_SALT,
            max_age=settings.SESSION_COOKIE_AGE,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
    elif not staff and STAFF_COOKIE in request.COOKIES:
        response.delete_cookie(STAFF_COOKIE, samesite="Lax")


def _leave_out(alias: str, error: Exception) -> None:
    _left_out_until[alias] = time.monotonic() + settings.REPLICA_RETRY_SECONDS
    logger.warning(
        "replica %s does not answer; public reads use the primary for %ss: %s",
        alias,
        settings.REPLICA_RETRY_SECONDS,
        error,
    )
    with contextlib.suppress(DatabaseError):  # the connection may be gone already
        connections[alias].close()


def answering_replica() -> str | None:
    """A replica that answers now, chosen at random to spread the load; None if none does."""
    now = time.monotonic()
    candidates = [alias for alias in replica_aliases() if _left_out_until.get(alias, 0) <= now]
    random.shuffle(candidates)
    for alias in candidates:
        try:
            connections[alias].ensure_connection()
        except DatabaseError as error:
            _leave_out(alias, error)
            continue
        return alias
    return None


class ReplicaRoutingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        alias = answering_replica() if reads_from_replica(request) else None
        token = _read_alias.set(alias or DEFAULT_DB_ALIAS)
        try:
            response = self.get_response(request)
        finally:
            _read_alias.reset(token)
        if not is_public_read(request):
            _mark_staff_browser(request, response)
        return response

    def process_exception(self, request, exception):
        """A replica that failed during the view: leave it out and answer from the primary
        (the request is a read, so running the view again is safe)."""
        alias = _read_alias.get()
        if alias == DEFAULT_DB_ALIAS or not isinstance(exception, DatabaseError):
            return None
        _leave_out(alias, exception)
        _read_alias.set(DEFAULT_DB_ALIAS)
        return self.get_response(request)


class PrimaryReplicaRouter:
    """Reads go where the middleware said (the primary outside a request); writes to the primary."""

    def db_for_read(self, model, **hints):
        return _read_alias.get()

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # Replicas hold the same rows as the primary.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS
