"""Every command × every role × every state, against a table written from the specification.

The expected outcomes below are written out by hand from the rules of who may do what, and in
which state; they are deliberately not computed from ``records.workflow``, so that a change to
the rules shows up here as a failing case rather than a silently moved expectation.

Each case builds its record through the commands: authored by a separate archivist, reviewed by
a separate reviewer, citing a published source and subject, so that none of the acting accounts
wrote the revision (four eyes is covered in test_workflow) and an approval can succeed.
"""

from __future__ import annotations

import pytest

from records import commands
from records.event_store import read_stream
from records.models import (
    Claim,
    Property,
    PublishedClaim,
    ReviewComment,
    Source,
    StoredEvent,
    Subject,
)
from records.models.projections import PublicStatus, Rank, Status
from records.workflow import (
    ADMINISTRATOR,
    ARCHIVIST,
    REVIEWER,
    RoleRequired,
    WorkflowError,
    WrongState,
)
from tests import factories
from tests.conftest import make_user

# --- the specification, as tables ---------------------------------------------------------------

# Role name -> the group it is given ("none": an active staff account in no group).
ROLE_GROUPS = {
    "archivist": ARCHIVIST,
    "reviewer": REVIEWER,
    "administrator": ADMINISTRATOR,
    "none": None,
}
ROLES = list(ROLE_GROUPS)

# Which roles may run each command, whatever the state. Any other role: RoleRequired.
MAY = {
    "register_source": {"archivist", "administrator"},
    "register_subject": {"archivist", "administrator"},
    "register_claim": {"archivist", "administrator"},
    "define_property": {"archivist", "administrator"},
    "revise_source": {"archivist", "administrator"},
    "revise_subject": {"archivist", "administrator"},
    "revise_claim": {"archivist", "administrator"},
    "submit_for_review": {"archivist", "administrator"},
    "withdraw_submission": {"archivist", "administrator"},
    "approve_revision": {"reviewer", "administrator"},
    "request_changes": {"reviewer", "administrator"},
    "reject_revision": {"reviewer", "administrator"},
    "retract_claim": {"reviewer", "administrator"},
    "rank_claim": {"reviewer", "administrator"},
    "add_review_comment": {"archivist", "reviewer", "administrator"},
}

# The states a claim record is built into (see ``build_state``), and the working status each
# leaves the claim in.
CLAIM_STATES = {
    "draft": Status.DRAFT,
    "in_review": Status.IN_REVIEW,
    "changes_requested": Status.CHANGES_REQUESTED,
    "published": Status.PUBLISHED,
    "published_with_draft": Status.DRAFT,  # revision 2 in draft, revision 1 still public
    "published_in_review": Status.IN_REVIEW,  # revision 2 in review, revision 1 still public
    "rejected": Status.REJECTED,
    "retracted": Status.RETRACTED,
}
# Sources and subjects are never retracted: they have every state but that one.
RECORD_STATES = {state: status for state, status in CLAIM_STATES.items() if state != "retracted"}

SAME = object()  # the record's status does not change


def ok(*event_types: str, status=SAME):
    """Allowed: ``event_types`` are appended to the record's stream, in this order, leaving it
    in ``status``."""
    return (list(event_types), status)


def revising(event_type: str) -> dict:
    """Revising a claim, source or subject: the same state rules, each with its own event."""
    return {
        "draft": ok(event_type, status=Status.DRAFT),
        "in_review": WrongState,
        "changes_requested": ok(event_type, status=Status.DRAFT),
        "published": ok(event_type, status=Status.DRAFT),
        "published_with_draft": ok(event_type, status=Status.DRAFT),
        "published_in_review": WrongState,
        "rejected": WrongState,
        "retracted": WrongState,
    }


