"""Probes for the orchestrator: /healthz (the process answers) and /readyz (it can serve).

Plain Django views, outside the public API: no throttling, no page cache, no database for
liveness, so a slow database makes the process unready rather than restarted.
"""

import logging

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import Error as DatabaseError
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)


@never_cache
@require_safe
def healthz(request):
    return JsonResponse({"status": "ok"})


def _unapplied_migrations(alias: str) -> list[str]:
    executor = MigrationExecutor(connections[alias])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


@never_cache
@require_safe
def readyz(request):
    """Ready when the primary answers and every migration is applied; 503 saying why if not."""
    try:
        connections[DEFAULT_DB_ALIAS].ensure_connection()
        pending = _unapplied_migrations(DEFAULT_DB_ALIAS)
    except DatabaseError as error:
        # The detail names hosts and roles: it goes to the log, not to whoever asks.
        logger.warning("readyz: the database does not answer: %s", error)
        return JsonResponse({"status": "unavailable", "reason": "database unreachable"}, status=503)
    if pending:
        return JsonResponse(
            {"status": "unavailable", "reason": "migrations not applied", "pending": pending},
            status=503,
        )
    return JsonResponse({"status": "ready"})
