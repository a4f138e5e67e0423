"""Back up the event log as JSON Lines: a header, one line per event, a trailer.

The format (docs/backup-restore.md), one JSON object a line, UTF-8, each line ending in "\\n":

    {"format": "strata-event-log", "format_version": 1, "events": N, "last_position": P,
     "last_hash": H, "exported_at": T}                       the header, line 1
    {"position": 1, "event_id": ..., ..., "hash": ...}        one line per event, by position
    {"end": "strata-event-log", "events": N, "last_position": P, "last_hash": H,
     "sha256": D}                                             the trailer, the last line

The header says what to expect (and gives the import its progress total); the trailer says the
export finished, and ``sha256`` is the digest of every byte before it (header and event lines),
which covers what the hash chain does not (an event's id). A file cut short, at a line's end or
in its middle, has no trailer and fewer events than the header counts.

The export is the prefix of the log up to the last position committed when it starts: appends
are serialised and positions follow commit order (DESIGN invariant 4), so no event can commit
later at a position below it, and every event of the prefix is there to read. It reads the log a
page at a time by position, so memory stays flat however long the log.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from django.utils import timezone

from records.hashing import GENESIS_HASH, canonical_time
from records.log_pages import page_end
from records.models import StoredEvent

FORMAT = "strata-event-log"
FORMAT_VERSION = 1
# Every stored column, in the order of each event line: what an import needs to store the event
# as it was and check its hash.
EVENT_FIELDS = (
    "position",
    "event_id",
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
HEADER_FIELDS = ("format", "format_version", "events", "last_position", "last_hash", "exported_at")
TRAILER_FIELDS = ("end", "events", "last_position", "last_hash", "sha256")
PAGE_SIZE = 5000


def encode_line(record: dict) -> bytes:
    """One line of the file: compact JSON, non-ASCII kept, and a newline."""
    return (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def utc_time(moment: datetime) -> str:
    """A time as the hash covers it: ISO 8601 in UTC, to the microsecond."""
    return canonical_time(moment.astimezone(UTC))


@dataclass(frozen=True)
class LogHead:
    """What an export of the log as it stands now holds."""

    events: int
    last_position: int | None
    last_hash: str


def log_head() -> LogHead:
    last = StoredEvent.objects.order_by("-position").values("position", "hash").first()
    if last is None:
        return LogHead(events=0, last_position=None, last_hash=GENESIS_HASH)
    count = StoredEvent.objects.filter(position__lte=last["position"]).count()
    return LogHead(events=count, last_position=last["position"], last_hash=last["hash"])


def _event_rows(last_position: int, page_size: int) -> Iterator[tuple]:
    """Every event up to ``last_position`` as a tuple of EVENT_FIELDS, a page at a time."""
    after = 0
    while after < last_position:
        # Each page ends where records.log_pages says, never at last_position: that bound lets
        # PostgreSQL, misjudging the range without fresh statistics, read the whole rest of the
        # log and sort it for each page. Events appended since the head was taken are dropped
        # here instead.
        end = page_end(after, page_size)
        if end is None:
            return
        page = list(
            StoredEvent.objects.filter(position__gt=after, position__lte=end)
            .order_by("position")
            .values_list(*EVENT_FIELDS)
        )
        if not page:
            return
        for row in page:
            if row[0] > last_position:
                return
            yield row
        after = page[-1][0]


def event_record(row: tuple) -> dict:
    """An event line's object, from a tuple of EVENT_FIELDS as the database gives them."""
    (position, event_id, stream_id, stream_type, version, event_type, schema_version) = row[:7]
    data, metadata, recorded_at, previous_hash, event_hash = row[7:]
    return {
        "position": position,
        "event_id": str(event_id),
        "stream_id": str(stream_id),
        "stream_type": stream_type,
        "version": version,
        "event_type": event_type,
        "schema_version": schema_version,
        "data": data,
        "metadata": metadata,
        "recorded_at": utc_time(recorded_at),
        "previous_hash": previous_hash,
        "hash": event_hash,
    }


class ExportFailed(Exception):
    """What was read does not make a whole log: the export must not be kept as a backup."""


@dataclass(frozen=True)
class ExportSummary:
    head: LogHead
    sha256: str
    bytes_written: int


def export_log(
    write: Callable[[bytes], object],
    *,
    head: LogHead | None = None,
    on_event: Callable[[], None] | None = None,
    page_size: int = PAGE_SIZE,
) -> ExportSummary:
    """Write the log up to ``head`` (default: the log as it stands) through ``write``, one
    line at a time: header, events in position order, trailer."""
    head = head or log_head()
    digest = hashlib.sha256()
    written = 0

    def emit(line: bytes) -> None:
        nonlocal written
        digest.update(line)
        written += len(line)
        write(line)

    emit(
        encode_line(
            {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "events": head.events,
                "last_position": head.last_position,
                "last_hash": head.last_hash,
                "exported_at": utc_time(timezone.now()),
            }
        )
    )
    # The links are checked as they go by (the full check is verify_archive's): a backup of a
    # log with a gap or a broken link would only be found out when it is restored.
    events, previous = 0, GENESIS_HASH
    if head.last_position is not None:
        for row in _event_rows(head.last_position, page_size):
            position, previous_hash, event_hash = row[0], row[-2], row[-1]
            if previous_hash != previous:
                raise ExportFailed(
                    f"position {position}: previous_hash does not match the event before; "
                    "run verify_archive"
                )
            emit(encode_line(event_record(row)))
            events, previous = events + 1, event_hash
            if on_event is not None:
                on_event()
    if events != head.events or (events and previous != head.last_hash):
        raise ExportFailed(
            f"wrote {events} events ending at hash {previous}, but the log held {head.events} "
            f"ending at {head.last_hash} when the export began; run verify_archive"
        )
    trailer = encode_line(
        {
            "end": FORMAT,
            "events": head.events,
            "last_position": head.last_position,
            "last_hash": head.last_hash,
            "sha256": digest.hexdigest(),
        }
    )
    write(trailer)
    return ExportSummary(head=head, sha256=digest.hexdigest(), bytes_written=written + len(trailer))
