"""Where each page of the event log ends: after a number of events, or sooner, once the events
before hold a number of bytes.

Every reader of the whole log (the replay, the chain check, the export) reads it a page at a
time, so that memory stays flat however long the log. A page bounded by its number of events
alone is not flat in bytes: a source may hold two million characters of text, and a page of
thousands of such events would hold gigabytes. So a page also ends at the first event that
follows ``PAGE_BYTES`` of stored data: a page holds at most ``PAGE_BYTES`` and one event more,
whatever its events hold.

The bound is the stored size (PostgreSQL's, compressed where a value was compressed), read
without fetching a value: a cheap measure, not the size of the objects that Python builds.
"""

from __future__ import annotations

from django.db import connection

from records.models import StoredEvent

# About a thousand events of the benchmark's archive (at most two thousand are read a page): the
# bound only bites where events are large.
PAGE_BYTES = 4_000_000


def _names() -> tuple[str, str, str]:
    quote = connection.ops.quote_name
    table = quote(StoredEvent._meta.db_table)
    position = quote(StoredEvent._meta.get_field("position").column)
    data, metadata = (
        quote(StoredEvent._meta.get_field(name).column) for name in ("data", "metadata")
    )
    if connection.vendor == "postgresql":
        size = f"pg_column_size({data}) + pg_column_size({metadata})"
    else:
        size = f"length(CAST({data} AS BLOB)) + length(CAST({metadata} AS BLOB))"
    return table, position, size


def _bounded(select: str) -> str:
    """``select`` (a list of expressions over the log's columns, and ``strata_position``) of the
    page after %s: at most %s events, and none after the stored data of those before it reaches
    %s bytes; the first event always counts. The events are limited first, then summed, so the
    running total never reads past the page."""
    table, position, size = _names()
    return (
        f"SELECT {select}, SUM(strata_size) OVER (ORDER BY strata_position) - strata_size "
        f"AS strata_before FROM ("
        f"SELECT *, {position} AS strata_position, {size} AS strata_size FROM {table} "
        f"WHERE {position} > %s ORDER BY {position} LIMIT %s) AS strata_next"
    )


def page_sql(expressions: list[str]) -> str:
    """A query of ``expressions`` over the log's columns for each event of the page after %s
    (at most %s events, and about %s bytes: ``page_parameters``), in position order. One query:
    a second one for the page's end read each page twice, an eighth of a chain check."""
    listed = ", ".join(f"strata_value_{number}" for number in range(len(expressions)))
    select = ", ".join(
        f"{expression} AS strata_value_{number}" for number, expression in enumerate(expressions)
    )
    return (
        f"SELECT {listed} FROM ({_bounded(select + ', strata_position')}) AS strata_ahead "
        "WHERE strata_before < %s ORDER BY strata_position"
    )


def page_parameters(after: int, limit: int) -> list[int]:
    """The parameters of ``page_sql`` for the page after ``after`` of at most ``limit`` events."""
    return [after, limit, PAGE_BYTES]


def page_end(after: int, limit: int) -> int | None:
    """The last position of the page after ``after``, or None past the log's end: for readers
    that go through the ORM, which then read the page by its range of positions."""
    sql = (
        f"SELECT MAX(strata_position) FROM ({_bounded('strata_position')}) AS strata_ahead "
        "WHERE strata_before < %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, page_parameters(after, limit))
        return cursor.fetchone()[0]
