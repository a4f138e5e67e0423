"""Restore the event log from an export (records.event_export) into an empty database.

The file is read once, line by line, and never held whole: each event is checked as it is read
(its fields, then its link in the hash chain, recomputed with records.hashing exactly as
``verify_chain`` does) and streamed into the log (records.bulk_write: COPY on PostgreSQL). The
trailer is checked at the end of the file: the events it counts, the last hash, the digest of
every line before it. Everything happens in one transaction, so a refused file stores nothing:
not an event, not a projection row. Then the stored chain is walked again as ``verify_archive``
walks it (what the database gives back must verify too), and the read models are rebuilt from
the log by the paged replay (records.replay.rebuild).

Events keep their positions, ids, times and hashes. Positions are not drawn from a sequence:
``append`` takes the last stored position plus one under its lock, so appends after a restore
continue after the imported log, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.db import DatabaseError, IntegrityError, transaction

from records.batch_projection import ProjectionFailed
from records.bulk_write import insert_values
from records.chain_check import check_log_chain
from records.event_export import (
    EVENT_FIELDS,
    FORMAT,
    FORMAT_VERSION,
    HEADER_FIELDS,
    TRAILER_FIELDS,
)
from records.event_store import lock_log
from records.events import EVENT_TYPES, OPENING_EVENTS, data_type_problem, load_event
from records.hashing import GENESIS_HASH, hash_of_row
from records.models import StoredEvent
from records.replay import rebuild

# A progress display, as records.bulk_import takes one: called with a description and a total,
# gives a context manager yielding a function to call once per item.
Progress = Callable[[str, int], AbstractContextManager[Callable[[], None]]]

_HASH = re.compile(r"[0-9a-f]{64}")
_MAX_LENGTH = {
    name: StoredEvent._meta.get_field(name).max_length for name in ("stream_type", "event_type")
}
_MAX_SCHEMA_VERSION = 32767  # PositiveSmallIntegerField


def _no_progress(description: str, total: int):
    return nullcontext(lambda: None)


class RestoreRefused(Exception):
    """The file cannot be restored, or the database cannot take it; nothing was stored."""

    def __init__(self, reason: str, *, line: int | None = None, position: int | None = None):
        self.reason, self.line, self.position = reason, line, position
        where = []
        if line is not None:
            where.append(f"line {line}")
        if position is not None:
            where.append(f"position {position}")
        if len(where) == 2:
            prefix = f"{where[0]} ({where[1]}): "
        else:
            prefix = f"{where[0]}: " if where else ""
        super().__init__(prefix + reason)


# --- reading and checking the file ------------------------------------------------------------


class _Event:
    """An event line, parsed: what ``hash_of_row`` reads, and the row to insert."""

    __slots__ = EVENT_FIELDS

    def values(self) -> tuple:
        return tuple(getattr(self, name) for name in EVENT_FIELDS)


def _reject_constant(name: str):
    # json.loads takes NaN and Infinity, which are not JSON and which no database JSON column
    # keeps: refuse them as the rest of the line's syntax.
    raise ValueError(f"{name} is not a JSON value")


def _parse_json(raw: bytes, number: int, last: bool) -> dict:
    complete = raw.endswith(b"\n")
    if complete and not raw.strip():
        raise RestoreRefused("an empty line, where a JSON object was expected", line=number)
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as error:
        if not complete and last:
            raise RestoreRefused(
                "the last line is cut short (it does not end in a newline and is not complete "
                "JSON): the file was truncated",
                line=number,
            ) from error
        if isinstance(error, json.JSONDecodeError):
            detail = f"{error.msg} at character {error.pos + 1}"
        elif isinstance(error, UnicodeDecodeError):
            detail = f"not UTF-8 at byte {error.start + 1}"
        else:
            detail = str(error)
        raise RestoreRefused(f"not a JSON line ({detail})", line=number) from error
    if not isinstance(value, dict):
        raise RestoreRefused(f"not a JSON object but {type(value).__name__}", line=number)
    return value


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_fields(record: dict, expected: Iterable[str], number: int, position=None) -> None:
    expected = list(expected)
    missing = [name for name in expected if name not in record]
    if missing:
        raise RestoreRefused(
            f"missing field{'s' if len(missing) > 1 else ''} {', '.join(missing)}",
            line=number,
            position=position,
        )
    extra = sorted(set(record) - set(expected))
    if extra:
        raise RestoreRefused(
            f"unexpected field{'s' if len(extra) > 1 else ''} {', '.join(extra)}",
            line=number,
            position=position,
        )


@dataclass(frozen=True)
class Header:
    events: int
    last_position: int | None
    last_hash: str
    exported_at: str


def _header(record: dict) -> Header:
    if record.get("format") != FORMAT:
        raise RestoreRefused(
            f"not a Strata event log export: the first line must be its header, with "
            f'"format": "{FORMAT}"',
            line=1,
        )
    if record.get("format_version") != FORMAT_VERSION:
        raise RestoreRefused(
            f"format version {record.get('format_version')!r} is not one this Strata reads "
            f"({FORMAT_VERSION})",
            line=1,
        )
    _check_fields(record, HEADER_FIELDS, 1)
    events, last_position, last_hash = (
        record["events"],
        record["last_position"],
        record["last_hash"],
    )
    if not _is_int(events) or events < 0:
        raise RestoreRefused("header: events must be a whole number, 0 or more", line=1)
    if not (last_position is None if events == 0 else _is_int(last_position)):
        raise RestoreRefused(
            "header: last_position must be a whole number (null for an empty log)", line=1
        )
    if not isinstance(last_hash, str) or not _HASH.fullmatch(last_hash):
        raise RestoreRefused("header: last_hash must be 64 lowercase hex digits", line=1)
    return Header(events, last_position, last_hash, str(record["exported_at"]))


def _uuid(record: dict, name: str, number: int, position: int) -> uuid.UUID:
    value = record[name]
    try:
        if not isinstance(value, str):
            raise ValueError
        return uuid.UUID(value)
    except ValueError:
        raise RestoreRefused(
            f"{name} is not a UUID: {value!r}", line=number, position=position
        ) from None


def _event(record: dict, number: int) -> _Event:
    """An event line's fields, each of its stored type, or a refusal naming the field."""
    position = record.get("position")
    if not _is_int(position) or position < 1:
        if "position" not in record:
            raise RestoreRefused("missing field position", line=number)
        raise RestoreRefused(
            f"position must be a whole number above 0, not {position!r}", line=number
        )
    _check_fields(record, EVENT_FIELDS, number, position)

    def refuse(reason: str):
        return RestoreRefused(reason, line=number, position=position)

    event = _Event()
    event.position = position
    event.event_id = _uuid(record, "event_id", number, position)
    event.stream_id = _uuid(record, "stream_id", number, position)
    for name in ("stream_type", "event_type"):
        value = record[name]
        if not isinstance(value, str) or not value or len(value) > _MAX_LENGTH[name]:
            raise refuse(f"{name} must be text of 1 to {_MAX_LENGTH[name]} characters")
        setattr(event, name, value)
    for name, top in (("version", 2**31 - 1), ("schema_version", _MAX_SCHEMA_VERSION)):
        value = record[name]
        if not _is_int(value) or not 1 <= value <= top:
            raise refuse(f"{name} must be a whole number from 1 to {top}, not {value!r}")
        setattr(event, name, value)
    for name in ("data", "metadata"):
        if not isinstance(record[name], dict):
            raise refuse(f"{name} must be a JSON object")
        setattr(event, name, record[name])
    try:
        recorded_at = datetime.fromisoformat(record["recorded_at"])
    except (TypeError, ValueError):
        raise refuse(f"recorded_at is not an ISO 8601 time: {record['recorded_at']!r}") from None
    if recorded_at.utcoffset() is None:
        raise refuse("recorded_at has no UTC offset")
    # The database keeps the instant and gives it back in UTC: hash it as the verifier will.
    event.recorded_at = recorded_at.astimezone(UTC)
    for name in ("previous_hash", "hash"):
        value = record[name]
        if not isinstance(value, str) or not _HASH.fullmatch(value):
            raise refuse(f"{name} must be 64 lowercase hex digits")
        setattr(event, name, value)
    known = EVENT_TYPES.get(event.event_type)
    if known is None:
        raise refuse(f"no event type named {event.event_type!r} in this Strata")
    if event.schema_version > known.schema_version:
        raise refuse(
            f"{event.event_type} schema version {event.schema_version} is newer than this "
            f"Strata reads ({known.schema_version}): restore with the Strata that exported it"
        )
    try:
        # What the replay will do with it: an event whose data its type cannot take is refused
        # here, at its own line, rather than half-way through the rebuild.
        loaded = load_event(event.event_type, event.schema_version, dict(event.data))
    except (TypeError, ValueError, KeyError) as error:
        raise refuse(f"{event.event_type}'s data does not fit its type: {error}") from None
    problem = data_type_problem(type(loaded), vars(loaded))
    if problem is not None:
        raise refuse(f"{event.event_type}'s data does not fit its type: {problem}")
    # The replay changes the record the data names: it must be the stream's, as append files it.
    if loaded.stream_type != event.stream_type:
        raise refuse(
            f"stream_type must be {loaded.stream_type!r} for {event.event_type}, "
            f"not {event.stream_type!r}"
        )
    if uuid.UUID(loaded.stream_id) != event.stream_id:  # the text of a UUID: checked above
        raise refuse(
            f"stream_id must be the {type(loaded).stream_field} of its data "
            f"({loaded.stream_id}), not {event.stream_id}"
        )
    if isinstance(loaded, OPENING_EVENTS) and event.version != 1:
        # With (stream, version) unique, a record is then registered once, as the replay expects.
        raise refuse(
            f"version must be 1 for {event.event_type}, which opens its record's stream, "
            f"not {event.version}"
        )
    return event