# For an allowed role: command -> state -> the outcome, either ok(...) or the refusal raised.
DECIDE_REFUSED = {
    "draft": WrongState,
    "changes_requested": WrongState,
    "published": WrongState,
    "published_with_draft": WrongState,
    "rejected": WrongState,
    "retracted": WrongState,
}
PUBLISHED_CLAIM_ONLY = {
    "draft": WrongState,
    "in_review": WrongState,
    "changes_requested": WrongState,
    "rejected": WrongState,
    "retracted": WrongState,
}
CLAIM_OUTCOMES = {
    "revise_claim": revising("ClaimRevised"),
    "submit_for_review": {
        "draft": ok("SubmittedForReview", status=Status.IN_REVIEW),
        "in_review": WrongState,
        "changes_requested": WrongState,
        "published": WrongState,
        "published_with_draft": ok("SubmittedForReview", status=Status.IN_REVIEW),
        "published_in_review": WrongState,
        "rejected": WrongState,
        "retracted": WrongState,
    },
    "withdraw_submission": {
        "draft": WrongState,
        "in_review": ok("SubmissionWithdrawn", status=Status.DRAFT),
        "changes_requested": WrongState,
        "published": WrongState,
        "published_with_draft": WrongState,
        "published_in_review": ok("SubmissionWithdrawn", status=Status.DRAFT),
        "rejected": WrongState,
        "retracted": WrongState,
    },
    "approve_revision": {
        **DECIDE_REFUSED,
        # The approval's comment is recorded as a (non-public) review comment just before it.
        "in_review": ok("CommentAdded", "RevisionApproved", status=Status.PUBLISHED),
        "published_in_review": ok("CommentAdded", "RevisionApproved", status=Status.PUBLISHED),
    },
    "request_changes": {
        **DECIDE_REFUSED,
        "in_review": ok("ChangesRequested", status=Status.CHANGES_REQUESTED),
        "published_in_review": ok("ChangesRequested", status=Status.CHANGES_REQUESTED),
    },
    "reject_revision": {
        **DECIDE_REFUSED,
        "in_review": ok("RevisionRejected", status=Status.REJECTED),
        "published_in_review": ok("RevisionRejected", status=Status.REJECTED),
    },
    "retract_claim": {
        **PUBLISHED_CLAIM_ONLY,
        "published": ok("ClaimRetracted", status=Status.RETRACTED),
        "published_with_draft": ok("ClaimRetracted", status=Status.RETRACTED),
        "published_in_review": ok("ClaimRetracted", status=Status.RETRACTED),
    },
    "rank_claim": {
        **PUBLISHED_CLAIM_ONLY,
        "published": ok("ClaimRanked"),
        "published_with_draft": ok("ClaimRanked"),
        "published_in_review": ok("ClaimRanked"),
    },
    "add_review_comment": {state: ok("CommentAdded") for state in CLAIM_STATES},
}
# Sources and subjects are never retracted: revising them is checked in every other state.
RECORD_OUTCOMES = {
    "revise_source": {
        state: outcome
        for state, outcome in revising("SourceRevised").items()
        if state in RECORD_STATES
    },
    "revise_subject": {
        state: outcome
        for state, outcome in revising("SubjectRevised").items()
        if state in RECORD_STATES
    },
}
# The commands with no record state: what each appends when allowed.
REGISTRATIONS = {
    "register_source": "SourceRegistered",
    "register_subject": "SubjectRegistered",
    "register_claim": "ClaimRegistered",
    "define_property": "PropertyDefined",
}


def test_the_tables_cover_every_command_and_state():
    assert set(MAY) == set(commands.__all__)
    assert set(CLAIM_OUTCOMES) | set(RECORD_OUTCOMES) | set(REGISTRATIONS) == set(MAY)
    for outcomes in CLAIM_OUTCOMES.values():
        assert set(outcomes) == set(CLAIM_STATES)
    for outcomes in RECORD_OUTCOMES.values():
        assert set(outcomes) == set(RECORD_STATES)


def expected(command: str, role: str, outcome):
    return outcome if role in MAY[command] else RoleRequired


def cases(table: dict, states: dict) -> list:
    return [
        pytest.param(
            command,
            role,
            state,
            expected(command, role, table[command][state]),
            id=f"{command}-{role}-{state}",
        )
        for command in table
        for role in ROLES
        for state in states
    ]


# --- building the world and the states ----------------------------------------------------------


@pytest.fixture
def people(db):
    """The record's author and reviewer, and one acting account per role, all distinct."""
    actors = {role: make_user(f"acting-{role}", group) for role, group in ROLE_GROUPS.items()}
    return {
        "author": make_user("author", ARCHIVIST),
        "setup_reviewer": make_user("setup-reviewer", REVIEWER),
        **actors,
    }


@pytest.fixture
def world(people):
    return factories.published_world(people["author"], people["setup_reviewer"])


def new_claim(world, author):
    return factories.deaths_claim(
        author, subject_record=world["subject"], prop=world["deaths"], src=world["source"]
    )


