"""A second connection for a reader thread, seeing the database exactly as the caller's
transaction does.

A read-ahead thread that borrows the caller's connection (``records.read_ahead``) shares its
server process: while that process runs the reader's query, the caller's next statement waits,
and the other way round. A replay reads the log and writes the read models on one connection,
so its reads and writes took turns on one core. On a connection of its own, the reader's server
process reads the next pages while the caller's writes.

The two must see the same log. PostgreSQL exports the caller's snapshot
(``pg_export_snapshot``) and the second connection takes it in a read-only REPEATABLE READ
transaction (``SET TRANSACTION SNAPSHOT``): it sees what the caller saw at that moment, whatever
commits later. An exported snapshot leaves out the exporting transaction's own uncommitted rows,
so the session is only opened while the caller's transaction has written nothing
(``pg_current_xact_id_if_assigned()`` is null): a restore that appends events and then replays
them in one transaction reads them on its own connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from psycopg import sql


@contextmanager
def reading_session() -> Iterator[BaseDatabaseWrapper | None]:
    """A connection of its own that sees what the caller's transaction sees now, for a reader
    thread to read through (``records.read_ahead.borrowed_query``), closed on leaving. None, for
    the reader to borrow the caller's connection, on SQLite (one writer, and nothing to gain),
    outside a transaction, in a savepoint, and once the caller's transaction has written
    anything."""
    caller = connections[DEFAULT_DB_ALIAS]
    snapshot = _exported_snapshot(caller)
    if snapshot is None:
        yield None
        return
    # Same settings, same pool if there is one: the test database in tests, the app's role.
    session = type(caller)(caller.settings_dict, caller.alias)
    session.ensure_connection()
    try:
        with session.wrap_database_errors:
            # Django's connections are in autocommit: the transaction is begun here, by hand.
            session.connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            session.connection.execute(
                sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot))
            )
        yield session
    finally:
        try:
            with session.wrap_database_errors:
                session.connection.execute("ROLLBACK")
        finally:
            session.close()


def _exported_snapshot(caller: BaseDatabaseWrapper) -> str | None:
    """The caller's snapshot, exported, if a reading session can share it."""
    if caller.vendor != "postgresql" or not caller.in_atomic_block:
        return None
    # PostgreSQL exports no snapshot from a subtransaction, and the refusal would abort the
    # caller's transaction: a nested atomic block that made a savepoint gets no session.
    if any(savepoint is not None for savepoint in caller.savepoint_ids):
        return None
    with caller.cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id_if_assigned() IS NULL")
        if not cursor.fetchone()[0]:
            return None
        cursor.execute("SELECT pg_export_snapshot()")
        return cursor.fetchone()[0]
