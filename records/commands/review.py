"""The review workflow's commands: submit, withdraw, decide, comment; retract and rank claims.

Decisions name the exact revision the reviewer saw (``revision``); if the record has moved on,
the decision is refused as stale. The rules of who may do what live in records.workflow.
"""

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
    record_events,
    review_state,
)
from records.event_store import lock_log
from records.models import (
    Claim,
    PublishedClaim,
    PublishedSource,
    PublishedSubject,
    Source,
    Subject,
)
from records.models.projections import Rank, Status
from records.validation import REQUIRED, Errors
from records.values import quote_stands

RECORD_MODELS = {"source": Source, "subject": Subject, "claim": Claim}
UNKNOWN_RECORD_TYPE = "{value!r} is not one of: source, subject, claim."
NEEDS_PUBLISHED = "Approve its {what} first: a published claim must cite published records."
QUOTE_NOT_PUBLISHED = (
    "The quote is not in the published text of its source: approve the source's revision "
    "that holds it first."
)
PUBLISHED_QUOTES_BROKEN = (
    "{count} published claim(s) quote passages this revision's text no longer holds: {ids}. "
    "Revise those claims first."
)
SAME_RANK = "This claim is already {rank}."
NOT_A_REVISION = "Expected a revision number (a whole number), not {value!r}."


def _load_reviewable(record_type: str, record_id):
    if record_type not in RECORD_MODELS:
        errors = Errors()
        errors.add("record_type", UNKNOWN_RECORD_TYPE.format(value=record_type))
        errors.raise_if_any()
    record = load(RECORD_MODELS[record_type], record_id, record_type)
    return record, review_state(record, record_type)


def _append(record, *events, actor, reason="", event_id=None):
    """Review events are checked against the state loaded in this transaction, which the
    record's version pins: a concurrent change makes the append a ConcurrencyError."""
    record_events(
        stream_id=record.pk,
        events=list(events),
        expected_version=record.version,
        actor=actor,
        reason=reason,
        event_id=event_id,
    )
    record.refresh_from_db()
    return record


@idempotent
def submit_for_review(
    *, record_type: str, record_id: uuid.UUID, actor, event_id: uuid.UUID | None = None
):
    """Put a draft revision in the reviewers' queue."""
    check_actor(actor)
    with transaction.atomic():
        if is_retry(event_id, record_id):
            return load(RECORD_MODELS[record_type], record_id, record_type)
        record, state = _load_reviewable(record_type, record_id)
        workflow.check_can_submit(state, actor)
        event = ev.SubmittedForReview(
            record_type=record_type, record_id=str(record.pk), revision=state.revision
        )
        return _append(record, event, actor=actor, event_id=event_id)


@idempotent
def withdraw_submission(
    *, record_type: str, record_id: uuid.UUID, actor, event_id: uuid.UUID | None = None
):
    """Take a revision out of review, back to draft, to change it."""
    check_actor(actor)
    with transaction.atomic():
        if is_retry(event_id, record_id):
            return load(RECORD_MODELS[record_type], record_id, record_type)
        record, state = _load_reviewable(record_type, record_id)
        workflow.check_can_withdraw(state, actor)
        event = ev.SubmissionWithdrawn(
            record_type=record_type, record_id=str(record.pk), revision=state.revision
        )
        return _append(record, event, actor=actor, event_id=event_id)


def _check_cited_records_published(claim: Claim) -> None:
    missing = []
    if not PublishedSource.objects.filter(pk=claim.source_id).exists():
        missing.append("source")
    if not PublishedSubject.objects.filter(pk=claim.subject_id).exists():
        missing.append("subject")
    if (
        claim.subject_value_id
        and not PublishedSubject.objects.filter(pk=claim.subject_value_id).exists()
    ):
        missing.append("value's subject")
    if missing:
        raise workflow.WrongState(NEEDS_PUBLISHED.format(what=" and ".join(missing)))
    # The quote was checked against the source's working text, which may be a draft (even an
    # empty one): the public must find it in the text they can read.
    published_text = PublishedSource.objects.get(pk=claim.source_id).full_text
    if not quote_stands(claim, published_text):
        raise workflow.WrongState(QUOTE_NOT_PUBLISHED)


