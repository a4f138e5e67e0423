"""Event types: what happened, in the past tense.

Every event is a frozen dataclass whose fields are plain JSON values (strings, numbers as strings,
booleans, lists and dicts of those), so that its stored form hashes the same on every backend.
Each type carries a ``schema_version``; an event stored under an older version is upcast when read
(see ``upcaster``), and stored events are never rewritten.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import types
import typing
from collections.abc import Callable
from typing import Any, ClassVar, Literal


@dataclasses.dataclass(frozen=True)
class DomainEvent:
    stream_type: ClassVar[str]
    stream_field: ClassVar[str]
    schema_version: ClassVar[int] = 1

    @property
    def stream_id(self) -> str:
        return getattr(self, self.stream_field)

    @classmethod
    def type_name(cls) -> str:
        return cls.__name__

    def to_data(self) -> dict[str, Any]:
        # A copy, so that the stored data never shares a dict or list with the event. Fields
        # are plain JSON values, so a JSON-shaped copy does what dataclasses.asdict would, at a
        # fraction of its cost (a bulk import copies thousands of events).
        return {field.name: _json_copy(getattr(self, field.name)) for field in _fields(type(self))}


@functools.cache
def _fields(cls: type) -> tuple[dataclasses.Field, ...]:
    return dataclasses.fields(cls)


def _json_copy(value):
    if isinstance(value, dict):
        return {key: _json_copy(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_json_copy(item) for item in value)
    return value


EVENT_TYPES: dict[str, type[DomainEvent]] = {}
# (event type, stored schema version) -> function turning that version's data into the next one's
UPCASTERS: dict[tuple[str, int], Callable[[dict], dict]] = {}


def event_type(cls: type[DomainEvent]) -> type[DomainEvent]:
    """Register an event class so that stored events of its type can be read back."""
    EVENT_TYPES[cls.type_name()] = cls
    return cls


def upcaster(type_name: str, from_version: int):
    """Register how data stored under ``from_version`` becomes data of ``from_version + 1``."""

    def register(function: Callable[[dict], dict]) -> Callable[[dict], dict]:
        UPCASTERS[(type_name, from_version)] = function
        return function

    return register


class UnknownEventType(LookupError):
    pass


def load_event(type_name: str, schema_version: int, data: dict) -> DomainEvent:
    """Rebuild a domain event from its stored form, upcasting older schema versions."""
    try:
        cls = EVENT_TYPES[type_name]
    except KeyError:
        raise UnknownEventType(f"no event type named {type_name!r}") from None
    version = schema_version
    while version < cls.schema_version:
        data = UPCASTERS[(type_name, version)](dict(data))
        version += 1
    return cls(**data)


# The largest whole number a field may hold: the read models keep revisions in 4-byte columns.
MAX_WHOLE_NUMBER = 2**31 - 1
# An id as PostgreSQL's uuid type and Python's uuid.UUID both read it: 32 hex digits in either
# case, a hyphen allowed after any group of four, the whole optionally in braces. The commands
# write str(uuid), but keep a new record's id in the form its caller gave it.
_HEX32 = r"[0-9a-fA-F]{4}(?:-?[0-9a-fA-F]{4}){7}"
_UUID_TEXT = re.compile(rf"\{{{_HEX32}\}}|{_HEX32}")


def data_type_problem(cls: type[DomainEvent], data: dict) -> str | None:
    """What in ``data`` (current schema version, every field present) is not of its field's
    declared type, or None. The dataclasses do not check types; an event read from a file that
    was not written by Strata's own commands must be, before a replay builds read models of it."""
    for name, accepts, description in _checks(cls):
        value = data[name]
        if not accepts(value):
            return f"{name} must be {description}, not {value!r}"
    return None


@functools.cache
def _checks(cls: type[DomainEvent]) -> tuple[tuple[str, Callable[[Any], bool], str], ...]:
    """Each field's name, a test of a value, and what the test wants; built once per type (a
    restore checks every event of the log)."""
    hints = typing.get_type_hints(cls)
    checks = []
    for field in _fields(cls):
        if field.name.endswith("_id") and hints[field.name] is str:
            checks.append((field.name, _is_uuid_text, "the text of a UUID (32 hex digits)"))
        else:
            checks.append((field.name, *_check(hints[field.name])))
    return tuple(checks)


def _is_uuid_text(value) -> bool:
    return type(value) is str and _UUID_TEXT.fullmatch(value) is not None


def _check(expected) -> tuple[Callable[[Any], bool], str]:
    """A test of a JSON value for a field annotated ``expected``, and what it wants. JSON gives
    exact types, so ``type(value) is`` serves, and keeps true and false out of numbers."""
    if isinstance(expected, types.UnionType):  # str | None, the only union the events use
        (inner,) = (option for option in typing.get_args(expected) if option is not type(None))
        accepts, description = _check(inner)
        return (lambda value: value is None or accepts(value)), f"{description} or null"
    if typing.get_origin(expected) is Literal:
        choices = typing.get_args(expected)
        return (lambda value: value in choices), "one of " + ", ".join(map(repr, choices))
    if typing.get_origin(expected) is list and typing.get_args(expected) == (dict,):
        return (
            lambda value: type(value) is list and all(type(item) is dict for item in value)
        ), "a list of JSON objects"
    if expected is int:
        return (
            lambda value: type(value) is int and 1 <= value <= MAX_WHOLE_NUMBER
        ), f"a whole number from 1 to {MAX_WHOLE_NUMBER}"
    described = {bool: "true or false", str: "text", dict: "a JSON object"}
    if expected in described:
        return (lambda value: type(value) is expected), described[expected]
    raise TypeError(f"no check for fields of type {expected!r}")


