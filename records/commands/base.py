"""What every command shares: the actor check, loading a record, and recording events."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.core.exceptions import ValidationError

from records.event_store import append
from records.events import DomainEvent
from records.models import StoredEvent
from records.projections import Projector
from records.validation import ACTOR_REQUIRED, Errors
from records.workflow import ReviewState

UNKNOWN_RECORD = "No {kind} with id {value}."


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


def is_retry(event_id: uuid.UUID | None, record_id) -> bool:
    """Whether this command already ran: its event id is recorded on the record's stream. A
    retry is acknowledged with the record as it stands, without checking the rules again (the
    state they were checked against has moved on because of the first run)."""
    return (
        event_id is not None
        and StoredEvent.objects.filter(event_id=event_id, stream_id=str(record_id)).exists()
    )


def registered_before(event_id: uuid.UUID | None, model):
    """The record a retried registration already made, or None. Checked before validation:
    the world may have moved on since the first run (a source gained its text, say)."""
    if event_id is None:
        return None
    stored = StoredEvent.objects.filter(event_id=event_id, version=1).values("stream_id").first()
    return model.objects.filter(pk=stored["stream_id"]).first() if stored else None


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
    result = append(
        stream_id=stream_id,
        expected_version=expected_version,
        events=events,
        actor=actor,
        reason=reason,
        event_ids=event_ids,
    )
    if not result.duplicate:
        projector = Projector()
        for stored in result.events:
            projector.apply(stored)
    return not result.duplicate


def record_event(*, event: DomainEvent, model, **options):
    """Append and project one event on its own stream; return the record it concerns."""
    record_events(stream_id=event.stream_id, events=[event], **options)
    return model.objects.get(pk=event.stream_id)
