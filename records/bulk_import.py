"""Bulk import: a JSON Lines file of sources, subjects and claims, registered as drafts.

For archivists migrating an existing catalogue (docs/import.md describes the file). Each line
is checked with the commands' own rules (the same functions, with sources, subjects and
properties loaded in bulk instead of one query per line), and becomes the event its command
would record: ``SourceRegistered``, ``SubjectRegistered`` or ``ClaimRegistered``, authored by
the importing archivist. Records arrive as drafts (or, asked to, submitted for review by the
same archivist) and go through review like any other.

All or nothing: any problem in any line refuses the whole file (``ImportRefused`` lists every
problem by line and field) and nothing is stored. Importing the same file again stores nothing
twice: a line whose record was imported before from the same content is acknowledged and
skipped; an id already used otherwise is refused.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import json
import time
import uuid
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

from django.db import transaction

from records import events as ev
from records import workflow
from records.bulk_append import NewEvent, append_new_streams
from records.commands.base import UNKNOWN_RECORD, check_actor
from records.commands.claims import claim_fields
from records.commands.sources import source_fields
from records.commands.subjects import subject_fields
from records.event_store import lock_log
from records.hashing import digest
from records.import_references import (
    ImportReferences,
    archived_source_texts,
    archived_subjects,
    first_events,
    properties_by_key,
)
from records.models import Source, StoredEvent
from records.replay import project
from records.validation import NOT_A_CHOICE, REQUIRED, Errors

# Event ids are derived from record ids, so a second import of a line finds its first one.
IMPORT_NAMESPACE = uuid.UUID("5d0c7a2e-8b41-4f0e-9c3a-6e2b1f4d7a90")
REQUEST_NAME = "import_claims"

RECORD_FIELDS = {
    "source": {"record", "id", "reason", *Source.CONTENT_FIELDS},
    "subject": {"record", "id", "reason", "kind", "names"},
    "claim": {
        "record",
        "id",
        "reason",
        "subject_id",
        "property",
        "value",
        "citation",
        "attributed_to",
        "note",
    },
}
RECORD_KINDS = tuple(RECORD_FIELDS)

NOT_UTF8 = "The line is not UTF-8 text."
NOT_JSON = "Not valid JSON: {error} (column {column})."
NOT_AN_OBJECT = "Each line must be one JSON object."
GIVEN_TWICE = "Given twice in one object; give it once."
UNKNOWN_FIELD = "A {kind} line has no such field; it takes: {fields}."
DUPLICATE_ID = "Id {value} is already given on line {line}."
ID_IN_ARCHIVE = "Id {value} is already used by a {kind} in the archive."
IMPORTED_OTHERWISE = (
    "Id {value} was imported before from a different line; change the line back, or give the "
    "new record a new id (revise the archived one through review)."
)
UNKNOWN_PROPERTY = "No property with key {key!r}; define it first."


@dataclass(frozen=True)
class Problem:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


class ImportRefused(Exception):
    """The file has problems; nothing was stored. ``problems`` lists each, in line order."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda problem: problem.line)
        count = len(self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''}")


@dataclass(frozen=True)
class Line:
    """One parsed line: a record of the file, not yet checked against the archive."""

    number: int
    kind: str
    record_id: uuid.UUID
    fields: dict
    # The digest of the line's JSON value (canonical: key order and spacing do not count), kept
    # with its event as the request that asked for it.
    request: str
    # The id of the event that registers the record, derived from the record's id.
    event_id: uuid.UUID


@dataclass
class ImportReport:
    new: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RECORD_KINDS, 0))
    already_imported: int = 0
    events: list[StoredEvent] = field(default_factory=list)
    # seconds spent in each step: parse, check, append, project, commit (where the database
    # checks the new rows' references, deferred to the end of the transaction, and writes the
    # transaction to disk)
    timings: dict[str, float] = field(default_factory=dict)