def _check_published_quotes_survive(source: Source) -> None:
    """Approving a source revision publishes its text: every published claim citing the source
    must still find its quote there."""
    broken = [
        str(claim.pk)
        for claim in PublishedClaim.objects.filter(source_id=source.pk).only(
            "id", "quote", "quote_start", "quote_end"
        )
        if not quote_stands(claim, source.full_text)
    ]
    if broken:
        raise workflow.WrongState(
            PUBLISHED_QUOTES_BROKEN.format(count=len(broken), ids=", ".join(broken))
        )


def _decide(event_class, *, record_type, record_id, revision, comment, actor, event_id, action):
    check_actor(actor)
    # The decision stores the revision as given: a whole number, never true or 1.0 (which
    # compare equal to 1, and which a restore would rightly refuse to read back). A number that
    # is not the revision in review is refused as stale.
    if type(revision) is not int:
        errors = Errors()
        errors.add("revision", NOT_A_REVISION.format(value=revision))
        errors.raise_if_any()
    with transaction.atomic():
        if is_retry(event_id, record_id):
            return load(RECORD_MODELS[record_type], record_id, record_type)
        record, state = _load_reviewable(record_type, record_id)
        workflow.check_can_decide(state, actor, revision=revision, action=action)
        errors = Errors()
        comment = errors.text("comment", comment, limit_key="reason")
        if event_class is not ev.RevisionApproved and not comment:
            errors.add("comment", REQUIRED)  # the archivist needs to know why
        errors.raise_if_any()
        if event_class is ev.RevisionApproved:
            if record_type == "claim":
                _check_cited_records_published(record)
            if record_type == "source":
                _check_published_quotes_survive(record)
            # The approval itself is public (the change feed shows it); its comment is not, so
            # it travels as a review comment just before.
            approval = event_class(
                record_type=record_type, record_id=str(record.pk), revision=revision
            )
            events = [approval]
            if comment:
                comment_event = ev.CommentAdded(
                    record_type=record_type,
                    record_id=str(record.pk),
                    revision=revision,
                    text=comment,
                )
                events = [comment_event, approval]
            return _append(record, *events, actor=actor, event_id=event_id)
        event = event_class(
            record_type=record_type, record_id=str(record.pk), revision=revision, comment=comment
        )
        return _append(record, event, actor=actor, event_id=event_id)


@idempotent
def approve_revision(
    *,
    record_type: str,
    record_id: uuid.UUID,
    revision: int,
    comment: str = "",
    actor,
    event_id: uuid.UUID | None = None,
):
    """Publish exactly ``revision``: it replaces the previously published revision."""
    return _decide(
        ev.RevisionApproved,
        record_type=record_type,
        record_id=record_id,
        revision=revision,
        comment=comment,
        actor=actor,
        event_id=event_id,
        action="approve revisions",
    )


@idempotent
def request_changes(
    *,
    record_type: str,
    record_id: uuid.UUID,
    revision: int,
    comment: str,
    actor,
    event_id: uuid.UUID | None = None,
):
    """Send ``revision`` back to the archivists with what to change."""
    return _decide(
        ev.ChangesRequested,
        record_type=record_type,
        record_id=record_id,
        revision=revision,
        comment=comment,
        actor=actor,
        event_id=event_id,
        action="request changes",
    )


@idempotent
def reject_revision(
    *,
    record_type: str,
    record_id: uuid.UUID,
    revision: int,
    comment: str,
    actor,
    event_id: uuid.UUID | None = None,
):
    """Refuse ``revision`` for good; a published revision, if any, stays public."""
    return _decide(
        ev.RevisionRejected,
        record_type=record_type,
        record_id=record_id,
        revision=revision,
        comment=comment,
        actor=actor,
        event_id=event_id,
        action="reject revisions",
    )


