"""Where each page of the event log ends: after a number of events, or sooner, once the events
before hold a number of bytes.

The readers of the whole log (the replay, the chain check, the export) read it a page at a
time, so that memory stays flat however long the log; so does the public change feed, which
reads every event's data to digest it, a request at a time. A page bounded by its number of events
alone is not flat in bytes: a source may hold two million characters of text, and a page of
thousands of such events would hold gigabytes. So a page also ends at the first event that
follows ``PAGE_BYTES`` of stored data: a page holds at most ``PAGE_BYTES`` of stored data and one
event more, whatever its events hold.

The stored size is a cheap measure, taken without decompressing a value on PostgreSQL, but on
PostgreSQL it is the compressed size: natural text stores in about half its bytes, so a page
holds about twice ``PAGE_BYTES`` of text, and a text of one sentence repeated far more (pglz
shrinks such text tens of times). SQLite measures the bytes as they are.
"""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, connection, connections

from records.models import StoredEvent

# About a thousand events of the benchmark's archive (a page reads at most 2,000 to 5,000): the
# bound only bites where events are large.
PAGE_BYTES = 4_000_000


def _last_position_sql(database=connection) -> str:
    """The last position of the page after %s: at most %s events, and none after the stored
    data of those before it reaches %s bytes; the first event always counts. Positions and
    sizes only: the events' data is read once the page's range is known."""
    quote = database.ops.quote_name
    table = quote(StoredEvent._meta.db_table)
    position, data, metadata = (
        quote(StoredEvent._meta.get_field(name).column) for name in ("position", "data", "metadata")
    )
    if database.vendor == "postgresql":
        size = f"pg_column_size({data}) + pg_column_size({metadata})"
    else:
        size = f"length(CAST({data} AS BLOB)) + length(CAST({metadata} AS BLOB))"
    # The events are limited first, then summed, so the running total stops at the limit.
    return (
        f"SELECT MAX(strata_position) FROM ("
        f"SELECT strata_position, SUM(strata_size) OVER (ORDER BY strata_position) - strata_size "
        f"AS strata_before FROM ("
        f"SELECT {position} AS strata_position, {size} AS strata_size FROM {table} "
        f"WHERE {position} > %s ORDER BY {position} LIMIT %s) AS strata_next) AS strata_ahead "
        "WHERE strata_before < %s"
    )


def page_sql(expressions: list[str]) -> str:
    """A query of ``expressions`` over the log's columns for each event of the page after a
    position, in position order; its parameters are ``page_parameters``. One statement: a
    second query for the page's end cost an eighth of a chain check."""
    quote = connection.ops.quote_name
    table = quote(StoredEvent._meta.db_table)
    position = quote(StoredEvent._meta.get_field("position").column)
    return (
        f"SELECT {', '.join(expressions)} FROM {table} "
        f"WHERE {position} > %s AND {position} <= ({_last_position_sql()}) ORDER BY {position}"
    )


def page_parameters(after: int, limit: int) -> list[int]:
    """The parameters of ``page_sql`` for the page after ``after`` of at most ``limit`` events.
    A bound below one byte would end every page before its first event, and so the log."""
    return [after, after, limit, max(PAGE_BYTES, 1)]


def page_end(after: int, limit: int, *, using: str = DEFAULT_DB_ALIAS) -> int | None:
    """The last position of the page after ``after``, or None past the log's end: for readers
    that go through the ORM, which then read the page by its range of positions. ``using``: the
    database they read (a public read's may be a replica, which may be behind the primary)."""
    database = connections[using]
    with database.cursor() as cursor:
        cursor.execute(_last_position_sql(database), page_parameters(after, limit)[1:])
        return cursor.fetchone()[0]