# A progress display: called with a description and a total, gives a context manager that
# yields a function to call once per item (records.progress.event_progress).
Progress = Callable[[str, int], AbstractContextManager[Callable[[], None]]]


def _no_progress(description: str, total: int):
    return nullcontext(lambda: None)


# --- parsing: each line on its own ----------------------------------------------------------


class _RepeatedKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _refuse_repeated_keys(pairs: list[tuple[str, object]]) -> dict:
    # json.loads keeps the last of two equal keys; an import must not pick one silently.
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise _RepeatedKey(key)
        obj[key] = value
    return obj


def _decode(number: int, raw: bytes, problems: list[Problem]) -> dict | None:
    try:
        text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
    except UnicodeDecodeError:
        problems.append(Problem(number, "json", NOT_UTF8))
        return None
    try:
        obj = json.loads(text, object_pairs_hook=_refuse_repeated_keys)
    except json.JSONDecodeError as error:
        message = NOT_JSON.format(error=error.msg, column=error.colno)
        problems.append(Problem(number, "json", message))
        return None
    except _RepeatedKey as repeated:
        problems.append(Problem(number, repeated.key, GIVEN_TWICE))
        return None
    if not isinstance(obj, dict):
        problems.append(Problem(number, "json", NOT_AN_OBJECT))
        return None
    return obj


def _parse_line(number: int, obj: dict, problems: list[Problem]) -> Line | None:
    errors = Errors()
    kind = obj.get("record")
    known = isinstance(kind, str) and kind in RECORD_FIELDS
    if kind in (None, ""):
        errors.add("record", REQUIRED)
    elif not known:
        errors.add("record", NOT_A_CHOICE.format(value=kind, choices=", ".join(RECORD_KINDS)))
    record_id = errors.uuid("id", obj.get("id"))
    if known:
        allowed = RECORD_FIELDS[kind]
        for name in sorted(set(obj) - allowed):
            errors.add(name, UNKNOWN_FIELD.format(kind=kind, fields=", ".join(sorted(allowed))))
    problems.extend(_problems(number, errors))
    # A line with unknown fields is checked all the same: every problem of a line is listed.
    if not known:
        return None
    if record_id is None:
        # The file is refused for the id already; a stand-in lets the rest of the line be
        # checked, so that every problem is listed at once.
        record_id = uuid.uuid4()
    event_id = uuid.uuid5(IMPORT_NAMESPACE, str(record_id))
    return Line(number, kind, record_id, obj, digest([REQUEST_NAME, obj]), event_id)


def parse(
    raw_lines: Iterable[bytes], problems: list[Problem], tick: Callable[[], None]
) -> list[Line]:
    """Every non-blank line as a ``Line``; each problem found goes to ``problems``."""
    lines, first_line_of = [], {}
    for number, raw in enumerate(raw_lines, start=1):
        tick()
        if not raw.strip():
            continue
        obj = _decode(number, raw, problems)
        line = _parse_line(number, obj, problems) if obj is not None else None
        if line is None:
            continue
        if line.record_id in first_line_of:
            message = DUPLICATE_ID.format(value=line.record_id, line=first_line_of[line.record_id])
            problems.append(Problem(number, "id", message))
            # Refused already; checked under a stand-in id, as for an id that is no UUID.
            line = dataclasses.replace(line, record_id=uuid.uuid4())
        first_line_of[line.record_id] = number
        lines.append(line)
    return lines


def _problems(number: int, errors: Errors) -> list[Problem]:
    return [
        Problem(number, name, message)
        for name, messages in errors.messages.items()
        for message in messages
    ]


# --- checking against the archive: under the append lock -------------------------------------


