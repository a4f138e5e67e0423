"""verify_archive's first step: walk the log's hash chain, read raw from the database.

The same three checks as ``records.hashing.verify_chain``, in its order and with its words, over
rows read without model instances (building one per event costs more than checking it). Each
page is one query by position; its JSON columns stay the stored text, which
``stored_event_hash`` decodes, and on PostgreSQL the server writes each time in canonical form
(cheaper than psycopg building a datetime for Python to format) and the next page is read while
this one is checked. The reads go through psycopg's own connection, so Django's query logging,
``execute_wrapper`` hooks and query counting do not see them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import closing
from operator import itemgetter

from django.db import connection

from records.hashing import (
    BROKEN_LINK,
    GENESIS_HASH,
    OUT_OF_ORDER,
    WRONG_HASH,
    ChainReport,
    canonical_time,
    stored_event_hash,
)
from records.log_pages import page_parameters, page_sql
from records.models import StoredEvent
from records.read_ahead import borrowed_query, pages_after, read_ahead

# A page's rows, in this order: what the hash covers, and the two stored hashes.
_COLUMNS = (
    "position",
    "stream_id",
    "stream_type",
    "version",
    "event_type",
    "schema_version",
    "data",
    "metadata",
    "recorded_at",
    "previous_hash",
    "hash",
)
# Measured on PostgreSQL with the read-ahead (120k events): 2,000 a page beat 250, 500, 1,000
# and 5,000, if narrowly. Four pages in memory at most: the one checked, two queued, and one
# the reader waits to queue.
PAGE_SIZE = 2000

# canonical_time's form (isoformat to the microsecond, in UTC), written by the server. NULL for
# a time that Python's datetime cannot hold, so that its hash fails as it must: before year 1
# (where YYYY would pass for the same year of the common era) and infinity.
_POSTGRESQL_TIME = (
    "CASE WHEN {column} >= '0001-01-01T00:00:00+00:00' THEN "
    "to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"') END"
)

ReadPage = Callable[[int], list[tuple]]


def _page_query(expressions: dict[str, str]) -> str:
    """The rows of a page (records.log_pages); ``expressions`` replaces some columns."""
    quote = connection.ops.quote_name
    return page_sql(
        [
            expressions.get(name, quote(StoredEvent._meta.get_field(name).column))
            for name in _COLUMNS
        ]
    )


def _postgresql_reader(page_size: int) -> ReadPage:
    quote = connection.ops.quote_name
    sql = _page_query(
        {
            "stream_id": f"{quote(StoredEvent._meta.get_field('stream_id').column)}::text",
            "recorded_at": _POSTGRESQL_TIME.format(
                column=quote(StoredEvent._meta.get_field("recorded_at").column)
            ),
        }
    )
    # Read through psycopg's own connection, which the read-ahead thread borrows. Django has
    # psycopg give jsonb as text, as stored_event_hash wants it.
    fetch = borrowed_query(sql)
    return lambda after: fetch(page_parameters(after, page_size))


def _sqlite_reader(page_size: int) -> ReadPage:
    sql = _page_query({})
    ops = connection.ops

    def read_page(after: int) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(sql, page_parameters(after, page_size))
            rows = cursor.fetchall()
        # The JSON columns hold text. The id and the time go through Django's converters, so
        # that they come out as the model layer gives them to hash_of_row.
        return [
            (
                row[0],
                str(ops.convert_uuidfield_value(row[1], None, connection)),
                *row[2:8],
                canonical_time(ops.convert_datetimefield_value(row[8], None, connection)),
                *row[9:],
            )
            for row in rows
        ]

    return read_page


def _log_pages(page_size: int) -> Iterator[list[tuple]]:
    if connection.vendor == "postgresql":
        # While Python checks a page, the server writes the next: the wait was a third of the time.
        pages = pages_after(_postgresql_reader(page_size), 0, itemgetter(0))
        return read_ahead(pages, name="chain-check-read-ahead")
    return pages_after(_sqlite_reader(page_size), 0, itemgetter(0))


def check_log_chain(
    on_row: Callable[[], None] | None = None, *, page_size: int = PAGE_SIZE
) -> ChainReport:
    """Walk the log in position order; name the first event whose link or hash does not hold.
    ``verify_chain(iter_log())`` reports the same, several times slower."""
    previous_hash = GENESIS_HASH
    previous_position = 0
    checked = 0
    # closing: a broken link returns at once, and the read-ahead must stop before anyone else
    # uses the connection.
    with closing(_log_pages(page_size)) as pages:
        for page in pages:
            for (
                position,
                stream_id,
                stream_type,
                version,
                event_type,
                schema_version,
                data,
                metadata,
                recorded_at,
                stored_previous_hash,
                stored_hash,
            ) in page:
                if position <= previous_position:
                    return ChainReport(checked, position, OUT_OF_ORDER)
                if stored_previous_hash != previous_hash:
                    return ChainReport(checked, position, BROKEN_LINK)
                computed = stored_event_hash(
                    position=position,
                    stream_id=stream_id,
                    stream_type=stream_type,
                    version=version,
                    event_type=event_type,
                    schema_version=schema_version,
                    data_json=data,
                    metadata_json=metadata,
                    recorded_at=recorded_at,
                    previous_hash=previous_hash,
                )
                if computed != stored_hash:
                    return ChainReport(checked, position, WRONG_HASH)
                previous_hash, previous_position = stored_hash, position
                checked += 1
                if on_row is not None:
                    on_row()
    return ChainReport(checked)
