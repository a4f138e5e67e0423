"""The review workflow: exact-revision approval, four eyes, retraction, ranks and comments."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from records import commands, selectors
from records.commands.review import NOT_A_REVISION, PUBLISHED_QUOTES_BROKEN, QUOTE_NOT_PUBLISHED
from records.commands.sources import CITATIONS_BROKEN
from records.event_store import read_stream
from records.hashing import content_digest, digest
from records.models import Claim, PublishedClaim, ReviewComment, StoredEvent
from records.models.projections import PublicStatus, Rank, Status
from records.workflow import (
    CANNOT_REVISE,
    NEEDS_REVIEWER,
    OWN_WORK,
    STALE,
    FourEyes,
    RoleRequired,
    StaleRevision,
    WrongState,
)
from tests import factories
from tests.conftest import make_user


@pytest.fixture
def world(archivist, reviewer):
    return factories.published_world(archivist, reviewer)


@pytest.fixture
def claim(archivist, world):
    return factories.deaths_claim(
        archivist, subject_record=world["subject"], prop=world["deaths"], src=world["source"]
    )


def publish_other_estimate(archivist, reviewer, world):
    """A second published claim for the deaths fact, disagreeing with ``claim``."""
    other = factories.deaths_claim(
        archivist,
        subject_record=world["subject"],
        prop=world["deaths"],
        src=world["source"],
        best=200000,
        quote="Others say around 200,000 died.",
    )
    return factories.publish(other, "claim", author=archivist, reviewer=reviewer)


def event_types(record) -> list[str]:
    return [event.event_type for event in read_stream(record.pk)]


def revise(claim, actor, best, reason="new figure"):
    return commands.revise_claim(
        claim_id=claim.pk,
        expected_version=claim.version,
        value={"original": f"{best:,}", "best": best},
        citation={"source_id": claim.source_id, "quote": claim.quote},
        reason=reason,
        actor=actor,
    )


def test_the_lifecycle_from_draft_to_published(archivist, reviewer, claim):
    assert claim.status == Status.DRAFT and claim.revision == 1
    assert not selectors.published_claims().exists()

    claim = commands.submit_for_review(record_type="claim", record_id=claim.pk, actor=archivist)
    assert claim.status == Status.IN_REVIEW
    assert not selectors.published_claims().exists()

    claim = commands.approve_revision(
        record_type="claim", record_id=claim.pk, revision=1, comment="Checked.", actor=reviewer
    )
    assert (claim.status, claim.published_revision) == (Status.PUBLISHED, 1)
    [public] = selectors.published_claims()
    assert public.pk == claim.pk and public.revision == 1 and public.quantity_best == 250000
    assert event_types(claim) == [
        "ClaimRegistered",
        "SubmittedForReview",
        "CommentAdded",  # the approval's comment: for the team, not the public feed
        "RevisionApproved",
    ]
    approval = read_stream(claim.pk)[-1]
    assert approval.data == {"record_type": "claim", "record_id": str(claim.pk), "revision": 1}


def test_changes_requested_then_revised_and_resubmitted(archivist, reviewer, claim):
    commands.submit_for_review(record_type="claim", record_id=claim.pk, actor=archivist)
    claim = commands.request_changes(
        record_type="claim",
        record_id=claim.pk,
        revision=1,
        comment="Give the locator.",
        actor=reviewer,
    )
    assert claim.status == Status.CHANGES_REQUESTED
    assert claim.status_reason == "Give the locator."  # the archivist sees why
    assert claim.status_changed_by == reviewer
    claim = revise(claim, archivist, 250001)
    assert (claim.status, claim.revision) == (Status.DRAFT, 2)
    claim = commands.submit_for_review(record_type="claim", record_id=claim.pk, actor=archivist)
    assert claim.status == Status.IN_REVIEW


def test_withdrawing_a_submission_returns_it_to_draft(archivist, claim):
    commands.submit_for_review(record_type="claim", record_id=claim.pk, actor=archivist)
    with pytest.raises(WrongState, match=CANNOT_REVISE.split("{")[0]):
        revise(claim, archivist, 1)
    claim = commands.withdraw_submission(record_type="claim", record_id=claim.pk, actor=archivist)
    assert claim.status == Status.DRAFT
    assert revise(claim, archivist, 1).revision == 2


def test_a_rejected_claim_is_never_public_and_is_final(archivist, reviewer, claim):
    commands.submit_for_review(record_type="claim", record_id=claim.pk, actor=archivist)
    claim = commands.reject_revision(
        record_type="claim", record_id=claim.pk, revision=1, comment="Misread.", actor=reviewer
    )
    assert claim.status == Status.REJECTED
    assert not selectors.published_claims().exists()
    with pytest.raises(WrongState):
        revise(claim, archivist, 1)


def test_a_decision_on_a_revision_that_moved_on_is_refused_as_stale(archivist, reviewer, claim):
    commands.submit_for_review(record_type="claim", record_id=claim.pk, actor=archivist)
    claim = commands.withdraw_submission(record_type="claim", record_id=claim.pk, actor=archivist)
    claim = revise(claim, archivist, 260000)
    claim = commands.submit_for_review(record_type="claim", record_id=claim.pk, actor=archivist)
    version = claim.version
    with pytest.raises(StaleRevision) as refused:
        commands.approve_revision(
            record_type="claim", record_id=claim.pk, revision=1, actor=reviewer
        )
    assert refused.value.message == STALE.format(seen=1, current=2, kind="claim")
    claim.refresh_from_db()
    assert claim.version == version and claim.status == Status.IN_REVIEW


@pytest.mark.parametrize("revision", [True, 1.0, "1", None])
@pytest.mark.parametrize(
    "decide",
    [commands.approve_revision, commands.request_changes, commands.reject_revision],
    ids=lambda decide: decide.__name__,
)
def test_a_decision_names_its_revision_as_a_whole_number(
    archivist, reviewer, claim, decide, revision
):
    """True and 1.0 equal 1 in Python: taken, they would be stored as given, and a restore
    would refuse the event. Refused here instead, naming the field; nothing is stored."""
    commands.submit_for_review(record_type="claim", record_id=claim.pk, actor=archivist)
    events = StoredEvent.objects.count()
    with pytest.raises(ValidationError) as refused:
        decide(
            record_type="claim",
            record_id=claim.pk,
            revision=revision,
            comment="Why?",
            actor=reviewer,
        )
    assert refused.value.message_dict == {"revision": [NOT_A_REVISION.format(value=revision)]}
    assert StoredEvent.objects.count() == events


def test_revising_a_published_claim_keeps_the_approved_revision_public(archivist, reviewer, claim):
    claim = factories.publish(claim, "claim", author=archivist, reviewer=reviewer)
    claim = revise(claim, archivist, 300000)
    assert (claim.status, claim.revision, claim.published_revision) == (Status.DRAFT, 2, 1)
    [public] = selectors.published_claims()
    assert (public.revision, public.quantity_best) == (1, 250000)

    claim = commands.submit_for_review(record_type="claim", record_id=claim.pk, actor=archivist)
    [public] = selectors.published_claims()
    assert public.quantity_best == 250000

    commands.approve_revision(record_type="claim", record_id=claim.pk, revision=2, actor=reviewer)
    [public] = selectors.published_claims()
    assert (public.revision, public.quantity_best) == (2, 300000)


def test_the_author_cannot_approve_their_own_revision(archivist, reviewer, claim):
    """Four eyes, even for an account that is both archivist and reviewer."""
    both = make_user("both", "Archivist")
    both.groups.add(reviewer.groups.get())
    own = factories.deaths_claim(
        both,
        subject_record=claim.subject,
        prop=claim.property,
        src=claim.source,
        quote="Others say around 200,000 died.",
        best=200000,
    )
    commands.submit_for_review(record_type="claim", record_id=own.pk, actor=both)
    with pytest.raises(FourEyes) as refused:
        commands.approve_revision(record_type="claim", record_id=own.pk, revision=1, actor=both)
    assert refused.value.message == OWN_WORK.format(revision=1, kind="claim")
    assert event_types(own) == ["ClaimRegistered", "SubmittedForReview"]
    # The same account still reviews other people's work.
    commands.submit_for_review(record_type="claim", record_id=claim.pk, actor=archivist)
    commands.approve_revision(record_type="claim", record_id=claim.pk, revision=1, actor=both)


def test_anyone_who_wrote_part_of_the_revision_cannot_decide_on_it(archivist, reviewer, claim):
    co_author = make_user("co-author", "Archivist")
    co_author.groups.add(reviewer.groups.get())
    claim = revise(claim, co_author, 250500)
    commands.submit_for_review(record_type="claim", record_id=claim.pk, actor=archivist)
    with pytest.raises(FourEyes):
        commands.reject_revision(
            record_type="claim", record_id=claim.pk, revision=2, comment="no", actor=co_author
        )
    with pytest.raises(FourEyes):
        commands.request_changes(
            record_type="claim", record_id=claim.pk, revision=2, comment="no", actor=co_author
        )


def test_a_claim_citing_an_unpublished_source_cannot_be_approved(archivist, reviewer, world):
    draft_source = factories.source(archivist, title="Unreviewed")
    claim = factories.deaths_claim(
        archivist, subject_record=world["subject"], prop=world["deaths"], src=draft_source
    )
    commands.submit_for_review(record_type="claim", record_id=claim.pk, actor=archivist)
    with pytest.raises(WrongState, match="Approve its source first"):
        commands.approve_revision(
            record_type="claim", record_id=claim.pk, revision=1, actor=reviewer
        )


def test_a_retracted_claim_stays_visible_as_retracted(archivist, reviewer, claim):
    claim = factories.publish(claim, "claim", author=archivist, reviewer=reviewer)
    commands.retract_claim(claim_id=claim.pk, reason="The source misquotes.", actor=reviewer)
    [public] = selectors.published_claims()
    assert public.status == PublicStatus.RETRACTED
    assert public.retraction_reason == "The source misquotes."
    assert public.retracted_at == read_stream(claim.pk)[-1].recorded_at
    summary = selectors.fact_summary(claim.fact_id)
    assert summary.claims == 0


def test_only_reviewers_retract(archivist, reviewer, claim):
    claim = factories.publish(claim, "claim", author=archivist, reviewer=reviewer)
    with pytest.raises(RoleRequired) as refused:
        commands.retract_claim(claim_id=claim.pk, reason="mine", actor=archivist)
    assert refused.value.message == NEEDS_REVIEWER.format(action="retract claims", user="archivist")


def test_a_fact_has_at_most_one_preferred_claim(archivist, reviewer, world, claim):
    first = factories.publish(claim, "claim", author=archivist, reviewer=reviewer)
    second = publish_other_estimate(archivist, reviewer, world)
    commands.rank_claim(claim_id=first.pk, rank="preferred", reason="Official", actor=reviewer)
    commands.rank_claim(claim_id=second.pk, rank="preferred", reason="Newer", actor=reviewer)

    ranks = {c.pk: c.rank for c in selectors.published_claims()}
    assert ranks == {first.pk: Rank.NORMAL, second.pk: Rank.PREFERRED}
    assert event_types(first)[-2:] == ["ClaimRanked", "ClaimRanked"]
    demotion = read_stream(first.pk)[-1]
    assert demotion.data["rank"] == "normal" and "Newer" in demotion.data["reason"]
    assert selectors.fact_summary(first.fact_id).preferred_claim_id == second.pk


def test_a_deprecated_claim_stays_visible_and_ends_a_dispute(archivist, reviewer, world, claim):
    first = factories.publish(claim, "claim", author=archivist, reviewer=reviewer)
    outlier = publish_other_estimate(archivist, reviewer, world)
    assert selectors.fact_summary(first.fact_id).disputed
    commands.rank_claim(claim_id=outlier.pk, rank="deprecated", reason="Unsourced", actor=reviewer)
    summary = selectors.fact_summary(first.fact_id)
    assert not summary.disputed and summary.claims == 2
    assert {c.rank for c in selectors.published_claims()} == {Rank.NORMAL, Rank.DEPRECATED}


def test_review_comments_are_events_seen_by_the_team_only(archivist, reviewer, claim):
    commands.add_review_comment(
        record_type="claim", record_id=claim.pk, text="Is this the final toll?", actor=reviewer
    )
    commands.add_review_comment(
        record_type="claim", record_id=claim.pk, text="It is the estimate.", actor=archivist
    )
    assert event_types(claim)[-2:] == ["CommentAdded", "CommentAdded"]
    comments = ReviewComment.objects.filter(record_id=claim.pk)
    assert [c.author.username for c in comments] == ["reviewer", "archivist"]
    factories.publish(claim, "claim", author=archivist, reviewer=reviewer)
    history = selectors.published_history("claim", claim.pk)
    assert all("final toll" not in (entry.change or "") for entry in history)
    assert not hasattr(PublishedClaim, "comments")


def test_a_retried_decision_is_acknowledged_once(archivist, reviewer, claim):
    import uuid

    commands.submit_for_review(record_type="claim", record_id=claim.pk, actor=archivist)
    event_id = uuid.uuid4()
    for _ in range(2):
        commands.approve_revision(
            record_type="claim", record_id=claim.pk, revision=1, actor=reviewer, event_id=event_id
        )
    assert event_types(claim).count("RevisionApproved") == 1


def test_a_feed_reader_cannot_confirm_a_guessed_approval_comment(archivist, reviewer, claim):
    """The approval is public and its comment is not, yet they are stored together. Were their
    metadata alike, the approval's metadata digest and a guessed comment would reproduce the
    comment event's content digest; each event's own nonce prevents that."""
    commands.submit_for_review(record_type="claim", record_id=claim.pk, actor=archivist)
    commands.approve_revision(
        record_type="claim", record_id=claim.pk, revision=1, comment="Checked.", actor=reviewer
    )
    comment_event, approval_event = read_stream(claim.pk)[-2:]
    feed = {entry.position: entry for entry in selectors.change_feed().entries}
    approval = feed[approval_event.position].event
    hidden = feed[comment_event.position]
    assert not hidden.public
    guess = content_digest(
        stream_id=approval["stream_id"],
        stream_type="claim",
        version=approval["version"] - 1,
        event_type="CommentAdded",
        schema_version=1,
        data={
            "record_type": "claim",
            "record_id": str(claim.pk),
            "revision": 1,
            "text": "Checked.",
        },
        metadata_digest=approval["metadata_digest"],
        recorded_at=comment_event.recorded_at,
    )
    assert guess != hidden.content_digest
    # The guess is right in every part but the metadata: with it, the digest is reproduced.
    assert comment_event.data == {
        "record_type": "claim",
        "record_id": str(claim.pk),
        "revision": 1,
        "text": "Checked.",
    }
    assert hidden.content_digest == content_digest(
        stream_id=approval["stream_id"],
        stream_type="claim",
        version=approval["version"] - 1,
        event_type="CommentAdded",
        schema_version=1,
        data=comment_event.data,
        metadata_digest=digest(comment_event.metadata),
        recorded_at=comment_event.recorded_at,
    )


def test_a_quote_found_only_in_a_draft_of_the_source_cannot_be_approved(
    archivist, other_archivist, reviewer, world
):
    source = world["source"]
    added = "A later survey counted 260,000 dead."
    source = commands.revise_source(
        source_id=source.pk,
        expected_version=source.version,
        title=source.title,
        licence=source.licence,
        full_text=source.full_text + "\n" + added,
        reason="Second page transcribed.",
        actor=other_archivist,
    )
    claim = factories.deaths_claim(
        archivist,
        subject_record=world["subject"],
        prop=world["deaths"],
        src=source,
        best=260000,
        quote=added,
    )
    commands.submit_for_review(record_type="claim", record_id=claim.pk, actor=archivist)
    with pytest.raises(WrongState) as refused:
        commands.approve_revision(
            record_type="claim", record_id=claim.pk, revision=1, actor=reviewer
        )
    assert refused.value.message == QUOTE_NOT_PUBLISHED
    assert not PublishedClaim.objects.exists()

    factories.publish(source, "source", author=other_archivist, reviewer=reviewer)
    commands.approve_revision(record_type="claim", record_id=claim.pk, revision=1, actor=reviewer)
    assert PublishedClaim.objects.get().quote == added


def test_preferring_a_claim_leaves_a_retracted_preferred_claim_as_it_was(
    archivist, reviewer, world, claim
):
    first = factories.publish(claim, "claim", author=archivist, reviewer=reviewer)
    commands.rank_claim(claim_id=first.pk, rank="preferred", reason="Official", actor=reviewer)
    commands.retract_claim(claim_id=first.pk, reason="Misquoted.", actor=reviewer)
    events_before = event_types(first)
    second = publish_other_estimate(archivist, reviewer, world)
    commands.rank_claim(claim_id=second.pk, rank="preferred", reason="Remaining", actor=reviewer)

    assert event_types(first) == events_before  # no demotion written to a final record
    retracted = PublishedClaim.objects.get(pk=first.pk)
    assert retracted.status == PublicStatus.RETRACTED and retracted.rank == Rank.PREFERRED
    assert selectors.fact_summary(first.fact_id).preferred_claim_id == second.pk


def test_the_database_refuses_a_second_preferred_claim_for_a_fact(
    archivist, reviewer, world, claim
):
    """The last guard behind rank_claim: a projection bug could not store two preferred claims."""
    first = factories.publish(claim, "claim", author=archivist, reviewer=reviewer)
    second = publish_other_estimate(archivist, reviewer, world)
    commands.rank_claim(claim_id=first.pk, rank="preferred", reason="Official", actor=reviewer)
    for model in (Claim, PublishedClaim):
        with pytest.raises(IntegrityError), transaction.atomic():
            model.objects.filter(pk=second.pk).update(rank=Rank.PREFERRED)


def test_decision_comments_never_reach_history_rows(archivist, reviewer, claim):
    commands.submit_for_review(record_type="claim", record_id=claim.pk, actor=archivist)
    claim = commands.request_changes(
        record_type="claim",
        record_id=claim.pk,
        revision=1,
        comment="Secret: the second page is missing.",
        actor=reviewer,
    )
    assert claim.status_reason == "Secret: the second page is missing."  # staff see why
    for row in claim.history.all():
        assert not hasattr(row, "status_reason")
        assert "Secret" not in (row.history_change_reason or "")
    assert "status_reason" not in {field.name for field in Claim.history.model._meta.fields}


def revise_text(source, actor, full_text: str, reason="Text changed"):
    return commands.revise_source(
        source_id=source.pk,
        expected_version=source.version,
        title=source.title,
        licence=source.licence,
        full_text=full_text,
        reason=reason,
        actor=actor,
    )


def test_a_quote_made_against_an_emptied_draft_must_stand_in_the_published_text(
    archivist, other_archivist, reviewer, world
):
    emptied = revise_text(world["source"], other_archivist, "", reason="Text withdrawn")
    claim = factories.deaths_claim(
        archivist,
        subject_record=world["subject"],
        prop=world["deaths"],
        src=emptied,
        quote="Fabricated: 9 million died.",
    )
    assert claim.quote_start is None  # nothing to locate it in
    commands.submit_for_review(record_type="claim", record_id=claim.pk, actor=archivist)
    with pytest.raises(WrongState) as refused:
        commands.approve_revision(
            record_type="claim", record_id=claim.pk, revision=1, actor=reviewer
        )
    assert refused.value.message == QUOTE_NOT_PUBLISHED


def test_a_source_revision_cannot_drop_a_passage_a_published_claim_quotes(
    archivist, other_archivist, reviewer, world, claim
):
    published = factories.publish(claim, "claim", author=archivist, reviewer=reviewer)
    # The claim's draft moves to another passage; its public face still quotes the first.
    other = "Others say around 200,000 died."
    commands.revise_claim(
        claim_id=published.pk,
        expected_version=published.version,
        value={"original": "200,000", "best": 200000},
        citation={"source_id": world["source"].pk, "quote": other},
        reason="Other passage",
        actor=archivist,
    )
    with pytest.raises(ValidationError) as refused:
        revise_text(world["source"], other_archivist, other)
    assert refused.value.message_dict == {
        "full_text": [CITATIONS_BROKEN.format(count=1, ids=str(published.pk))]
    }


def test_approving_a_source_text_that_drops_a_published_quote_is_refused(
    archivist, other_archivist, reviewer
):
    """A claim made while its source held no text has no offsets to protect; the approval that
    would publish a text without its quote is refused instead."""
    bare = factories.publish(
        factories.source(archivist, title="Untranscribed", full_text=""),
        "source",
        author=archivist,
        reviewer=reviewer,
    )
    world = {
        "subject": factories.subject(archivist),
        "deaths": factories.quantity_property(archivist),
    }
    factories.publish(world["subject"], "subject", author=archivist, reviewer=reviewer)
    claim = factories.publish(
        factories.deaths_claim(
            archivist, subject_record=world["subject"], prop=world["deaths"], src=bare
        ),
        "claim",
        author=archivist,
        reviewer=reviewer,
    )
    transcribed = revise_text(bare, other_archivist, "A transcription without that passage.")
    commands.submit_for_review(record_type="source", record_id=bare.pk, actor=other_archivist)
    with pytest.raises(WrongState) as refused:
        commands.approve_revision(
            record_type="source", record_id=bare.pk, revision=transcribed.revision, actor=reviewer
        )
    assert refused.value.message == PUBLISHED_QUOTES_BROKEN.format(count=1, ids=str(claim.pk))