def _new_lines(lines: list[Line], problems: list[Problem]) -> tuple[list[Line], int]:
    """The lines still to import, and how many were imported before (acknowledged). An id
    already in the archive for anything else is a problem."""
    stored = first_events(line.record_id for line in lines)
    new, acknowledged = [], 0
    for line in lines:
        first = stored.get(line.record_id)
        if first is None:
            new.append(line)
        elif first.event_id == line.event_id and first.request == line.request:
            acknowledged += 1
        elif first.event_id == line.event_id:
            message = IMPORTED_OTHERWISE.format(value=line.record_id)
            problems.append(Problem(line.number, "id", message))
        else:
            message = ID_IN_ARCHIVE.format(value=line.record_id, kind=first.stream_type)
            problems.append(Problem(line.number, "id", message))
    return new, acknowledged


def _referenced(lines: list[Line], kind: str, *paths: tuple[str, ...]) -> set[uuid.UUID]:
    """Ids that ``kind`` lines give at any of ``paths`` (nested keys), where they parse."""
    given = set()
    for line in lines:
        if line.kind != kind:
            continue
        for path in paths:
            value = line.fields
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            if isinstance(value, str):
                given.add(value)
    found = set()
    for value in given:  # each once: many lines name the same few sources and subjects
        with contextlib.suppress(ValueError):  # a malformed id: the line's own check says so
            found.add(uuid.UUID(value))
    return found


def _source_event(errors: Errors, line: Line, references, properties) -> ev.DomainEvent:
    return ev.SourceRegistered(source_id=str(line.record_id), **source_fields(errors, line.fields))


def _subject_event(errors: Errors, line: Line, references, properties) -> ev.DomainEvent:
    fields = subject_fields(errors, line.fields.get("kind"), line.fields.get("names"))
    return ev.SubjectRegistered(subject_id=str(line.record_id), **fields)


def _claim_event(
    errors: Errors, line: Line, references: ImportReferences, properties: dict
) -> ev.DomainEvent:
    """As ``register_claim`` checks it, the property named by its key."""
    given = line.fields
    subject_id = errors.uuid("subject_id", given.get("subject_id"))
    if subject_id is not None and not references.subject_exists(subject_id):
        errors.add("subject_id", UNKNOWN_RECORD.format(kind="subject", value=subject_id))
    key = given.get("property")
    prop = properties.get(key) if isinstance(key, str) else None
    if prop is None:
        errors.add("property", UNKNOWN_PROPERTY.format(key=key) if key else REQUIRED)
    fields = claim_fields(
        errors,
        prop,
        given.get("value"),
        given.get("citation"),
        given.get("attributed_to"),
        given.get("note"),
        references,
    )
    return ev.ClaimRegistered(
        claim_id=str(line.record_id),
        subject_id=str(subject_id),
        property_id=str(prop.pk) if prop else "",
        **fields,
    )


EVENT_BUILDERS = {"source": _source_event, "subject": _subject_event, "claim": _claim_event}


def _check_line(line: Line, references: ImportReferences, properties: dict):
    """The event this line registers, its reason, and the errors the commands' rules find."""
    errors = Errors()
    reason = errors.text("reason", line.fields.get("reason"))
    event = EVENT_BUILDERS[line.kind](errors, line, references, properties)
    return event, reason, errors


def _submission(line: Line) -> NewEvent:
    """What ``submit_for_review`` records for the record's first revision, by the importer."""
    event = ev.SubmittedForReview(record_type=line.kind, record_id=str(line.record_id), revision=1)
    # As record_events derives the ids of a command's later events from its first one.
    return NewEvent(event, uuid.uuid5(line.event_id, "1"), request=line.request)