# The choices the commands allow (records.models.projections' SubjectKind, ValueType and Rank),
# so that a restore refuses any other: the read models' columns would take any text of twenty
# characters. Spelled out rather than imported, since events do not depend on the read models; a
# test keeps each equal to its model's.
SubjectKindName = Literal["event", "person", "place", "organisation", "object"]
ValueTypeName = Literal["quantity", "date", "text", "subject"]
RankName = Literal["preferred", "normal", "deprecated"]


# --- sources -----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _SourceFields(DomainEvent):
    stream_type: ClassVar[str] = "source"
    stream_field: ClassVar[str] = "source_id"

    source_id: str
    title: str
    author: str
    publisher: str
    published: str
    url: str
    archive_reference: str
    accessed: str | None  # ISO date
    licence: str
    attribution: str
    full_text: str


@event_type
@dataclasses.dataclass(frozen=True)
class SourceRegistered(_SourceFields):
    pass


@event_type
@dataclasses.dataclass(frozen=True)
class SourceRevised(_SourceFields):
    pass


# --- subjects ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _SubjectFields(DomainEvent):
    stream_type: ClassVar[str] = "subject"
    stream_field: ClassVar[str] = "subject_id"

    subject_id: str
    kind: SubjectKindName
    # [{"name": "浙贛作戦", "language": "ja", "primary": False}, ...]
    names: list[dict]


@event_type
@dataclasses.dataclass(frozen=True)
class SubjectRegistered(_SubjectFields):
    pass


@event_type
@dataclasses.dataclass(frozen=True)
class SubjectRevised(_SubjectFields):
    pass


# --- properties --------------------------------------------------------------------------------


@event_type
@dataclasses.dataclass(frozen=True)
class PropertyDefined(DomainEvent):
    stream_type: ClassVar[str] = "property"
    stream_field: ClassVar[str] = "property_id"

    property_id: str
    key: str
    label: str
    value_type: ValueTypeName
    unit: str
    count: bool
    multivalued: bool


# --- claims ------------------------------------------------------------------------------------


@event_type
@dataclasses.dataclass(frozen=True)
class ClaimRegistered(DomainEvent):
    stream_type: ClassVar[str] = "claim"
    stream_field: ClassVar[str] = "claim_id"

    claim_id: str
    subject_id: str
    property_id: str
    value: dict
    citation: dict
    attributed_to: str
    note: str


@event_type
@dataclasses.dataclass(frozen=True)
class ClaimRevised(DomainEvent):
    """A new revision of a claim; the fact it answers (subject and property) never changes."""

    stream_type: ClassVar[str] = "claim"
    stream_field: ClassVar[str] = "claim_id"

    claim_id: str
    value: dict
    citation: dict
    attributed_to: str
    note: str


# --- review workflow -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ReviewEvent(DomainEvent):
    """An event of the review workflow, on the stream of the record it concerns."""

    stream_field: ClassVar[str] = "record_id"

    record_type: Literal["source", "subject", "claim"]
    record_id: str
    revision: int  # the exact revision the event concerns

    @property
    def stream_type(self) -> str:  # type: ignore[override]
        return self.record_type


@event_type
@dataclasses.dataclass(frozen=True)
class SubmittedForReview(ReviewEvent):
    pass


@event_type
@dataclasses.dataclass(frozen=True)
class SubmissionWithdrawn(ReviewEvent):
    pass


@event_type
@dataclasses.dataclass(frozen=True)
class RevisionApproved(ReviewEvent):
    """Publishes exactly ``revision``. Every field is public: the change feed shows it whole.
    (A reviewer's comment on an approval is a CommentAdded event recorded just before.)"""


@event_type
@dataclasses.dataclass(frozen=True)
class ChangesRequested(ReviewEvent):
    comment: str


@event_type
@dataclasses.dataclass(frozen=True)
class RevisionRejected(ReviewEvent):
    comment: str


@event_type
@dataclasses.dataclass(frozen=True)
class CommentAdded(ReviewEvent):
    """A review comment: seen by archivists and reviewers, never by the public."""

    text: str


@event_type
@dataclasses.dataclass(frozen=True)
class ClaimRetracted(DomainEvent):
    """A published claim withdrawn from the record; the public sees it as retracted."""

    stream_type: ClassVar[str] = "claim"
    stream_field: ClassVar[str] = "claim_id"

    claim_id: str
    reason: str


@event_type
@dataclasses.dataclass(frozen=True)
class ClaimRanked(DomainEvent):
    """A reviewer's rank for a published claim: preferred, normal or deprecated."""

    stream_type: ClassVar[str] = "claim"
    stream_field: ClassVar[str] = "claim_id"

    claim_id: str
    rank: RankName
    reason: str


# The events that open a record's stream: each is its stream's version 1 (the commands append it
# to a stream that does not exist yet), so a record is registered once. A restore refuses a log
# that says otherwise, and the paged projector relies on it (records/batch_projection.py).
OPENING_EVENTS = (SourceRegistered, SubjectRegistered, PropertyDefined, ClaimRegistered)
