"""Append to and read from the event log.

``append`` is the only code that inserts events. It serialises appends (a table lock on
PostgreSQL; SQLite's write lock, taken at BEGIN IMMEDIATE, see settings), checks the version the
caller expects, acknowledges a retried append by its event ids instead of storing it twice, and
links every event into the hash chain.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from operator import attrgetter

from django.db import IntegrityError, connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from records.db_privileges import APPEND_LOCK_FUNCTION
from records.events import DomainEvent, load_event
from records.hashing import GENESIS_HASH, hash_of_row
from records.json_codec import load_json
from records.log_pages import page_end, page_parameters, page_sql
from records.models import StoredEvent
from records.read_ahead import borrowed_query, pages_after, read_ahead


class _Expectation:
    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


ONE_MICROSECOND = timedelta(microseconds=1)

NO_STREAM = _Expectation("NO_STREAM")  # the stream must not exist yet
ANY = _Expectation("ANY")  # append whatever the stream's version

ExpectedVersion = int | _Expectation


class ConcurrencyError(Exception):
    """The stream is not at the version the caller expected: someone else wrote first."""

    def __init__(self, stream_id, expected: ExpectedVersion, actual: int):
        self.stream_id, self.expected, self.actual = stream_id, expected, actual
        wanted = "no stream" if expected is NO_STREAM else f"version {expected}"
        found = "no stream" if actual == 0 else f"version {actual}"
        super().__init__(f"stream {stream_id}: expected {wanted}, found {found}")


class IdempotencyConflict(Exception):
    """An event id was reused for a different event."""


@dataclass(frozen=True)
class AppendResult:
    events: list[StoredEvent]
    # True when every event id was already in the log: a retry, acknowledged, nothing stored.
    duplicate: bool


def lock_log() -> None:
    """Take the append lock now (it is held until the transaction ends). ``append`` takes it
    itself; a command takes it first when the rule it checks spans several streams."""
    if connection.vendor == "postgresql":
        # LOCK TABLE ... IN EXCLUSIVE MODE: it blocks other appenders until commit but lets
        # readers through, so position order equals commit order and a reader paging by
        # position never skips an event. Taken through a function that runs with the table
        # owner's rights (migration 0006): the application's role may not lock the table itself.
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {APPEND_LOCK_FUNCTION}()")


def _same_event(
    row: StoredEvent, stream_id: uuid.UUID, event: DomainEvent, request: str | None
) -> bool:
    return (
        row.stream_id == stream_id
        and row.event_type == event.type_name()
        and row.data == event.to_data()
        # The same event asked for by another request (another actor, say) is not a retry.
        # (Events stored before requests were recorded carry none.)
        and row.metadata.get("request") in (None, request)
    )


def _acknowledge_retry(
    stream_id: uuid.UUID,
    events: Sequence[DomainEvent],
    event_ids: list[uuid.UUID],
    request: str | None,
) -> AppendResult | None:
    found = {row.event_id: row for row in StoredEvent.objects.filter(event_id__in=event_ids)}
    if not found:
        return None
    rows = [found.get(event_id) for event_id in event_ids]
    if all(
        row is not None and _same_event(row, stream_id, event, request)
        for row, event in zip(rows, events, strict=True)
    ):
        return AppendResult(events=rows, duplicate=True)
    raise IdempotencyConflict(
        "event ids "
        + ", ".join(str(event_id) for event_id in found)
        + " are already recorded for other events"
    )


def _check_expected(stream_id, expected: ExpectedVersion, current: int) -> None:
    if expected is ANY:
        return
    if expected is NO_STREAM:
        if current != 0:
            raise ConcurrencyError(stream_id, expected, current)
        return
    if expected != current:
        raise ConcurrencyError(stream_id, expected, current)


def append(
    *,
    stream_id: uuid.UUID,
    expected_version: ExpectedVersion,
    events: Sequence[DomainEvent],
    actor,
    reason: str = "",
    correlation_id: str | None = None,
    event_ids: Sequence[uuid.UUID] | None = None,
    request: str | None = None,
) -> AppendResult:
    """Append ``events`` to one stream, atomically; all or nothing. ``request`` is the digest
    of the command that asked for them, kept so that a retry can be told from a reused id."""
    if not events:
        raise ValueError("append needs at least one event")
    stream_types = {event.stream_type for event in events}
    if len(stream_types) != 1:
        raise ValueError("one append writes to one stream type")
    ids = list(event_ids) if event_ids is not None else [uuid.uuid4() for _ in events]
    if len(ids) != len(events):
        raise ValueError("give one event id per event")
    stream_id = uuid.UUID(str(stream_id))
    # The replay changes the record an event's data names: it must be the stream's (a restore
    # refuses a log where it is not).
    if any(uuid.UUID(str(event.stream_id)) != stream_id for event in events):
        raise ValueError("an event goes in the stream of the record it names")
    metadata = {
        "actor_id": actor.pk,
        "actor": actor.get_username(),
        "reason": reason,
        "correlation_id": correlation_id or str(uuid.uuid4()),
    }
    if request is not None:
        metadata["request"] = request
    try:
        with transaction.atomic():
            lock_log()
            retried = _acknowledge_retry(stream_id, events, ids, request)
            if retried is not None:
                return retried
            current = (
                StoredEvent.objects.filter(stream_id=stream_id)
                .order_by("-version")
                .values_list("version", flat=True)
                .first()
            ) or 0
            _check_expected(stream_id, expected_version, current)
            last = (
                StoredEvent.objects.order_by("-position")
                .values("position", "hash", "recorded_at")
                .first()
            )
            position = last["position"] if last else 0
            previous_hash = last["hash"] if last else GENESIS_HASH
            # Taken after the lock, and strictly increasing along positions (a microsecond
            # apart at least), so that a position names one moment and "as of" a position is
            # exact even inside a batch.
            recorded_at = timezone.now()
            if last and recorded_at <= last["recorded_at"]:
                recorded_at = last["recorded_at"] + ONE_MICROSECOND
            stored = []
            for offset, (event, event_id) in enumerate(zip(events, ids, strict=True), start=1):
                row = StoredEvent(
                    position=position + offset,
                    event_id=event_id,
                    stream_id=stream_id,
                    stream_type=event.stream_type,
                    version=current + offset,
                    event_type=event.type_name(),
                    schema_version=event.schema_version,
                    data=event.to_data(),
                    # A fresh nonce for each event: the public feed shows digests of events
                    # it cannot show, and without one, an event whose content an outsider can
                    # guess (a short review comment, made alongside a public approval whose
                    # metadata is shown) could be confirmed by hashing the guess.
                    metadata={**metadata, "nonce": secrets.token_hex(16)},
                    recorded_at=recorded_at + (offset - 1) * ONE_MICROSECOND,
                    previous_hash=previous_hash,
                )
                row.hash = hash_of_row(row, previous_hash)
                row.save(force_insert=True)
                previous_hash = row.hash
                stored.append(row)
            return AppendResult(events=stored, duplicate=False)
    except IntegrityError as error:
        # Only reachable if the lock were bypassed: the unique constraints are the last guard.
        raise ConcurrencyError(stream_id, expected_version, -1) from error


def stream_version(stream_id) -> int:
    return (
        StoredEvent.objects.filter(stream_id=stream_id)
        .order_by("-version")
        .values_list("version", flat=True)
        .first()
    ) or 0


def read_stream(stream_id) -> list[StoredEvent]:
    return list(StoredEvent.objects.filter(stream_id=stream_id).order_by("version"))


def read_after(position: int = 0, *, limit: int = 1000) -> list[StoredEvent]:
    """One page of the log: events after ``position``, in order. Positions may have gaps."""
    return list(StoredEvent.objects.filter(position__gt=position).order_by("position")[:limit])


def iter_log(after: int = 0, *, page_size: int = 2000) -> Iterator[StoredEvent]:
    """Every event after ``after``, paged by position so memory stays flat on a large log."""
    while True:
        page = read_after(after, limit=page_size)
        if not page:
            return
        yield from page
        after = page[-1].position


# The columns a projection reads, in EventRow's order.
_ROW_FIELDS = (
    "position",
    "version",
    "event_type",
    "schema_version",
    "data",
    "metadata",
    "recorded_at",
)


class EventRow:
    """A stored event as a replay reads it: the fields the projector uses, with StoredEvent's
    ``actor_id``, ``reason`` and ``domain_event()``, but no model instance (building one per
    event costs more than projecting it)."""

    __slots__ = (*_ROW_FIELDS, "actor_id", "reason")

    def __init__(self, position, version, event_type, schema_version, data, metadata, recorded_at):
        self.position, self.version, self.recorded_at = position, version, recorded_at
        self.event_type, self.schema_version, self.data = event_type, schema_version, data
        self.metadata = metadata
        self.actor_id = metadata.get("actor_id")
        self.reason = metadata.get("reason", "")

    def domain_event(self) -> DomainEvent:
        return load_event(self.event_type, self.schema_version, self.data)


def _row_page(after: int, limit: int) -> list[EventRow]:
    end = page_end(after, limit)
    if end is None:
        return []
    rows = StoredEvent.objects.filter(position__gt=after, position__lte=end).order_by("position")
    return [EventRow(*row) for row in rows.values_list(*_ROW_FIELDS)]


def _row_pages_postgresql(
    after: int, limit: int, session: BaseDatabaseWrapper | None
) -> Iterator[list[EventRow]]:
    # Straight from psycopg: values_list would pass every value through its field's converter,
    # a third of the read, where only the JSON columns need one (Django has psycopg give jsonb
    # as text, for JSONField to decode). On the caller's connection or ``session``, for the
    # read-ahead thread.
    quote = connection.ops.quote_name
    fetch = borrowed_query(
        page_sql([quote(StoredEvent._meta.get_field(name).column) for name in _ROW_FIELDS]),
        session,
    )

    def read_page(after: int) -> list[EventRow]:
        return [
            EventRow(position, version, kind, schema, load_json(data), load_json(meta), at)
            for position, version, kind, schema, data, meta, at in fetch(
                page_parameters(after, limit)
            )
        ]

    return pages_after(read_page, after, attrgetter("position"))


def iter_log_pages(
    after: int = 0, *, page_size: int = 5000, session: BaseDatabaseWrapper | None = None
) -> Iterator[list[EventRow]]:
    """Every event after ``after`` as EventRows, in pages of at most ``page_size`` events and
    about ``records.log_pages.PAGE_BYTES`` of data. On PostgreSQL the next pages are read in a
    thread while this one is used (records.read_ahead), on the caller's connection or on
    ``session`` (records.reading_session): close the iterator when leaving it early, before
    using the connection again."""
    if connection.vendor == "postgresql":
        pages = read_ahead(_row_pages_postgresql(after, page_size, session), name="log-read-ahead")
    else:
        pages = pages_after(partial(_row_page, limit=page_size), after, attrgetter("position"))
    with closing(pages):
        yield from pages
