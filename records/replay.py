"""Projections are disposable: clear them, replay the log, and compare with the live state."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from records.batch_projection import PAGE_SIZE, BatchProjector
from records.event_store import iter_log_pages, lock_log
from records.models import StoredEvent
from records.projections import PROJECTION_MODELS
from records.reading_session import reading_session


def projection_tables():
    """Each read model and its history model, in dependency order."""
    for model in PROJECTION_MODELS:
        yield model
        if hasattr(model, "history"):
            yield model.history.model


def clear_projections() -> None:
    # Raw deletes: a model delete would make django-simple-history write "deleted" history rows,
    # and these rows are not being deleted from the archive, only rebuilt.
    for table in reversed(list(projection_tables())):
        table.objects.all()._raw_delete(table.objects.db)


def project(
    events: Iterable[StoredEvent],
    on_event: Callable[[], None] | None = None,
    *,
    page_size: int = PAGE_SIZE,
) -> int:
    """Project stored events, in position order, onto the read models as they stand, a page at
    a time. Returns the number of events projected."""
    with transaction.atomic():
        return BatchProjector().project(events, on_event, page_size=page_size)


def rebuild(on_event: Callable[[], None] | None = None, *, page_size: int = PAGE_SIZE) -> int:
    """Replay the whole log into empty read models, history included. Returns events replayed.
    Appends wait until the rebuild ends (the append lock): it replays the log as it stands, and
    no command projects onto read models being emptied and written again."""
    with transaction.atomic():
        lock_log()
        # A lock is no write: the reading session can still share this transaction's snapshot.
        with reading_session() as log_session:
            return _replay(on_event, page_size, log_session)


def _replay(
    on_event: Callable[[], None] | None, page_size: int, log_session: BaseDatabaseWrapper | None
) -> int:
    """Empty the read models and replay the log into them, reading it on ``log_session``
    (``records.reading_session``) or, if None, on the replay's own connection."""
    clear_projections()
    # closing, inside the transaction: if projecting fails, the log's read-ahead thread stops
    # before the rollback uses the connection. Not through project(): its own atomic block
    # would roll back to its savepoint while the reader still ran.
    # A page of the log is a page of the projector: bounded in bytes as well as events
    # (records.log_pages), so that a log of long texts replays in flat memory too.
    with closing(iter_log_pages(page_size=page_size, session=log_session)) as pages:
        return BatchProjector().project_pages(pages, on_event)


@dataclass(frozen=True)
class ReplayReport:
    events: int
    differences: list[str]

    @property
    def ok(self) -> bool:
        return not self.differences


def identify_row(row: dict) -> str:
    parts = [f"id={row.get('id', row.get('position'))}"]
    if "last_position" in row:
        parts.append(f"last event at position {row['last_position']}")
    if "history_date" in row:
        parts.append(f"history {row.get('history_type')} at {row['history_date']}")
    return ", ".join(parts)


def _fields(table) -> list:
    # History ids are surrogate keys that a replay numbers afresh; every other column counts.
    return [field for field in table._meta.concrete_fields if field.column != "history_id"]


def _log_order(fields) -> str:
    """The ORDER BY that names a table's rows of the earliest events first (where the table
    records an event's position or time), so that its list of differences starts where the
    drift does and names the same rows every time."""
    columns = {field.column for field in fields}
    for column in ("last_position", "published_position", "position", "history_date"):
        if column in columns:
            return f"{connection.ops.quote_name(column)}, "
    return ""


def _rows_that_differ(table, live: str, replayed: str, limit: int) -> list[tuple[dict, int, int]]:
    """Rows that the live copy and the replay hold a different number of times, each with both
    counts, the earliest first. The database compares, so that memory stays flat however large
    the archive, and in one grouping of both tables: two EXCEPTs of each table grouped on its
    own took two to three times as long (the grouping on every column is nearly all of a
    comparison's cost)."""
    quote = connection.ops.quote_name
    fields = _fields(table)
    listed = ", ".join(quote(field.column) for field in fields)
    sql = (
        f"SELECT {listed}, SUM(strata_in_live), SUM(strata_in_replay) FROM ("
        f"SELECT {listed}, 1 AS strata_in_live, 0 AS strata_in_replay FROM {quote(live)} "
        f"UNION ALL SELECT {listed}, 0, 1 FROM {quote(replayed)}"
        f") AS both_sides GROUP BY {listed} "
        f"HAVING SUM(strata_in_live) <> SUM(strata_in_replay) "
        f"ORDER BY {_log_order(fields)}{listed} LIMIT {limit}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        # to_python: SQLite gives a UUID as bare hex, and a difference should name the id as
        # the admin and the API show it.
        return [
            (
                {
                    field.attname: field.to_python(value)
                    for field, value in zip(fields, row[:-2], strict=True)
                },
                row[-2],
                row[-1],
            )
            for row in cursor.fetchall()
        ]


def _keep_live_copies() -> dict[str, str]:
    """A temporary copy of every read-model and history table, dropped with the transaction."""
    quote = connection.ops.quote_name
    copies = {}
    with connection.cursor() as cursor:
        for table in projection_tables():
            name = table._meta.db_table
            copies[name] = f"live_{name}"
            cursor.execute(
                f"CREATE TEMPORARY TABLE {quote(copies[name])} AS SELECT * FROM {quote(name)}"
            )
    return copies


def _compare_with_live(copies: dict[str, str], limit: int) -> list[str]:
    differences = []
    for table in projection_tables():
        name, label = table._meta.db_table, table._meta.label
        rows = _rows_that_differ(table, copies[name], name, limit)
        # A row held a different number of times is named on both sides, as a multiset
        # difference would: live has it (n times) where a replay does not, and the other way.
        for row, in_live, _ in rows:
            if in_live:
                differences.append(
                    f"{label}: live row {identify_row(row)} is not what a replay gives"
                )
        for row, _, in_replay in rows:
            if in_replay:
                differences.append(
                    f"{label}: a replay gives row {identify_row(row)} that is not live"
                )
    return differences[:limit]


def check_replay(on_event: Callable[[], None] | None = None, *, limit: int = 10) -> ReplayReport:
    """Rebuild inside a transaction that is rolled back, and compare with the live state."""
    # No append lock, unlike rebuild: this replay is rolled back, so a command that commits
    # meanwhile loses nothing (one changing a record waits for the replay's row locks).
    # The reading session first: the copies are writes, after which it could not share this
    # transaction's snapshot.
    with transaction.atomic():
        with reading_session() as log_session:
            copies = _keep_live_copies()
            events = _replay(on_event, PAGE_SIZE, log_session)
        differences = _compare_with_live(copies, limit)
        transaction.set_rollback(True)
    return ReplayReport(events=events, differences=differences)


def event_count() -> int:
    return StoredEvent.objects.count()
