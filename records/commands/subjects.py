"""Register and revise subjects: what claims are about, with names in any language and script."""

from __future__ import annotations

import uuid

from django.db import transaction

from records import events as ev
from records import workflow
from records.commands.base import (
    check_actor,
    idempotent,
    is_retry,
    load,
    record_event,
    registered_before,
    review_state,
)
from records.event_store import NO_STREAM
from records.models import Subject
from records.models.projections import SubjectKind
from records.validation import NOTHING_CHANGED, Errors

NO_NAMES = "Give at least one name."
TWO_PRIMARY_NAMES = "Only one name can be the primary name."


def subject_fields(errors: Errors, kind, names) -> dict:
    kind = errors.choice("kind", kind, SubjectKind.values)
    clean_names = []
    if not isinstance(names, list | tuple) or not names:
        errors.add("names", NO_NAMES)
    else:
        for index, entry in enumerate(names):
            entry = entry if isinstance(entry, dict) else {"name": entry}
            clean_names.append(
                {
                    "name": errors.text(f"names.{index}.name", entry.get("name"), required=True),
                    "language": errors.text(
                        f"names.{index}.language", entry.get("language") or "und"
                    ),
                    "primary": bool(entry.get("primary", False)),
                }
            )
        if clean_names and not any(name["primary"] for name in clean_names):
            clean_names[0]["primary"] = True  # the first name given is the label by default
        if sum(name["primary"] for name in clean_names) > 1:
            errors.add("names", TWO_PRIMARY_NAMES)
    return {"kind": kind, "names": clean_names}


@idempotent
def register_subject(
    *,
    kind: str,
    names: list[dict],
    actor,
    subject_id: uuid.UUID | None = None,
    event_id: uuid.UUID | None = None,
    reason: str = "",
) -> Subject:
    """Register what claims are about, as a draft."""
    check_actor(actor)
    workflow.check_can_author(actor, "register subjects")
    retried = registered_before(event_id, Subject)
    if retried is not None:
        return retried
    errors = Errors()
    fields = subject_fields(errors, kind, names)
    reason = errors.text("reason", reason)
    errors.raise_if_any()
    with transaction.atomic():
        return record_event(
            event=ev.SubjectRegistered(subject_id=str(subject_id or uuid.uuid4()), **fields),
            model=Subject,
            expected_version=NO_STREAM,
            actor=actor,
            reason=reason,
            event_id=event_id,
        )


@idempotent
def revise_subject(
    *,
    subject_id: uuid.UUID,
    expected_version: int,
    kind: str,
    names: list[dict],
    reason: str,
    actor,
    event_id: uuid.UUID | None = None,
) -> Subject:
    """Record a new draft revision of a subject's kind or names."""
    check_actor(actor)
    with transaction.atomic():
        if is_retry(event_id, subject_id):
            return load(Subject, subject_id, "subject")
        subject = load(Subject, subject_id, "subject")
        workflow.check_can_revise(review_state(subject, "subject"), actor)
        errors = Errors()
        fields = subject_fields(errors, kind, names)
        reason = errors.text("reason", reason, required=True)
        if fields == {"kind": subject.kind, "names": subject.names}:
            errors.add("__all__", NOTHING_CHANGED)
        errors.raise_if_any()
        return record_event(
            event=ev.SubjectRevised(subject_id=str(subject.pk), **fields),
            model=Subject,
            expected_version=expected_version,
            actor=actor,
            reason=reason,
            event_id=event_id,
        )
