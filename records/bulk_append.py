"""Append many events at once: one lock, one read of the log's tail, the rows streamed in.

``records.event_store.append`` writes one stream per call and one row per statement; a bulk
import registers thousands of records, each a new stream. ``append_new_streams`` keeps every
rule of ``append`` that applies to new streams: it takes the append lock (so positions follow
commit order), refuses a stream that already exists, stamps each event's metadata (actor,
reason, correlation id, request digest, a nonce of its own), gives each event a ``recorded_at``
taken after the lock and a microsecond after the one before, and links every event into the
hash chain (``records.hashing.hash_of_row``). All or nothing: it runs in one transaction (the
caller's, if there is one).

Rows go in through ``records.bulk_write``: one streamed ``COPY`` on PostgreSQL, ``bulk_create``
in batches elsewhere. Either way they are the same rows, and ``verify_chain`` checks them.
"""

from __future__ import annotations

import secrets
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from records.bulk_write import insert_rows
from records.event_store import (
    NO_STREAM,
    ONE_MICROSECOND,
    ConcurrencyError,
    IdempotencyConflict,
    lock_log,
)
from records.events import DomainEvent
from records.hashing import GENESIS_HASH, hash_of_row
from records.models import StoredEvent

_FIELD_NAMES = [field.attname for field in StoredEvent._meta.concrete_fields]


@dataclass(frozen=True)
class NewEvent:
    """One event to append, with what its metadata says about it."""

    event: DomainEvent
    event_id: uuid.UUID
    reason: str = ""
    request: str | None = None  # digest of the request that asked for it


def _log_tail():
    """Position, hash and time of the last event, read under the lock."""
    return (
        StoredEvent.objects.order_by("-position").values("position", "hash", "recorded_at").first()
    )


def chained_rows(
    events: Sequence[NewEvent], *, actor, correlation_id: str, tail: dict | None
) -> Iterator[StoredEvent]:
    """The stored rows, positioned after ``tail`` and hash-chained, as ``append`` makes them,
    one at a time (so that the database inserts one while the next is hashed). Events of one
    stream count its versions up from 1, in the order given."""
    position = tail["position"] if tail else 0
    previous_hash = tail["hash"] if tail else GENESIS_HASH
    recorded_at = timezone.now()
    if tail and recorded_at <= tail["recorded_at"]:
        recorded_at = tail["recorded_at"] + ONE_MICROSECOND
    common = {"actor_id": actor.pk, "actor": actor.get_username(), "correlation_id": correlation_id}
    versions: Counter[uuid.UUID] = Counter()
    # A fresh random nonce for each event, as append gives (see there why); drawn at once.
    nonces = secrets.token_bytes(16 * len(events)).hex()
    for offset, item in enumerate(events):
        event = item.event
        stream_id = uuid.UUID(str(event.stream_id))
        versions[stream_id] += 1
        nonce = nonces[32 * offset : 32 * offset + 32]
        metadata = {**common, "reason": item.reason, "nonce": nonce}
        if item.request is not None:
            metadata["request"] = item.request
        fields = {
            "position": position + offset + 1,
            "event_id": item.event_id,
            "stream_id": stream_id,
            "stream_type": event.stream_type,
            "version": versions[stream_id],
            "event_type": event.type_name(),
            "schema_version": event.schema_version,
            "data": event.to_data(),
            "metadata": metadata,
            "recorded_at": recorded_at + offset * ONE_MICROSECOND,
            "previous_hash": previous_hash,
            "hash": "",
        }
        # Positional arguments: Django's keyword path costs several times more per row.
        row = StoredEvent(*(fields[name] for name in _FIELD_NAMES))
        row.hash = hash_of_row(row, previous_hash)
        previous_hash = row.hash
        yield row


def insert_events(
    rows: Iterable[StoredEvent], tick: Callable[[], None] | None = None
) -> list[StoredEvent]:
    """Stream the rows into the log (records.bulk_write: COPY on PostgreSQL), so that the
    server inserts while the next rows are hashed. Returns them, marked as saved."""
    stored = []

    def values():
        for row in rows:
            row._state.adding, row._state.db = False, connection.alias
            stored.append(row)
            yield {name: getattr(row, name) for name in _FIELD_NAMES}
            if tick is not None:
                tick()

    insert_rows(StoredEvent, values())
    return stored


def append_new_streams(
    events: Sequence[NewEvent],
    *,
    actor,
    correlation_id: str | None = None,
    on_event: Callable[[], None] | None = None,
) -> list[StoredEvent]:
    """Append events that open new streams (several events may share one), atomically and in
    order. A stream that already exists raises ``ConcurrencyError`` naming it, an event id
    already used ``IdempotencyConflict``, and nothing is stored: the log's unique constraints
    refuse them (the import checks first, to name the line). Returns the stored rows, in
    position order."""
    if not events:
        return []
    correlation_id = correlation_id or str(uuid.uuid4())
    with transaction.atomic():
        lock_log()
        rows = chained_rows(events, actor=actor, correlation_id=correlation_id, tail=_log_tail())
        try:
            with transaction.atomic():
                return insert_events(rows, on_event)
        except IntegrityError as error:
            raise _refusal(events) from error


def _refusal(events: Sequence[NewEvent]) -> Exception:
    """Which event the log's unique constraints refused: a stream that exists already (its
    version 1 is taken), or else an event id in use."""
    streams = sorted({uuid.UUID(str(item.event.stream_id)) for item in events})
    for start in range(0, len(streams), 500):  # a few hundred parameters a query
        found = (
            StoredEvent.objects.filter(stream_id__in=streams[start : start + 500])
            .order_by("stream_id", "-version")
            .values_list("stream_id", "version")
            .first()
        )
        if found is not None:
            return ConcurrencyError(found[0], NO_STREAM, found[1])
    return IdempotencyConflict("an event id of this import is already recorded for another event")
