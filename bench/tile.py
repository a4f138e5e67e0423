"""Grow a command-built archive to a large scale by appending copies of its log with fresh ids.

The commands take about 40 events a second (docs/performance.md says why), so an archive of
100k or 1M events cannot be built through them in a benchmark's time. Above the base scale the
archive is *tiled*: the base log, built through the commands, is read back and appended again
and again, each copy with its own ids for every source, subject and claim (derived from the copy
number and the original id, so the same base gives the same archive), its own event ids, nonces
and times, and the same actors, reasons and review steps. Properties are the archive's
vocabulary and are not copied. The copies go through the hash chain like any event; the read
models are then projected from the log by ``rebuild`` (in the bench, that is the first run of
the rebuild figure's warm-up).

So a tiled archive has the shape of the base (claims per fact, events per claim, texts, names,
scripts) and its size, but its sources' and subjects' texts repeat once per copy.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from records.bulk_append import insert_events
from records.event_store import ONE_MICROSECOND, iter_log, lock_log
from records.hashing import hash_of_row
from records.models import StoredEvent

COPY_NAMESPACE = uuid.UUID("5b0c6a55-9e0c-4f57-8a3a-7d1f3f9b1c2e")
BATCH = 5000


def _copied(copy: int, record_id: str) -> str:
    return str(uuid.uuid5(COPY_NAMESPACE, f"{copy}:{record_id}"))


def _remap(value, ids: dict[str, str]):
    """Every id of a copied record inside an event's data, at any depth, replaced."""
    if isinstance(value, str):
        return ids.get(value, value)
    if isinstance(value, dict):
        return {key: _remap(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [_remap(item, ids) for item in value]
    return value


def tile(target: int, on_progress: Callable[[int], None] | None = None) -> int:
    """Append copies of the log as it stands until it holds ``target`` events. The last copy
    stops there: a prefix of a valid log is a valid log. Returns the events appended."""
    with transaction.atomic():
        # The tail and the time are read under the append lock, as the event store reads them.
        lock_log()
        base = [stored for stored in iter_log() if stored.stream_type != "property"]
        last = StoredEvent.objects.order_by("-position").first()
        if last is None or not base:
            raise ValueError("tiling needs a base archive in the log")
        position, previous_hash = last.position, last.hash
        moment = max(timezone.now(), last.recorded_at)
        streams = {str(stored.stream_id) for stored in base}
        appended, copy = 0, 0
        while position < target:
            copy += 1
            ids = {stream: _copied(copy, stream) for stream in streams}
            pending: list[StoredEvent] = []
            for stored in base:
                position += 1
                moment += ONE_MICROSECOND
                row = StoredEvent(
                    position=position,
                    event_id=uuid.uuid5(COPY_NAMESPACE, f"{copy}:{stored.event_id}"),
                    stream_id=ids[str(stored.stream_id)],
                    stream_type=stored.stream_type,
                    version=stored.version,
                    event_type=stored.event_type,
                    schema_version=stored.schema_version,
                    data=_remap(stored.data, ids),
                    # The request digest named the original ids; the copy has a nonce of its own.
                    metadata={
                        **{k: v for k, v in stored.metadata.items() if k != "request"},
                        "nonce": secrets.token_hex(16),
                    },
                    recorded_at=moment,
                    previous_hash=previous_hash,
                )
                row.hash = previous_hash = hash_of_row(row, previous_hash)
                pending.append(row)
                if len(pending) == BATCH:
                    insert_events(pending)
                    appended += len(pending)
                    pending = []
                    if on_progress is not None:
                        on_progress(position)
                if position >= target:
                    break
            insert_events(pending)
            appended += len(pending)
            if on_progress is not None:
                on_progress(position)
    return appended
