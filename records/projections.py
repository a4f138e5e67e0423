"""The projector: one handler per event type, writing the read models and their history.

Each history row is stamped from the event that caused it: the actor as ``history_user``, the
event's recorded time as ``history_date``, and "<EventType>: <reason>" as the change reason.
So a replay of the log rebuilds history rows equal to the live ones.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import singledispatchmethod

from django.contrib.auth import get_user_model

from records import events as ev
from records.models import (
    Claim,
    Fact,
    Property,
    PublishedClaim,
    PublishedSource,
    PublishedSubject,
    ReviewComment,
    Source,
    StoredEvent,
    Subject,
)
from records.models.projections import PublicStatus, Status, fact_id_for

# Dependency order: a later model may refer to earlier ones.
PROJECTION_MODELS = [
    Source,
    PublishedSource,
    Subject,
    PublishedSubject,
    Property,
    Fact,
    Claim,
    PublishedClaim,
    ReviewComment,
]
WORKING_MODELS = {"source": Source, "subject": Subject, "claim": Claim}
PUBLISHED_MODELS = {"source": PublishedSource, "subject": PublishedSubject, "claim": PublishedClaim}


class Projector:
    def __init__(self, known_users=()) -> None:
        # A command passes its actor, who is the one stamped on its events: no query for them.
        self._users: dict[int, object] = {user.pk: user for user in known_users}

    def apply(self, stored: StoredEvent) -> object:
        """Project one stored event; returns the read model it changed."""
        return self.handle(stored.domain_event(), stored)

    # --- where records are read and written: one at a time here, in pages in BatchProjector --

    def _get(self, model, pk):
        return model.objects.get(pk=pk)

    def _find(self, model, pk):
        """The record, or None if it does not exist yet."""
        return model.objects.filter(pk=pk).first()

    def _write(self, record) -> None:
        # django-simple-history's post_save handler writes the history row from the _history_*
        # attributes that _save stamped.
        record.save()

    def _new_record(self, model, **values):
        """A new record, not yet saved, its fields given by attname."""
        return model(**values)

    def _insert_comment(self, columns: dict) -> None:
        """A review comment, given as {attname: value}: a row with no history, written once."""
        ReviewComment(**columns).save(force_insert=True)

    def _actor(self, stored: StoredEvent):
        actor_id = stored.actor_id
        if actor_id not in self._users:
            self._users[actor_id] = get_user_model().objects.filter(pk=actor_id).first()
        return self._users[actor_id]

    def _actor_id(self, stored: StoredEvent) -> int | None:
        """The actor's id, or None if no such user: what a foreign key to them is set to."""
        actor = self._actor(stored)
        return None if actor is None else actor.pk

    def _save(self, record, stored: StoredEvent, *, registers: bool = False, reason=None):
        """Stamp a read model (and the history row its save creates) from the event, and save."""
        actor = self._actor(stored)
        actor_id = self._actor_id(stored)
        if hasattr(record, "last_position"):
            record.version = stored.version
            record.last_position = stored.position
            record.updated_at = stored.recorded_at
        if registers:
            record.registered_at = stored.recorded_at
            if hasattr(record, "registered_by_id"):
                # Foreign keys are set by id: the related-object setter costs a router check
                # and a cache per call, a few percent of a replay.
                record.registered_by_id = actor_id
        reason = stored.reason if reason is None else reason
        record._history_user = actor
        record._history_date = stored.recorded_at
        record._change_reason = f"{stored.event_type}: {reason}" if reason else stored.event_type
        self._write(record)
        return record

    def _new_revision(self, record, stored: StoredEvent, *, registers: bool):
        """A content event: a new draft revision, written by the actor."""
        record.revision = 1 if registers else record.revision + 1
        record.status = Status.DRAFT
        authors = set(record.revision_authors or [])
        authors.add(stored.actor_id)
        record.revision_authors = sorted(authors)
        self._status_changed(record, stored, stored.reason)
        return self._save(record, stored, registers=registers)

    def _status_changed(self, record, stored: StoredEvent, why: str) -> None:
        record.status_reason = why
        record.status_changed_at = stored.recorded_at
        record.status_changed_by_id = self._actor_id(stored)

    @singledispatchmethod
    def handle(self, event, stored):
        raise TypeError(f"no projection for {type(event).__name__}")

    # --- sources -------------------------------------------------------------------------------

    @staticmethod
    def _fill_source(source: Source, event) -> None:
        for field in Source.CONTENT_FIELDS:
            if field != "accessed":
                setattr(source, field, getattr(event, field))
        source.accessed = _day(event.accessed, "accessed") if event.accessed else None

    @handle.register
    def _(self, event: ev.SourceRegistered, stored):
        source = self._new_record(Source, id=event.source_id)
        self._fill_source(source, event)
        return self._new_revision(source, stored, registers=True)

    @handle.register
    def _(self, event: ev.SourceRevised, stored):
        source = self._get(Source, event.source_id)
        self._fill_source(source, event)
        return self._new_revision(source, stored, registers=False)

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
        subject = self._new_record(Subject, id=event.subject_id)
        self._fill_subject(subject, event)
        return self._new_revision(subject, stored, registers=True)

    @handle.register
    def _(self, event: ev.SubjectRevised, stored):
        subject = self._get(Subject, event.subject_id)
        self._fill_subject(subject, event)
        return self._new_revision(subject, stored, registers=False)

    # --- properties ----------------------------------------------------------------------------

    @handle.register
    def _(self, event: ev.PropertyDefined, stored):
        prop = self._new_record(
            Property,
            id=event.property_id,
            key=event.key,
            label=event.label,
            value_type=event.value_type,
            unit=event.unit,
            count=event.count,
            multivalued=event.multivalued,
        )
        return self._save(prop, stored, registers=True)

    # --- claims --------------------------------------------------------------------------------

    @staticmethod
    def _fill_claim(claim: Claim, event) -> None:
        value, citation = event.value, event.citation
        claim.value = value
        claim.value_type = value["type"]
        claim.original_wording = value["original"]
        claim.quantity_best = _number(value, "best")
        claim.quantity_lower = _number(value, "lower")
        claim.quantity_upper = _number(value, "upper")
        claim.quantity_approximate = value.get("approximate")
        claim.unit = value.get("unit", "")
        claim.date_edtf = value.get("edtf", "")
        claim.date_earliest = _day(value.get("earliest"), "value.earliest")
        claim.date_latest = _day(value.get("latest"), "value.latest")
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
        fact = self._find(Fact, fact_id)
        if fact is None:
            fact = self._new_record(
                Fact, id=fact_id, subject_id=subject_id, property_id=property_id
            )
            self._save(fact, stored, registers=True)
        return fact

    @handle.register
    def _(self, event: ev.ClaimRegistered, stored):
        claim = self._new_record(
            Claim,
            id=event.claim_id,
            fact_id=self._fact(event.subject_id, event.property_id, stored).pk,
            subject_id=event.subject_id,
            property_id=event.property_id,
        )
        self._fill_claim(claim, event)
        return self._new_revision(claim, stored, registers=True)

    @handle.register
    def _(self, event: ev.ClaimRevised, stored):
        claim = self._get(Claim, event.claim_id)
        self._fill_claim(claim, event)
        return self._new_revision(claim, stored, registers=False)

    # --- review --------------------------------------------------------------------------------

    def _review_step(self, event: ev.ReviewEvent, stored, status: str, why: str = "", record=None):
        if record is None:
            record = self._get(WORKING_MODELS[event.record_type], event.record_id)
        record.status = status
        self._status_changed(record, stored, why)
        # Review comments never reach history rows: history is shown beyond the review team.
        return self._save(record, stored, reason="")

    def _comment(self, event: ev.ReviewEvent, stored, kind: str, text: str) -> None:
        # Its columns, not a model instance: building one costs more than the rest of the
        # handler, and a replay writes one per review event.
        self._insert_comment(
            {
                "position": stored.position,
                "record_type": event.record_type,
                "record_id": event.record_id,
                "revision": event.revision,
                "kind": kind,
                "text": text,
                "author_id": self._actor_id(stored),
                "created_at": stored.recorded_at,
            }
        )

    @handle.register
    def _(self, event: ev.SubmittedForReview, stored):
        return self._review_step(event, stored, Status.IN_REVIEW)

    @handle.register
    def _(self, event: ev.SubmissionWithdrawn, stored):
        return self._review_step(event, stored, Status.DRAFT, "withdrawn from review")

    @handle.register
    def _(self, event: ev.ChangesRequested, stored):
        self._comment(event, stored, "changes_requested", event.comment)
        return self._review_step(event, stored, Status.CHANGES_REQUESTED, event.comment)

    @handle.register
    def _(self, event: ev.RevisionRejected, stored):
        self._comment(event, stored, "rejected", event.comment)
        return self._review_step(event, stored, Status.REJECTED, event.comment)

    @handle.register
    def _(self, event: ev.CommentAdded, stored):
        self._comment(event, stored, "comment", event.text)
        # The status stays; the record's version still follows its stream.
        record = self._get(WORKING_MODELS[event.record_type], event.record_id)
        return self._save(record, stored, reason="")

    @handle.register
    def _(self, event: ev.RevisionApproved, stored):
        self._comment(event, stored, "approved", "")
        record = self._get(WORKING_MODELS[event.record_type], event.record_id)
        record.published_revision = event.revision
        record.revision_authors = []
        self._review_step(event, stored, Status.PUBLISHED, "approved", record=record)
        published_model = PUBLISHED_MODELS[event.record_type]
        published = self._find(published_model, record.pk) or self._new_record(
            published_model, id=record.pk
        )
        for field in record.CONTENT_FIELDS:
            setattr(published, field, getattr(record, field))
        published.revision = event.revision
        published.published_at = stored.recorded_at
        published.published_position = stored.position
        self._save(published, stored, reason="")
        return record

    # --- published claims ----------------------------------------------------------------------

    @handle.register
    def _(self, event: ev.ClaimRetracted, stored):
        claim = self._get(Claim, event.claim_id)
        claim.status = Status.RETRACTED
        self._status_changed(claim, stored, event.reason)
        self._save(claim, stored)
        published = self._get(PublishedClaim, event.claim_id)
        published.status = PublicStatus.RETRACTED
        published.retracted_at = stored.recorded_at
        published.retraction_reason = event.reason
        self._save(published, stored)
        return claim

    @handle.register
    def _(self, event: ev.ClaimRanked, stored):
        for model in (Claim, PublishedClaim):
            record = self._get(model, event.claim_id)
            record.rank, record.rank_reason = event.rank, event.reason
            self._save(record, stored)
        return self._get(Claim, event.claim_id)


# The commands store numbers and days normalised; one that is not, in an event from elsewhere
# (a forged restore), is refused naming its field.


def _number(value: dict, name: str) -> Decimal | None:
    text = value.get(name)
    try:
        return None if text is None else Decimal(text)
    except (ArithmeticError, TypeError, ValueError):
        raise ValueError(f"value.{name} must be a decimal number, not {text!r}") from None


def _day(text: str | None, name: str) -> date | None:
    try:
        return None if text is None else date.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an ISO 8601 day, not {text!r}") from None