def new_source(world, author):
    return factories.source(author, title="Source under test")


def new_subject(world, author):
    return factories.subject(author, name="Subject under test")


NEW_RECORD = {"claim": new_claim, "source": new_source, "subject": new_subject}
MODEL = {"claim": Claim, "source": Source, "subject": Subject}


def revise(kind: str, record, actor, variant: str):
    """A new revision of ``record`` that changes something, and a reason: ``variant`` keeps the
    revision made while building a state apart from the one a case makes."""
    number = {"setup": 240000, "case": 123456}[variant]
    reason = f"{variant} revision"
    if kind == "claim":
        return commands.revise_claim(
            claim_id=record.pk,
            expected_version=record.version,
            value={"original": f"{number:,}", "best": number},
            citation={"source_id": record.source_id, "locator": "p. 2", "quote": record.quote},
            reason=reason,
            actor=actor,
        )
    if kind == "source":
        return commands.revise_source(
            source_id=record.pk,
            expected_version=record.version,
            title=f"Source, {variant} revision",
            full_text=record.full_text,
            licence=record.licence,
            reason=reason,
            actor=actor,
        )
    return commands.revise_subject(
        subject_id=record.pk,
        expected_version=record.version,
        kind=record.kind,
        names=[{"name": f"Subject, {variant} revision", "language": "en"}],
        reason=reason,
        actor=actor,
    )


def build_state(kind: str, state: str, world, author, reviewer):
    """A record of ``kind`` authored by ``author``, brought to ``state`` through the commands."""
    record = NEW_RECORD[kind](world, author)

    def submit():
        return commands.submit_for_review(record_type=kind, record_id=record.pk, actor=author)

    if state in ("published", "published_with_draft", "published_in_review", "retracted"):
        record = factories.publish(record, kind, author=author, reviewer=reviewer)
    if state in ("published_with_draft", "published_in_review"):
        record = revise(kind, record, author, "setup")
    if state in ("in_review", "changes_requested", "published_in_review", "rejected"):
        record = submit()
    if state == "changes_requested":
        record = commands.request_changes(
            record_type=kind,
            record_id=record.pk,
            revision=record.revision,
            comment="Check the figure.",
            actor=reviewer,
        )
    if state == "rejected":
        record = commands.reject_revision(
            record_type=kind,
            record_id=record.pk,
            revision=record.revision,
            comment="Misread.",
            actor=reviewer,
        )
    if state == "retracted":
        record = commands.retract_claim(claim_id=record.pk, reason="Misattributed.", actor=reviewer)
    record.refresh_from_db()
    assert record.status == CLAIM_STATES[state], "the state was not built as intended"
    return record


def run(command: str, kind: str, record, actor):
    """Run a command on ``record`` as ``actor``, with valid input: any refusal is the workflow's."""
    review = {"record_type": kind, "record_id": record.pk, "actor": actor}
    if command in ("revise_claim", "revise_source", "revise_subject"):
        return revise(kind, record, actor, "case")
    if command == "submit_for_review":
        return commands.submit_for_review(**review)
    if command == "withdraw_submission":
        return commands.withdraw_submission(**review)
    if command == "approve_revision":
        return commands.approve_revision(**review, revision=record.revision, comment="Checked.")
    if command == "request_changes":
        return commands.request_changes(**review, revision=record.revision, comment="Fix it.")
    if command == "reject_revision":
        return commands.reject_revision(**review, revision=record.revision, comment="Wrong.")
    if command == "add_review_comment":
        return commands.add_review_comment(**review, text="A note for the team.")
    if command == "retract_claim":
        return commands.retract_claim(claim_id=record.pk, reason="Disproved.", actor=actor)
    if command == "rank_claim":
        return commands.rank_claim(
            claim_id=record.pk, rank=Rank.DEPRECATED, reason="Superseded.", actor=actor
        )
    raise AssertionError(f"no way to run {command}")


def snapshot(record) -> tuple:
    record.refresh_from_db()
    fields = ["status", "version", "revision", "published_revision", "revision_authors"]
    if isinstance(record, Claim):
        fields.append("rank")
    return tuple(getattr(record, name) for name in fields)


def stored_counts() -> tuple[int, int]:
    return StoredEvent.objects.count(), ReviewComment.objects.count()