class ExportReader:
    """An export, read a line at a time. The header is read at once (``header``); ``events()``
    yields each event once its fields and its link in the chain hold, and checks the trailer
    when the file ends. Any problem raises ``RestoreRefused`` naming the line."""

    def __init__(self, lines: Iterable[bytes]):
        self._lines = iter(lines)
        self._ahead = next(self._lines, None)  # one line ahead: is the line read the last?
        self._digest = hashlib.sha256()
        self.line = 0  # the number of the last line read
        self.actor_ids: set = set()  # the accounts the events name (a handful: not per event)
        # Whether the events' positions run 1, 2, 3, ... as a log's do: then position P is on
        # line P + 1 (after the header), and a later refusal can name the line without keeping
        # a line number per event.
        self._gapless = True
        first = self._next()
        if first is None:
            raise RestoreRefused("the file is empty: an export starts with its header line")
        raw, last = first
        self._digest.update(raw)
        self.header = _header(_parse_json(raw, 1, last))

    def _next(self) -> tuple[bytes, bool] | None:
        """The next line and whether it is the last."""
        raw = self._ahead
        if raw is None:
            return None
        self._ahead = next(self._lines, None)
        self.line += 1
        return raw, self._ahead is None

    def events(self, on_event: Callable[[], None] | None = None) -> Iterator[_Event]:
        previous_hash, previous_position, count = GENESIS_HASH, 0, 0
        while True:
            item = self._next()
            if item is None:
                where = f"position {previous_position}" if count else "the header"
                raise RestoreRefused(
                    f"the file ends after {where} without its trailer line: it was cut short "
                    f"({count} of the {self.header.events} events the header counts are here)",
                    line=self.line,
                )
            raw, last = item
            record = _parse_json(raw, self.line, last)
            if "end" in record and "position" not in record:
                self._trailer(record, count, previous_position, previous_hash)
                return
            self._digest.update(raw)
            event = _event(record, self.line)
            # The three checks of records.hashing.verify_chain, in its order, with its words.
            if event.position <= previous_position:
                raise RestoreRefused(
                    f"position out of order (after position {previous_position})",
                    line=self.line,
                    position=event.position,
                )
            if event.previous_hash != previous_hash:
                raise RestoreRefused(
                    "previous_hash does not match the event before",
                    line=self.line,
                    position=event.position,
                )
            if hash_of_row(event, previous_hash) != event.hash:
                raise RestoreRefused(
                    "hash does not match the event's contents",
                    line=self.line,
                    position=event.position,
                )
            self._gapless = self._gapless and event.position == previous_position + 1
            previous_hash, previous_position = event.hash, event.position
            count += 1
            if count > self.header.events:
                raise RestoreRefused(
                    f"more events than the {self.header.events} the header counts",
                    line=self.line,
                    position=event.position,
                )
            if len(self.actor_ids) < 10_000:  # a bound, whatever the file says
                self.actor_ids.add(event.metadata.get("actor_id"))
            yield event
            if on_event is not None:
                on_event()

    def line_of(self, position: int) -> int | None:
        """The line of the event at ``position``, once every event is read, if it can tell."""
        return position + 1 if self._gapless else None

    def _trailer(self, record: dict, count: int, last_position: int, last_hash: str) -> None:
        number, header = self.line, self.header
        _check_fields(record, TRAILER_FIELDS, number)
        if record["end"] != FORMAT:
            raise RestoreRefused(f'the trailer\'s "end" must be "{FORMAT}"', line=number)
        if (record["events"], record["last_position"], record["last_hash"]) != (
            header.events,
            header.last_position,
            header.last_hash,
        ):
            raise RestoreRefused(
                "the trailer does not match the header (events, last_position, last_hash)",
                line=number,
            )
        if count != header.events:
            raise RestoreRefused(
                f"the file holds {count} events, the header and trailer count {header.events}: "
                f"lines are missing",
                line=number,
            )
        if (last_position or None, last_hash) != (header.last_position, header.last_hash):
            raise RestoreRefused(
                f"the last event (position {last_position}, hash {last_hash}) is not the one "
                f"the header names (position {header.last_position}, hash {header.last_hash})",
                line=number,
            )
        if record["sha256"] != self._digest.hexdigest():
            raise RestoreRefused(
                "the digest of the lines before the trailer is not the trailer's sha256: the "
                "file was changed after the export (in a field the hash chain does not cover, "
                "such as an event_id, or in the header)",
                line=number,
            )
        if self._next() is not None:
            raise RestoreRefused("a line after the trailer", line=self.line)


