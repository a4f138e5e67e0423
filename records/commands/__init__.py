"""Commands: the only write path. Each checks the actor's role and its input, appends events,
and projects them in the same transaction. Arguments are keyword-only and the acting user is
always explicit.

Every command accepts ``event_id``: a retried command with the same id is acknowledged and
stores nothing twice. Revisions state the version they were made against
(``expected_version``); if the record moved on, ``records.event_store.ConcurrencyError``.
Refusals: ``django.core.exceptions.ValidationError`` for bad input (naming each field), and
``records.workflow.WorkflowError`` for a wrong role or state, a stale decision or self-review.
"""

from records.commands.claims import register_claim, revise_claim
from records.commands.properties import define_property
from records.commands.review import (
    add_review_comment,
    approve_revision,
    rank_claim,
    reject_revision,
    request_changes,
    retract_claim,
    submit_for_review,
    withdraw_submission,
)
from records.commands.sources import register_source, revise_source
from records.commands.subjects import register_subject, revise_subject

__all__ = [
    "add_review_comment",
    "approve_revision",
    "define_property",
    "rank_claim",
    "register_claim",
    "register_source",
    "register_subject",
    "reject_revision",
    "request_changes",
    "retract_claim",
    "revise_claim",
    "revise_source",
    "revise_subject",
    "submit_for_review",
    "withdraw_submission",
]