def check_case(kind: str, command: str, role: str, state: str, outcome, people, world):
    record = build_state(kind, state, world, people["author"], people["setup_reviewer"])
    actor = people[role]
    before, counts = snapshot(record), stored_counts()
    stream_before = [event.event_type for event in read_stream(record.pk)]

    if not isinstance(outcome, tuple):  # a refusal
        with pytest.raises(WorkflowError) as refused:
            run(command, kind, record, actor)
        assert refused.type is outcome, refused.value.message
        assert stored_counts() == counts  # nothing stored
        assert snapshot(record) == before
        return

    event_types, status = outcome
    result = run(command, kind, record, actor)
    assert result.pk == record.pk
    stream = read_stream(record.pk)
    assert [event.event_type for event in stream] == stream_before + event_types
    assert StoredEvent.objects.count() == counts[0] + len(event_types)
    assert {event.actor_id for event in stream[len(stream_before) :]} == {actor.pk}
    record.refresh_from_db()
    assert record.status == (CLAIM_STATES[state] if status is SAME else status)
    assert record.version == len(stream)  # the read model follows its stream

    old_revision, old_published, old_authors = before[2], before[3], before[4]
    if command.startswith("revise_"):
        assert record.revision == old_revision + 1
        assert record.published_revision == old_published
        assert record.revision_authors == sorted({*old_authors, actor.pk})
    elif command == "approve_revision":
        assert (record.revision, record.published_revision) == (old_revision, old_revision)
        assert record.revision_authors == []
    else:
        assert (record.revision, record.published_revision) == (old_revision, old_published)
    if command == "retract_claim":
        public = PublishedClaim.objects.get(pk=record.pk)
        assert public.status == PublicStatus.RETRACTED and public.retraction_reason == "Disproved."
    if command == "rank_claim":
        assert record.rank == Rank.DEPRECATED
        assert PublishedClaim.objects.get(pk=record.pk).rank == Rank.DEPRECATED


# --- the matrix ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "role", "state", "outcome"), cases(CLAIM_OUTCOMES, CLAIM_STATES)
)
def test_claim_commands(command, role, state, outcome, people, world):
    check_case("claim", command, role, state, outcome, people, world)


@pytest.mark.parametrize(
    ("command", "role", "state", "outcome"), cases(RECORD_OUTCOMES, RECORD_STATES)
)
def test_revising_sources_and_subjects(command, role, state, outcome, people):
    kind = command.removeprefix("revise_")  # a source or subject of its own: no world needed
    check_case(kind, command, role, state, outcome, people, world=None)


def register(command: str, world, actor):
    if command == "register_source":
        return factories.source(actor, title="Registered source")
    if command == "register_subject":
        return factories.subject(actor, name="Registered subject")
    if command == "register_claim":
        return new_claim(world, actor)
    if command == "define_property":
        return factories.date_property(actor, key="registered-date")
    raise AssertionError(f"no way to run {command}")


REGISTERED_MODEL = {
    "register_source": Source,
    "register_subject": Subject,
    "register_claim": Claim,
    "define_property": Property,
}


@pytest.mark.parametrize(
    ("command", "role", "outcome"),
    [
        pytest.param(
            command,
            role,
            expected(command, role, ok(event_type, status=Status.DRAFT)),
            id=f"{command}-{role}",
        )
        for command, event_type in REGISTRATIONS.items()
        for role in ROLES
    ],
)
def test_registrations(command, role, outcome, people, request):
    # A claim needs a published source and subject and a property to be registered against.
    world = request.getfixturevalue("world") if command == "register_claim" else None
    actor = people[role]
    model = REGISTERED_MODEL[command]
    counts, records = stored_counts(), model.objects.count()

    if not isinstance(outcome, tuple):
        with pytest.raises(WorkflowError) as refused:
            register(command, world, actor)
        assert refused.type is outcome, refused.value.message
        assert stored_counts() == counts
        assert model.objects.count() == records
        return

    [event_type], status = outcome
    record = register(command, world, actor)
    assert [(event.event_type, event.actor_id) for event in read_stream(record.pk)] == [
        (event_type, actor.pk)
    ]
    assert StoredEvent.objects.count() == counts[0] + 1
    assert model.objects.count() == records + 1
    assert record.version == 1 and record.registered_by == actor
    if model is not Property:  # properties are vocabulary: no review status
        assert (record.status, record.revision, record.revision_authors) == (
            status,
            1,
            [actor.pk],
        )