# --- restoring ----------------------------------------------------------------------------------


@dataclass
class RestoreReport:
    header: Header
    events: int = 0
    replayed: int = 0
    # Account ids that events name and this database lacks: their history rows have no user.
    missing_accounts: list = field(default_factory=list)


def check_export(
    lines: Iterable[bytes],
    *,
    progress: Progress = _no_progress,
    expected_last_hash: str | None = None,
) -> RestoreReport:
    """Read and check a whole export without touching the database."""
    reader = ExportReader(lines)
    _check_expected_head(reader.header, expected_last_hash)
    report = RestoreReport(header=reader.header)
    with progress("Checking events", reader.header.events) as tick:
        for _ in reader.events(tick):
            report.events += 1
    return report


def _check_expected_head(header: Header, expected_last_hash: str | None) -> None:
    if expected_last_hash is not None and header.last_hash != expected_last_hash:
        raise RestoreRefused(
            f"the export ends at hash {header.last_hash}, not at {expected_last_hash} as "
            f"expected: it is not the backup you meant, or it was forged",
            line=1,
        )


def _refuse_a_log(header: Header) -> None:
    last = StoredEvent.objects.order_by("-position").values_list("position", flat=True).first()
    if last is not None:
        count = StoredEvent.objects.count()
        raise RestoreRefused(
            f"the database already holds {count} event{'s' if count != 1 else ''} (last "
            f"position {last}): import_events restores into an empty database only "
            "(migrated, no events)"
        )


