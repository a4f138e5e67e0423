"""The review lifecycle and the rules of who may do what. Pure Python: no database access.

    register / revise ─► draft ──submit──► in review ──approve──► published
                           ▲  ◄──withdraw──┘   │  │
                           │                   │  └──reject──► rejected (final)
                           └──revise── changes requested ◄──request changes

Revising a published record starts a new draft revision; the approved revision stays public
until a newer one is approved. A reviewer may retract a published claim (final) and rank it.
"""

from __future__ import annotations

from dataclasses import dataclass

from records.models.projections import Status


class WorkflowError(Exception):
    """A command refused by the workflow: wrong role, wrong state, stale or self-review."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class RoleRequired(WorkflowError):
    pass


class WrongState(WorkflowError):
    pass


class StaleRevision(WorkflowError):
    pass


class FourEyes(WorkflowError):
    pass


# The roles, as Django groups (created by a data migration) granting these permissions.
ARCHIVIST, REVIEWER, ADMINISTRATOR = "Archivist", "Reviewer", "Administrator"
AUTHOR = "records.author_records"
REVIEW = "records.review_records"
COMMENT = "records.comment_records"

NEEDS_AUTHOR = "Only archivists can {action}; {user} is not one."
NEEDS_REVIEWER = "Only reviewers can {action}; {user} is not one."
NEEDS_COMMENTER = "Only archivists and reviewers can comment; {user} is neither."
CANNOT_REVISE = "This {kind} is {status}; it cannot be revised{hint}."
CANNOT_SUBMIT = "Only a draft can be submitted; this {kind} is {status}."
CANNOT_WITHDRAW = "Only a {kind} in review can be withdrawn; this one is {status}."
CANNOT_DECIDE = "Only a {kind} in review can be decided on; this one is {status}."
STALE = (
    "You reviewed revision {seen}, but this {kind} is now at revision {current}; "
    "review the current revision."
)
OWN_WORK = (
    "You wrote part of revision {revision} of this {kind}, so you cannot decide on it: "
    "another reviewer must (four eyes)."
)
NOT_PUBLISHED = "Only a published claim can be {action}; this one is {status}."
ALREADY_RETRACTED = "This claim is retracted; it cannot be {action}."


@dataclass(frozen=True)
class ReviewState:
    kind: str  # source, subject, claim
    status: str
    revision: int
    published_revision: int | None
    revision_authors: frozenset[int]

    @property
    def status_label(self) -> str:
        return Status(self.status).label.lower()


def _user(actor) -> str:
    return getattr(actor, "username", None) or "this account"


def _require(actor, permission: str, template: str, action: str) -> None:
    if not actor.has_perm(permission):
        raise RoleRequired(template.format(action=action, user=_user(actor)))


def check_can_author(actor, action: str) -> None:
    _require(actor, AUTHOR, NEEDS_AUTHOR, action)


def check_can_revise(state: ReviewState, actor) -> None:
    check_can_author(actor, f"revise a {state.kind}")
    if state.status == Status.IN_REVIEW:
        raise WrongState(
            CANNOT_REVISE.format(
                kind=state.kind, status=state.status_label, hint=" until it is withdrawn"
            )
        )
    if state.status in (Status.REJECTED, Status.RETRACTED):
        raise WrongState(CANNOT_REVISE.format(kind=state.kind, status=state.status_label, hint=""))


def check_can_submit(state: ReviewState, actor) -> None:
    check_can_author(actor, f"submit a {state.kind} for review")
    if state.status != Status.DRAFT:
        raise WrongState(CANNOT_SUBMIT.format(kind=state.kind, status=state.status_label))


def check_can_withdraw(state: ReviewState, actor) -> None:
    check_can_author(actor, f"withdraw a {state.kind} from review")
    if state.status != Status.IN_REVIEW:
        raise WrongState(CANNOT_WITHDRAW.format(kind=state.kind, status=state.status_label))


def check_can_decide(state: ReviewState, actor, *, revision: int, action: str) -> None:
    """Approve, reject or request changes: a reviewer, on the exact revision in review, that
    they wrote no part of."""
    _require(actor, REVIEW, NEEDS_REVIEWER, action)
    if state.status != Status.IN_REVIEW:
        raise WrongState(CANNOT_DECIDE.format(kind=state.kind, status=state.status_label))
    if revision != state.revision:
        raise StaleRevision(STALE.format(seen=revision, current=state.revision, kind=state.kind))
    if actor.pk in state.revision_authors:
        raise FourEyes(OWN_WORK.format(revision=state.revision, kind=state.kind))


def check_can_change_published_claim(state: ReviewState, actor, *, action: str, done: str):
    """Retract or rank (``action``: "retract claims"; ``done``: "retracted"): a reviewer, on a
    claim that has a published revision and is not retracted."""
    _require(actor, REVIEW, NEEDS_REVIEWER, action)
    if state.status == Status.RETRACTED:
        raise WrongState(ALREADY_RETRACTED.format(action=done))
    if state.published_revision is None:
        raise WrongState(NOT_PUBLISHED.format(action=done, status=state.status_label))


def check_can_comment(actor) -> None:
    if not actor.has_perm(COMMENT):
        raise RoleRequired(NEEDS_COMMENTER.format(user=_user(actor)))