@idempotent
def add_review_comment(
    *, record_type: str, record_id: uuid.UUID, text: str, actor, event_id: uuid.UUID | None = None
):
    """A comment for the review team on the record's current revision; never public."""
    check_actor(actor)
    workflow.check_can_comment(actor)
    errors = Errors()
    text = errors.text("text", text, required=True, limit_key="note")
    errors.raise_if_any()
    with transaction.atomic():
        if is_retry(event_id, record_id):
            return load(RECORD_MODELS[record_type], record_id, record_type)
        record, state = _load_reviewable(record_type, record_id)
        event = ev.CommentAdded(
            record_type=record_type, record_id=str(record.pk), revision=state.revision, text=text
        )
        return _append(record, event, actor=actor, event_id=event_id)


@idempotent
def retract_claim(*, claim_id: uuid.UUID, reason: str, actor, event_id: uuid.UUID | None = None):
    """Withdraw a published claim from the record. The public sees it as retracted, with the
    reason and date, never silently gone."""
    check_actor(actor)
    with transaction.atomic():
        if is_retry(event_id, claim_id):
            return load(Claim, claim_id, "claim")
        claim, state = _load_reviewable("claim", claim_id)
        workflow.check_can_change_published_claim(
            state, actor, action="retract claims", done="retracted"
        )
        errors = Errors()
        reason = errors.text("reason", reason, required=True)
        errors.raise_if_any()
        event = ev.ClaimRetracted(claim_id=str(claim.pk), reason=reason)
        return _append(claim, event, actor=actor, reason=reason, event_id=event_id)


@idempotent
def rank_claim(
    *, claim_id: uuid.UUID, rank: str, reason: str, actor, event_id: uuid.UUID | None = None
):
    """Set a published claim's rank. A fact has at most one preferred claim: choosing a new one
    demotes the old to normal, and both changes are recorded as events."""
    check_actor(actor)
    with transaction.atomic():
        # "One preferred claim per fact" spans the fact's claims, not one stream, so the
        # version check alone cannot keep two concurrent preferences apart: read under the
        # append lock, so a rival ranking either committed before this reads or waits for it.
        lock_log()
        if is_retry(event_id, claim_id):
            return load(Claim, claim_id, "claim")
        claim, state = _load_reviewable("claim", claim_id)
        workflow.check_can_change_published_claim(state, actor, action="rank claims", done="ranked")
        errors = Errors()
        rank = errors.choice("rank", rank, Rank.values)
        reason = errors.text("reason", reason, required=True)
        if rank and rank == claim.rank:
            errors.add("rank", SAME_RANK.format(rank=rank))
        errors.raise_if_any()
        if rank == Rank.PREFERRED:
            # A retracted claim keeps the rank it had when it was withdrawn: it is final.
            preferred = Claim.objects.filter(fact=claim.fact_id, rank=Rank.PREFERRED).exclude(
                status=Status.RETRACTED
            )
            for previous in preferred:
                demotion = ev.ClaimRanked(
                    claim_id=str(previous.pk),
                    rank=Rank.NORMAL,
                    reason=f"Claim {claim.pk} was preferred instead: {reason}",
                )
                _append(
                    previous,
                    demotion,
                    actor=actor,
                    reason=demotion.reason,
                    event_id=uuid.uuid5(event_id, "demotion") if event_id else None,
                )
        event = ev.ClaimRanked(claim_id=str(claim.pk), rank=rank, reason=reason)
        return _append(claim, event, actor=actor, reason=reason, event_id=event_id)


__all__ = [
    "add_review_comment",
    "approve_revision",
    "rank_claim",
    "reject_revision",
    "request_changes",
    "retract_claim",
    "submit_for_review",
    "withdraw_submission",
]