def _database_refusal(error: Exception, reader: ExportReader, reason: str) -> RestoreRefused:
    """The refusal, naming the event's line where the database says which row it was.
    PostgreSQL's COPY names its row: the Nth event, on line N + 1 after the header. Elsewhere
    rows go in batches, and the refused one is at most the line the reader has reached."""
    context = getattr(getattr(error.__cause__, "diag", None), "context", None) or ""
    copied = re.search(r"COPY \S+, line (\d+)", context)
    if copied:
        return RestoreRefused(
            f"{reason.format(which='this event')} ({error})", line=int(copied.group(1)) + 1
        )
    which = f"an event on line {reader.line} or before"
    return RestoreRefused(f"{reason.format(which=which)} ({error})")


def restore(
    lines: Iterable[bytes],
    *,
    progress: Progress = _no_progress,
    expected_last_hash: str | None = None,
) -> RestoreReport:
    """Check and store every event of an export in an empty log, verify what was stored, and
    rebuild the read models; all in one transaction. Raises ``RestoreRefused``."""
    reader = ExportReader(lines)
    header = reader.header
    _check_expected_head(header, expected_last_hash)
    report = RestoreReport(header=header)
    with transaction.atomic():
        lock_log()
        _refuse_a_log(header)
        with progress("Restoring events", header.events) as tick:
            rows = (event.values() for event in reader.events(tick))
            try:
                with transaction.atomic():
                    insert_values(StoredEvent, EVENT_FIELDS, rows)
            except IntegrityError as error:
                # The chain binds everything but the event id: a repeated one is a forgery.
                raise _database_refusal(
                    error,
                    reader,
                    "the log's unique constraints refused {which}: an event_id (or a stream's "
                    "version, or a hash) appears twice",
                ) from error
            except DatabaseError as error:
                # E.g. a NUL character in a text, which SQLite keeps and PostgreSQL refuses.
                raise _database_refusal(error, reader, "the database refused {which}") from error
        report.events = header.events  # the trailer checked that the file holds them all
        with progress("Verifying the stored chain", header.events) as tick:
            chain = check_log_chain(on_row=tick)
        if not chain.ok:
            raise RestoreRefused(
                f"the stored event does not verify as read back from the database: {chain.problem}",
                position=chain.first_bad_position,
            )
        with progress("Replaying", header.events) as tick:
            try:
                report.replayed = rebuild(on_event=tick)
            except ProjectionFailed as failed:
                # Every event fits its type (checked as it was read), yet the replay cannot
                # project it: a forged file whose events contradict each other, or a value the
                # read models' columns cannot hold (the database names the page, not the row).
                if failed.first_position != failed.last_position:
                    raise RestoreRefused(f"the replay refused {failed}") from failed
                raise RestoreRefused(
                    f"the replay refused this event: {failed.reason}",
                    line=reader.line_of(failed.first_position),
                    position=failed.first_position,
                ) from failed
        ids = {actor for actor in reader.actor_ids if _is_int(actor)}
        known = set(get_user_model().objects.filter(pk__in=ids).values_list("pk", flat=True))
        report.missing_accounts = sorted(ids - known, key=str)
    return report
