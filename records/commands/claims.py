"""Register and revise claims: one answer to a fact (subject · property), from one citation."""

from __future__ import annotations

import uuid

from django.db import transaction

from records import events as ev
from records import workflow
from records.commands.base import (
    check_actor,
    existing,
    idempotent,
    is_retry,
    load,
    record_event,
    registered_before,
    review_state,
)
from records.event_store import NO_STREAM
from records.models import Claim, Property, Subject
from records.validation import NOTHING_CHANGED, Errors
from records.values import DATABASE, References, normalise_citation, normalise_value


def claim_fields(
    errors: Errors, prop, value, citation, attributed_to, note, refs: References = DATABASE
) -> dict:
    """A claim's content as the commands check it. ``refs`` answers the lookups of sources and
    subjects (one query each by default; a bulk import answers them from memory)."""
    return {
        "value": normalise_value(errors, value, prop, refs) if prop is not None else {},
        "citation": normalise_citation(errors, citation, refs),
        "attributed_to": errors.text("attributed_to", attributed_to),
        "note": errors.text("note", note),
    }


def current_fields(claim) -> dict:
    """A claim's (or a published claim's) fields in the form register_claim takes them."""
    return {
        "value": claim.value,
        "citation": {
            "source_id": str(claim.source_id),
            "locator": claim.locator,
            "quote": claim.quote,
            "start": claim.quote_start,
            "end": claim.quote_end,
        },
        "attributed_to": claim.attributed_to,
        "note": claim.note,
    }


@idempotent
def register_claim(
    *,
    subject_id: uuid.UUID,
    property_id: uuid.UUID,
    value: dict,
    citation: dict,
    attributed_to: str = "",
    note: str = "",
    actor,
    claim_id: uuid.UUID | None = None,
    event_id: uuid.UUID | None = None,
    reason: str = "",
) -> Claim:
    """Register one answer to a fact, as a draft. Other claims for the same fact stay as they
    are: conflicting estimates stand side by side."""
    check_actor(actor)
    workflow.check_can_author(actor, "register claims")
    retried = registered_before(event_id, Claim)
    if retried is not None:
        return retried
    with transaction.atomic():
        errors = Errors()
        subject = existing(errors, Subject, subject_id, "subject")
        prop = existing(errors, Property, property_id, "property")
        fields = claim_fields(errors, prop, value, citation, attributed_to, note)
        reason = errors.text("reason", reason)
        errors.raise_if_any()
        return record_event(
            event=ev.ClaimRegistered(
                claim_id=str(claim_id or uuid.uuid4()),
                subject_id=str(subject.pk),
                property_id=str(prop.pk),
                **fields,
            ),
            model=Claim,
            expected_version=NO_STREAM,
            actor=actor,
            reason=reason,
            event_id=event_id,
        )


@idempotent
def revise_claim(
    *,
    claim_id: uuid.UUID,
    expected_version: int,
    value: dict,
    citation: dict,
    attributed_to: str = "",
    note: str = "",
    reason: str,
    actor,
    event_id: uuid.UUID | None = None,
) -> Claim:
    """Record a new draft revision of a claim's value, citation, attribution or note. A
    published revision stays public until the new one is approved."""
    check_actor(actor)
    with transaction.atomic():
        if is_retry(event_id, claim_id):
            return load(Claim, claim_id, "claim")
        claim = load(Claim, claim_id, "claim")
        workflow.check_can_revise(review_state(claim, "claim"), actor)
        errors = Errors()
        fields = claim_fields(errors, claim.property, value, citation, attributed_to, note)
        reason = errors.text("reason", reason, required=True)
        if not errors.messages and fields == current_fields(claim):
            errors.add("__all__", NOTHING_CHANGED)
        errors.raise_if_any()
        return record_event(
            event=ev.ClaimRevised(claim_id=str(claim.pk), **fields),
            model=Claim,
            expected_version=expected_version,
            actor=actor,
            reason=reason,
            event_id=event_id,
        )
