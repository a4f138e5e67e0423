"""What every command shares: the actor check, loading a record, and recording events."""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import uuid
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

from records.event_store import IdempotencyConflict, append
from records.events import DomainEvent
from records.models import StoredEvent
from records.projections import Projector
from records.validation import ACTOR_REQUIRED, Errors
from records.workflow import ReviewState

UNKNOWN_RECORD = "No {kind} with id {value}."
EVENT_ID_REUSED = (
    "Event id {value} was already used for a different request; a retry must repeat the "
    "same command with the same arguments, by the same user."
)

# The digest of the command being run (see ``idempotent``), for ``record_events`` and the
# retry checks to read without every command passing it along.
_request: ContextVar[str | None] = ContextVar("request", default=None)


def idempotent(command: Callable) -> Callable:
    """Make a command's ``event_id`` an idempotency key: the events it stores carry a digest of
    the request (command, arguments, actor), and a later call with the same event id is a retry
    only if its digest matches; otherwise the id was reused and the call is refused."""
    signature = inspect.signature(command)

    @functools.wraps(command)
    def run(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        actor, _ = arguments.pop("actor", None), arguments.pop("event_id", None)
        request = json.dumps(
            [command.__name__, getattr(actor, "pk", None), _canonical(arguments)], sort_keys=True
        )
        token = _request.set(hashlib.sha256(request.encode()).hexdigest())
        try:
            return command(*args, **kwargs)
        finally:
            _request.reset(token)

    return run


def check_actor(actor) -> None:
    """The actor must be an active account; raised before anything else is looked at."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise ValidationError({"actor": [ACTOR_REQUIRED]})


def existing(errors: Errors, model, record_id, kind: str, field: str | None = None):
    """The record with this id, or None with an error on ``field`` (default ``<kind>_id``)."""
    field = field or f"{kind}_id"
    parsed = errors.uuid(field, record_id)
    if parsed is None:
        return None
    record = model.objects.filter(pk=parsed).first()
    if record is None:
        errors.add(field, UNKNOWN_RECORD.format(kind=kind, value=parsed))
    return record


def load(model, record_id, kind: str):
    """The record with this id, or a ValidationError naming ``<kind>_id``."""
    errors = Errors()
    record = existing(errors, model, record_id, kind)
    errors.raise_if_any()
    return record


def _canonical(value):
    """An argument as the command will read it, so that the same request written two ways has
    one digest: a UUID or its text in any case, a number of any type, a date or its ISO text."""
    if isinstance(value, dict):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float | Decimal):
        try:
            return format(Decimal(str(value)).normalize(), "f")
        except InvalidOperation:
            return str(value)  # inf, nan: refused by the command anyway
    if isinstance(value, str):
        try:
            return str(uuid.UUID(value)) if len(value) in (32, 36) else value
        except ValueError:
            return value
    if isinstance(value, date | uuid.UUID):
        return str(value)
    return repr(value)  # anything else: the command refuses it, and the digest stays stable


def _recorded(event_id: uuid.UUID | None) -> StoredEvent | None:
    """The event this id already names, if any, provided it was stored for this very request."""
    if event_id is None:
        return None
    row = StoredEvent.objects.filter(event_id=event_id).first()
    if row is None:
        return None
    stored = row.metadata.get("request")
    if stored is not None and stored != _request.get():
        raise ValidationError({"event_id": [EVENT_ID_REUSED.format(value=event_id)]})
    return row


def is_retry(event_id: uuid.UUID | None, record_id) -> bool:
    """Whether this command already ran: its event id is recorded for the same request. A
    retry is acknowledged with the record as it stands, without checking the rules again (the
    state they were checked against has moved on because of the first run)."""
    row = _recorded(event_id)
    if row is not None and str(row.stream_id) != _canonical(str(record_id)):
        raise ValidationError({"event_id": [EVENT_ID_REUSED.format(value=event_id)]})
    return row is not None


def registered_before(event_id: uuid.UUID | None, model):
    """The record a retried registration already made, or None. Checked before validation:
    the world may have moved on since the first run (a source gained its text, say)."""
    row = _recorded(event_id)
    if row is None:
        return None
    record = model.objects.filter(pk=row.stream_id).first() if row.version == 1 else None
    if record is None:
        raise ValidationError({"event_id": [EVENT_ID_REUSED.format(value=event_id)]})
    return record


def review_state(record, kind: str) -> ReviewState:
    return ReviewState(
        kind=kind,
        status=record.status,
        revision=record.revision,
        published_revision=record.published_revision,
        revision_authors=frozenset(record.revision_authors or ()),
    )


def record_events(
    *,
    stream_id,
    events: Sequence[DomainEvent],
    expected_version,
    actor,
    reason: str = "",
    event_id: uuid.UUID | None = None,
) -> bool:
    """Append events to one stream and project them. ``event_id`` names the first event (the
    rest are derived from it), so a retried command is acknowledged and projects nothing.
    Returns whether anything was stored."""
    event_ids = None
    if event_id is not None:
        event_ids = [event_id] + [uuid.uuid5(event_id, str(i)) for i in range(1, len(events))]
    try:
        result = append(
            stream_id=stream_id,
            expected_version=expected_version,
            events=events,
            actor=actor,
            reason=reason,
            event_ids=event_ids,
            request=_request.get(),
        )
    except IdempotencyConflict:
        # Another request with this event id won the append lock after our retry check.
        raise ValidationError({"event_id": [EVENT_ID_REUSED.format(value=event_id)]}) from None
    if not result.duplicate:
        projector = Projector(known_users=[actor])
        for stored in result.events:
            projector.apply(stored)
    return not result.duplicate


def record_event(*, event: DomainEvent, model, **options):
    """Append and project one event on its own stream; return the record it concerns."""
    record_events(stream_id=event.stream_id, events=[event], **options)
    return model.objects.get(pk=event.stream_id)
