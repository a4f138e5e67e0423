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
from contextlib import contextmanager, suppress

from django.db import DEFAULT_DB_ALIAS, DatabaseError, OperationalError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from psycopg import sql

from records.models import StoredEvent


@contextmanager
def reading_session() -> Iterator[BaseDatabaseWrapper | None]:
    """A connection of its own that sees what the caller's transaction sees now, for a reader
    thread to read through (``records.read_ahead.borrowed_query``), closed on leaving. None, for
    the reader to borrow the caller's connection, on SQLite (one writer, and nothing to gain),
    outside a transaction, in a savepoint, once the caller's transaction has written anything,
    and when the session cannot be had at once (see ``_open``)."""
    caller = connections[DEFAULT_DB_ALIAS]
    snapshot = _exported_snapshot(caller)
    session = None if snapshot is None else _open(caller, snapshot)
    try:
        yield session
    finally:
        if session is not None:
            _close(session)


def _exported_snapshot(caller: BaseDatabaseWrapper) -> str | None:
    """The caller's snapshot, exported, if a reading session can share it."""
    if caller.vendor != "postgresql" or not caller.in_atomic_block:
        return None
    # PostgreSQL exports no snapshot from a subtransaction, and the refusal would abort the
    # caller's transaction: a nested atomic block that made a savepoint gets no session. (A
    # savepoint made with transaction.savepoint() is not counted here; none is made around a
    # replay.)
    if any(savepoint is not None for savepoint in caller.savepoint_ids):
        return None
    with caller.cursor() as cursor:
        cursor.execute(
            "SELECT CASE WHEN pg_current_xact_id_if_assigned() IS NULL "
            "THEN pg_export_snapshot() END"
        )
        return cursor.fetchone()[0]


def _open(caller: BaseDatabaseWrapper, snapshot: str) -> BaseDatabaseWrapper | None:
    """A connection in a read-only transaction on ``snapshot``, holding its read lock on the
    log; None if it cannot be had at once, the caller's own connection then serving as before.

    Outside the connection pool, so that a long replay takes no worker's connection and a pool
    of one still replays. The lock is taken NOWAIT: a migration queued for the log's exclusive
    lock behind the caller's append lock would otherwise make the reader wait for it, while it
    waits for the caller, who waits for the reader, a deadlock PostgreSQL cannot see."""
    options = {k: v for k, v in caller.settings_dict["OPTIONS"].items() if k != "pool"}
    # The same settings otherwise: the test database in tests, the app's role.
    session = type(caller)({**caller.settings_dict, "OPTIONS": options}, caller.alias)
    log = caller.ops.quote_name(StoredEvent._meta.db_table)
    try:
        session.ensure_connection()
        with session.wrap_database_errors:
            # Django's connections are in autocommit: the transaction is begun here, by hand.
            session.connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            session.connection.execute(
                sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot))
            )
            session.connection.execute(f"LOCK TABLE {log} IN ACCESS SHARE MODE NOWAIT")
    except OperationalError:
        # No connection left on the server, or the log's lock not to be had at once. (A refusal
        # of rights is an error of the setup, raised as it is.)
        _close(session)
        return None
    return session


def _close(session: BaseDatabaseWrapper) -> None:
    # Closing ends its transaction; nothing it did needs keeping, and a failure here must not
    # hide the replay's own error.
    with suppress(DatabaseError):
        session.close()