def check(
    lines: list[Line],
    *,
    reason: str,
    problems: list[Problem],
    tick: Callable[[], None],
    submit: bool = False,
) -> list[NewEvent]:
    """The events the new lines register (each followed by its submission for review when
    ``submit``): sources first, then subjects, then claims, each in file order, so that a
    claim may refer to records given anywhere in the file."""
    new_sources = {line.record_id: line for line in lines if line.kind == "source"}
    new_subjects = {line.record_id for line in lines if line.kind == "subject"}
    claims_cite = _referenced(lines, "claim", ("citation", "source_id"))
    claims_name = _referenced(lines, "claim", ("subject_id",), ("value", "subject_id"))
    references = ImportReferences(
        subjects=new_subjects | archived_subjects(claims_name - new_subjects),
        source_texts=archived_source_texts(claims_cite - new_sources.keys()),
    )
    properties = properties_by_key(
        line.fields["property"]
        for line in lines
        if line.kind == "claim" and isinstance(line.fields.get("property"), str)
    )
    planned = []
    for kind in RECORD_KINDS:
        for line in lines:
            if line.kind != kind:
                continue
            event, line_reason, errors = _check_line(line, references, properties)
            tick()
            if kind == "source":
                # Claims quote the text as the file gives it (even if the line has problems,
                # so that its claims are not also refused for citing an unknown source).
                references.source_texts[line.record_id] = event.full_text
            if errors.messages:
                problems.extend(_problems(line.number, errors))
                continue
            planned.append(
                NewEvent(event, line.event_id, reason=line_reason or reason, request=line.request)
            )
            if submit:
                planned.append(_submission(line))
    return planned


# --- the whole import --------------------------------------------------------------------------


@contextlib.contextmanager
def _cyclic_gc_paused():
    """An import allocates a few objects per line and frees them together at the end; the
    cyclic garbage collector would walk the growing heap again and again meanwhile (a fifth of
    the time at 100,000 lines). Reference counting still frees what is dropped."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextlib.contextmanager
def _timed(report: ImportReport, step: str):
    started = time.perf_counter()
    yield
    report.timings[step] = time.perf_counter() - started


def import_records(
    raw_lines: Iterable[bytes],
    *,
    actor,
    reason: str = "",
    check_only: bool = False,
    submit: bool = False,
    progress: Progress = _no_progress,
) -> ImportReport:
    """Import a JSON Lines file (its lines as bytes): check every line, append the events in
    one transaction and project them. Raises ``ImportRefused`` listing every problem, a
    ``ValidationError`` or ``WorkflowError`` for the actor; nothing is then stored. With
    ``check_only``, checks everything and stores nothing. With ``submit``, each new record is
    also submitted for review by the actor, as ``submit_for_review`` would."""
    check_actor(actor)
    workflow.check_can_author(actor, "import records")
    given = Errors()
    reason = given.text("reason", reason)
    given.raise_if_any()
    with _cyclic_gc_paused():
        return _import(
            list(raw_lines),
            actor=actor,
            reason=reason,
            check_only=check_only,
            submit=submit,
            progress=progress,
        )


def _import(
    raw_lines: list[bytes], *, actor, reason: str, check_only: bool, submit: bool, progress
) -> ImportReport:
    """Parse every line; then, under the append lock, check them, append and project."""
    report, problems = ImportReport(), []
    with _timed(report, "parse"), progress("Reading lines", len(raw_lines)) as tick:
        lines = parse(raw_lines, problems, tick)
    with transaction.atomic():
        # Held until commit: what the lines are checked against cannot change meanwhile.
        lock_log()
        with _timed(report, "check"):
            lines, report.already_imported = _new_lines(lines, problems)
            with progress("Checking lines", len(lines)) as tick:
                planned = check(lines, reason=reason, problems=problems, tick=tick, submit=submit)
        if problems:
            raise ImportRefused(problems)
        for item in planned:
            if not isinstance(item.event, ev.ReviewEvent):
                report.new[item.event.stream_type] += 1
        if check_only or not planned:
            return report
        with _timed(report, "append"), progress("Appending events", len(planned)) as tick:
            report.events = append_new_streams(planned, actor=actor, on_event=tick)
        with _timed(report, "project"), progress("Projecting events", len(planned)) as tick:
            project(report.events, on_event=tick)
        committing = time.perf_counter()
    report.timings["commit"] = time.perf_counter() - committing
    return report
