"""Public reads on the read replicas; writes and staff reads on the primary.

Each request is routed once, when it starts. An anonymous GET or HEAD under the public API reads
from a replica (DATABASE_REPLICA_URLS). Everything else, the admin, any write and any request that
carries a session cookie, reads and writes the primary: a staff user always reads their own
writes, even on the public API, because a replica may be a moment behind.

A replica that does not answer is left out for REPLICA_RETRY_SECONDS, and its requests read from
the primary meanwhile, so the public API keeps answering when a replica stops.
"""

from __future__ import annotations

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

# The alias this request reads from; the primary unless the middleware chose a replica.
_read_alias: ContextVar[str] = ContextVar("strata_read_alias", default=DEFAULT_DB_ALIAS)
# Replica alias -> monotonic time before which it is not tried again (per worker process).
_left_out_until: dict[str, float] = {}


def replica_aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias != DEFAULT_DB_ALIAS]


def reads_from_replica(request) -> bool:
    """True for an anonymous public read: the only reads that may be a moment behind."""
    return (
        request.method in READ_METHODS
        and request.path.startswith(PUBLIC_READ_PREFIX)
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
    )


def answering_replica() -> str | None:
    """A replica that answers now, chosen at random to spread the load; None if none does."""
    now = time.monotonic()
    candidates = [alias for alias in replica_aliases() if _left_out_until.get(alias, 0) <= now]
    random.shuffle(candidates)
    for alias in candidates:
        try:
            connections[alias].ensure_connection()
        except DatabaseError as error:
            _left_out_until[alias] = time.monotonic() + settings.REPLICA_RETRY_SECONDS
            logger.warning(
                "replica %s does not answer; public reads use the primary for %ss: %s",
                alias,
                settings.REPLICA_RETRY_SECONDS,
                error,
            )
            connections[alias].close()
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
            return self.get_response(request)
        finally:
            _read_alias.reset(token)


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
