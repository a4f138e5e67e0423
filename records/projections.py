"""The projector: one handler per event type, writing the read models and their history.

Each history row is stamped from the event that caused it: the actor as ``history_user``, the
event's recorded time as ``history_date``, and "<EventType>: <reason>" as the change reason.
So a replay of the log rebuilds history rows equal to the live ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from functools import singledispatchmethod

from django.contrib.auth import get_user_model

from records import events as ev
from records.models import Claim, Fact, Property, Source, StoredEvent, Subject
from records.models.projections import fact_id_for

# Dependency order: a later model refers to earlier ones.
PROJECTION_MODELS = [Source, Subject, Property, Fact, Claim]


class Projector:
    def __init__(self) -> None:
        self._users: dict[int, object] = {}

    def apply(self, stored: StoredEvent) -> object:
        """Project one stored event; returns the read model it changed."""
        return self.handle(stored.domain_event(), stored)

    def apply_all(self, stored_events: Iterable[StoredEvent], on_event: Callable | None = None):
        for stored in stored_events:
            self.apply(stored)
            if on_event is not None:
                on_event()

    def _actor(self, stored: StoredEvent):
        actor_id = stored.actor_id
        if actor_id not in self._users:
            self._users[actor_id] = get_user_model().objects.filter(pk=actor_id).first()
        return self._users[actor_id]

    def _save(self, record, stored: StoredEvent, *, registers: bool = False):
        """Stamp a read model (and the history row its save creates) from the event, and save."""
        actor = self._actor(stored)
        if hasattr(record, "version"):
            record.version = stored.version
            record.last_position = stored.position
            record.updated_at = stored.recorded_at
        if registers:
            record.registered_at = stored.recorded_at
            if hasattr(record, "registered_by"):
                record.registered_by = actor
        record._history_user = actor
        record._history_date = stored.recorded_at
        reason = stored.reason
        record._change_reason = f"{stored.event_type}: {reason}" if reason else stored.event_type
        record.save()
        return record

    @singledispatchmethod
    def handle(self, event, stored):
        raise TypeError(f"no projection for {type(event).__name__}")

    # --- sources -------------------------------------------------------------------------------

    @staticmethod
    def _fill_source(source: Source, event) -> None:
        for field in (
            "title",
            "author",
            "publisher",
            "published",
            "url",
            "archive_reference",
            "licence",
            "attribution",
            "full_text",
        ):
            setattr(source, field, getattr(event, field))
        source.accessed = date.fromisoformat(event.accessed) if event.accessed else None

    @handle.register
    def _(self, event: ev.SourceRegistered, stored):
        source = Source(id=event.source_id)
        self._fill_source(source, event)
        return self._save(source, stored, registers=True)

    @handle.register
    def _(self, event: ev.SourceRevised, stored):
        source = Source.objects.get(pk=event.source_id)
        self._fill_source(source, event)
        return self._save(source, stored)

    # --- subjects ------------------------------------------------------------------------------

    @staticmethod
    def _fill_subject(subject: Subject, event) -> None:
        subject.kind = event.kind
        subject.names = event.names
        subject.label = next(
            (name["name"] for name in event.names if name.get("primary")), event.names[0]["name"]
        )
        subject.search_text = "\n".join(name["name"] for name in event.names)

    @handle.register
    def _(self, event: ev.SubjectRegistered, stored):
        subject = Subject(id=event.subject_id)
        self._fill_subject(subject, event)
        return self._save(subject, stored, registers=True)

    @handle.register
    def _(self, event: ev.SubjectRevised, stored):
        subject = Subject.objects.get(pk=event.subject_id)
        self._fill_subject(subject, event)
        return self._save(subject, stored)

    # --- properties ----------------------------------------------------------------------------

    @handle.register
    def _(self, event: ev.PropertyDefined, stored):
        prop = Property(
            id=event.property_id,
            key=event.key,
            label=event.label,
            value_type=event.value_type,
            unit=event.unit,
            count=event.count,
        )
        return self._save(prop, stored, registers=True)

    # --- claims --------------------------------------------------------------------------------

    @staticmethod
    def _fill_claim(claim: Claim, event) -> None:
        value, citation = event.value, event.citation
        claim.value = value
        claim.value_type = value["type"]
        claim.original_wording = value["original"]
        claim.quantity_best = _number(value.get("best"))
        claim.quantity_lower = _number(value.get("lower"))
        claim.quantity_upper = _number(value.get("upper"))
        claim.quantity_approximate = value.get("approximate")
        claim.unit = value.get("unit", "")
        claim.date_edtf = value.get("edtf", "")
        claim.date_earliest = _day(value.get("earliest"))
        claim.date_latest = _day(value.get("latest"))
        claim.text_value = value.get("text", "")
        claim.subject_value_id = value.get("subject_id")
        claim.source_id = citation["source_id"]
        claim.locator = citation["locator"]
        claim.quote = citation["quote"]
        claim.quote_start = citation["start"]
        claim.quote_end = citation["end"]
        claim.attributed_to = event.attributed_to
        claim.note = event.note

    def _fact(self, subject_id, property_id, stored) -> Fact:
        fact_id = fact_id_for(subject_id, property_id)
        fact = Fact.objects.filter(pk=fact_id).first()
        if fact is None:
            fact = Fact(id=fact_id, subject_id=subject_id, property_id=property_id)
            self._save(fact, stored, registers=True)
        return fact

    @handle.register
    def _(self, event: ev.ClaimRegistered, stored):
        claim = Claim(
            id=event.claim_id,
            fact=self._fact(event.subject_id, event.property_id, stored),
            subject_id=event.subject_id,
            property_id=event.property_id,
        )
        self._fill_claim(claim, event)
        return self._save(claim, stored, registers=True)

    @handle.register
    def _(self, event: ev.ClaimRevised, stored):
        claim = Claim.objects.get(pk=event.claim_id)
        self._fill_claim(claim, event)
        return self._save(claim, stored)


def _number(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)
