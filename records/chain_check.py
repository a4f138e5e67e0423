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

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from operator import itemgetter

from django.conf import settings
from django.db import connection

from records import chain_worker
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


def _log_pages(page_size: int, after: int = 0) -> Iterator[list[tuple]]:
    if connection.vendor == "postgresql":
        # While Python checks a page, the server writes the next: the wait was a third of the time.
        pages = pages_after(_postgresql_reader(page_size), after, itemgetter(0))
        return read_ahead(pages, name="chain-check-read-ahead")
    return pages_after(_sqlite_reader(page_size), after, itemgetter(0))


def check_log_chain(
    on_row: Callable[[], None] | None = None, *, page_size: int = PAGE_SIZE
) -> ChainReport:
    """Walk the log in position order; name the first event whose link or hash does not hold.
    ``verify_chain(iter_log())`` reports the same, several times slower. A long log is checked
    in two halves at once (``SPLIT_FROM``)."""
    split = _split_point()
    if split is None:
        return walk_the_log(page_size=page_size, on_row=on_row)
    return _check_in_halves(*split, on_row=on_row, page_size=page_size)


def walk_the_log(
    *,
    after: int = 0,
    previous_hash: str = GENESIS_HASH,
    page_size: int = PAGE_SIZE,
    on_row: Callable[[], None] | None = None,
    on_page: Callable[[int], bool] | None = None,
) -> ChainReport:
    """Check the events after position ``after``, the first linking to ``previous_hash``, to the
    log's end. ``on_page(events)`` is called after each page; once it returns False the walk
    stops, and reports what it checked as intact."""
    report, _ = _walk(after, previous_hash, None, page_size, on_row, on_page)
    return report


def _walk(
    after: int,
    previous_hash: str,
    upto: int | None,
    page_size: int,
    on_row: Callable[[], None] | None,
    on_page: Callable[[int], bool] | None,
) -> tuple[ChainReport, bool]:
    """``walk_the_log``, stopping once the event at position ``upto`` has passed; and whether
    it did (a log whose rows come out of order may never reach it, and is then walked whole)."""
    previous_position = after
    checked = 0
    # closing: a broken link returns at once, and the read-ahead must stop before anyone else
    # uses the connection.
    with closing(_log_pages(page_size, after)) as pages:
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
                    return ChainReport(checked, position, OUT_OF_ORDER), False
                if stored_previous_hash != previous_hash:
                    return ChainReport(checked, position, BROKEN_LINK), False
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
                    return ChainReport(checked, position, WRONG_HASH), False
                previous_hash, previous_position = stored_hash, position
                checked += 1
                if on_row is not None:
                    on_row()
                if position == upto:
                    return ChainReport(checked), True
            if on_page is not None and not on_page(len(page)):
                return ChainReport(checked), False
    return ChainReport(checked), False


# From this many events, on PostgreSQL and outside a transaction, the log is checked in two
# halves at once, the second in a process of its own (records.chain_worker): the check is
# Python's work, about 9 µs an event, on one core. Below it, starting that process (it sets
# Django up: about a second) costs more than it saves. Inside a transaction the other process's
# connection might not see what this one sees, so the check stays whole.
SPLIT_FROM = 200_000


def _split_point() -> tuple[int, str] | None:
    """The position and stored hash of the event at about the log's middle, or None to check the
    log in one walk. Positions count up from 1 without gaps, so the last is the log's length."""
    if (
        connection.vendor != "postgresql"
        or connection.in_atomic_block
        or not connection.get_autocommit()
        or _cores() < 2
    ):
        return None
    table = connection.ops.quote_name(StoredEvent._meta.db_table)
    position, stored_hash = (
        connection.ops.quote_name(StoredEvent._meta.get_field(name).column)
        for name in ("position", "hash")
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX({position}) FROM {table}")
        (last,) = cursor.fetchone()
        if last is None or last < SPLIT_FROM:
            return None
        cursor.execute(
            f"SELECT {position}, {stored_hash} FROM {table} WHERE {position} <= %s "
            f"ORDER BY {position} DESC LIMIT 1",
            [last // 2],
        )
        return cursor.fetchone()


def _cores() -> int:
    """The cores this process may run on (its affinity, where the system says)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _check_in_halves(
    position: int, stored_hash: str, *, on_row: Callable[[], None] | None, page_size: int
) -> ChainReport:
    """The events up to ``position`` checked here, the rest at the same time by
    ``records.chain_worker`` in a process of its own, linking to the stored hash at
    ``position``: this half checks that hash, so the two halves hold together exactly when the
    whole chain does, and report what one walk would."""
    task = {
        "database": {key: connection.settings_dict[key] for key in chain_worker.DATABASE_KEYS},
        "after": position,
        "previous_hash": stored_hash,
        "page_size": page_size,
    }
    with (
        tempfile.TemporaryFile(mode="w+") as errors,
        subprocess.Popen(
            [sys.executable, "-m", "records.chain_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            cwd=settings.BASE_DIR,
        ) as worker,
    ):
        lines: queue.Queue = queue.Queue()

        def read_lines() -> None:
            try:
                for line in worker.stdout:
                    lines.put(line)
            finally:
                lines.put(None)  # whatever stopped the reading: the caller must not wait on

        reader = threading.Thread(target=read_lines, name="chain-check-worker-reader")
        reports: list[str] = []
        said = threading.Event()  # the worker has said all it will say

        def take_lines(timeout: float) -> bool:
            """Tick for the worker's pages; True once it has said all it will say."""
            try:
                while not said.is_set():
                    line = lines.get(timeout=timeout)
                    timeout = 0
                    if line is None:
                        said.set()
                    elif line.startswith(chain_worker.REPORT):
                        reports.append(line.removeprefix(chain_worker.REPORT))
                    elif line.startswith(chain_worker.PAGE) and on_row is not None:
                        for _ in range(int(line.removeprefix(chain_worker.PAGE))):
                            on_row()
            except queue.Empty:
                pass
            return said.is_set()

        try:
            try:
                worker.stdin.write(json.dumps(task) + "\n")
                worker.stdin.close()
            except BrokenPipeError:
                pass  # the worker has already stopped: its exit status says why
            reader.start()
            first, reached = _walk(
                0,
                GENESIS_HASH,
                position,
                page_size,
                on_row,
                lambda _events: take_lines(timeout=0) or True,
            )
            if not reached:
                # Broken in this half, or walked whole (the middle event never came in its
                # place): the worker's half counts for nothing.
                return first
            while not take_lines(timeout=0.25):
                pass
        finally:
            if worker.poll() is None and not said.is_set():
                worker.kill()  # it only reads: stopping it part way loses nothing
            worker.wait()
            if reader.is_alive():
                reader.join()
        if worker.returncode != 0 or not reports:
            errors.seek(0)
            raise ChainCheckFailed(
                f"the chain check of the events after position {position} stopped "
                f"(exit status {worker.returncode}): {errors.read().strip()[-2000:]}"
            )
    try:
        rest = ChainReport(**json.loads(reports[-1]))
    except (TypeError, ValueError) as error:
        raise ChainCheckFailed(f"the chain check's worker reported {reports[-1]!r}") from error
    return ChainReport(first.checked + rest.checked, rest.first_bad_position, rest.problem)


class ChainCheckFailed(Exception):
    """The process checking the second half of the log failed (not a broken chain: the
    database lost, say); its error output says why."""
