"""The public gate: only published revisions come out, now or as of any earlier moment."""

from datetime import timedelta

import pytest

from records import commands, selectors
from records.event_store import read_stream
from records.models import StoredEvent
from records.models.projections import PublicStatus
from records.seeding import load_seeds, seed_id
from records.selectors import AS_OF_OUT_OF_RANGE, BAD_AS_OF, BadAsOf
from tests import factories


@pytest.fixture
def world(archivist, reviewer):
    return factories.published_world(archivist, reviewer)


def new_claim(archivist, world, best=200000, quote="Others say around 200,000 died."):
    return factories.deaths_claim(
        archivist,
        subject_record=world["subject"],
        prop=world["deaths"],
        src=world["source"],
        best=best,
        quote=quote,
    )


def everything_public(as_of=None) -> set:
    """Every id any public selector gives."""
    ids = set()
    for selector in (
        selectors.published_sources,
        selectors.published_subjects,
        selectors.published_claims,
        selectors.published_facts,
    ):
        ids |= {record.pk for record in selector(as_of=as_of)}
    return ids


def test_drafts_pending_and_rejected_records_never_come_out(archivist, reviewer, world):
    draft_source = factories.source(archivist, title="Draft source")
    draft_subject = factories.subject(archivist, name="Draft subject")
    draft_claim = new_claim(archivist, world)
    pending = new_claim(archivist, world, 250000, "Chinese estimates put the death toll")
    commands.submit_for_review(record_type="claim", record_id=pending.pk, actor=archivist)
    rejected = factories.deaths_claim(
        archivist,
        subject_record=world["subject"],
        prop=world["deaths"],
        src=world["source"],
        best=1942,
        quote="On April 18, 1942",
    )
    commands.submit_for_review(record_type="claim", record_id=rejected.pk, actor=archivist)
    commands.reject_revision(
        record_type="claim", record_id=rejected.pk, revision=1, comment="A year.", actor=reviewer
    )

    public = everything_public()
    hidden = {draft_source.pk, draft_subject.pk, draft_claim.pk, pending.pk, rejected.pk}
    assert public.isdisjoint(hidden)
    assert public == {world["source"].pk, world["subject"].pk}


def test_a_pending_revision_of_a_published_record_never_comes_out(archivist, reviewer, world):
    claim = factories.publish(
        new_claim(archivist, world), "claim", author=archivist, reviewer=reviewer
    )
    claim = commands.revise_claim(
        claim_id=claim.pk,
        expected_version=claim.version,
        value={"original": "999", "best": 999},
        citation={"source_id": world["source"].pk, "quote": claim.quote},
        note="DRAFT NOTE",
        reason="typo",
        actor=archivist,
    )
    commands.submit_for_review(record_type="claim", record_id=claim.pk, actor=archivist)
    subject = commands.revise_subject(
        subject_id=world["subject"].pk,
        expected_version=world["subject"].version,
        kind="event",
        names=[{"name": "Renamed in draft", "language": "en"}],
        reason="rename",
        actor=archivist,
    )
    [public_claim] = selectors.published_claims()
    assert (public_claim.quantity_best, public_claim.note, public_claim.revision) == (200000, "", 1)
    [public_subject] = selectors.published_subjects()
    assert public_subject.label != "Renamed in draft" and subject.label == "Renamed in draft"
    for entry in selectors.published_history("claim", claim.pk):
        assert entry.record.note != "DRAFT NOTE"


def loaded(record) -> dict:
    """What a model instance carries without another query: its loaded fields and, in turn,
    the related records cached on it (select_related)."""
    values = {name: value for name, value in vars(record).items() if name != "_state"}
    for name, related in record._state.fields_cache.items():
        values[name] = related and loaded(related)
    return values


def test_published_facts_carry_nothing_of_a_draft_rename(archivist, reviewer, world):
    claim = factories.publish(
        new_claim(archivist, world), "claim", author=archivist, reviewer=reviewer
    )
    commands.revise_subject(
        subject_id=world["subject"].pk,
        expected_version=world["subject"].version,
        kind="event",
        names=[{"name": "Renamed in draft", "language": "en"}],
        reason="rename",
        actor=archivist,
    )
    [fact] = selectors.published_facts()
    assert fact.pk == claim.fact_id and fact.subject_id == world["subject"].pk
    carried = loaded(fact)
    assert "Renamed in draft" not in repr(carried)
    # Nor when its first claim was registered, which may have been long before any publication.
    assert "registered_at" not in carried


def test_as_of_a_position_or_time_gives_what_was_published_then(archivist, reviewer, world):
    claim = factories.publish(
        new_claim(archivist, world), "claim", author=archivist, reviewer=reviewer
    )
    first_approval = read_stream(claim.pk)[-1]
    claim = commands.revise_claim(
        claim_id=claim.pk,
        expected_version=claim.version,
        value={"original": "210,000", "best": 210000},
        citation={"source_id": world["source"].pk, "quote": claim.quote},
        reason="recount",
        actor=archivist,
    )
    factories.publish(claim, "claim", author=archivist, reviewer=reviewer)
    commands.retract_claim(claim_id=claim.pk, reason="Withdrawn by the source.", actor=reviewer)

    def state(as_of):
        return [
            (c.revision, c.quantity_best, c.status) for c in selectors.published_claims(as_of=as_of)
        ]

    before = first_approval.position - 1
    assert state(before) == []
    assert state(first_approval.position) == [(1, 200000, PublicStatus.PUBLISHED)]
    assert state(str(first_approval.position)) == [(1, 200000, PublicStatus.PUBLISHED)]
    assert state(first_approval.recorded_at) == [(1, 200000, PublicStatus.PUBLISHED)]
    assert state(first_approval.recorded_at.isoformat()) == [(1, 200000, PublicStatus.PUBLISHED)]
    assert state(first_approval.recorded_at - timedelta(microseconds=1)) == []
    assert state(None) == [(2, 210000, PublicStatus.RETRACTED)]
    last = StoredEvent.objects.order_by("-position").first().position
    assert state(last) == state(None)
    summary_then = selectors.fact_summary(claim.fact_id, as_of=first_approval.position)
    assert summary_then.claims == 1 and summary_then.lowest == 200000


@pytest.mark.parametrize(
    "bad",
    [
        "yesterday",
        "12abc",
        "2026-13-01",
        object(),
    ],
)
def test_a_bad_as_of_is_refused_naming_it(bad):
    with pytest.raises(BadAsOf) as refused:
        selectors.resolve_as_of(bad)
    assert str(refused.value) == BAD_AS_OF.format(value=bad)


@pytest.mark.parametrize("outside", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_an_as_of_outside_years_1_to_9999_in_utc_is_refused(outside):
    with pytest.raises(BadAsOf) as refused:
        selectors.resolve_as_of(outside)
    assert str(refused.value) == AS_OF_OUT_OF_RANGE.format(value=outside)


def test_published_history_lists_each_public_state_without_accounts(archivist, reviewer, world):
    claim = factories.publish(
        new_claim(archivist, world), "claim", author=archivist, reviewer=reviewer
    )
    commands.rank_claim(claim_id=claim.pk, rank="preferred", reason="Best source", actor=reviewer)
    history = selectors.published_history("claim", claim.pk)
    assert [entry.change for entry in history] == [
        "RevisionApproved",
        "ClaimRanked: Best source",
    ]
    assert [entry.record.rank for entry in history] == ["normal", "preferred"]
    assert not any(hasattr(entry, "history_user") for entry in history)


def test_the_seeded_fact_summaries(archivist, reviewer):
    load_seeds(archivist=archivist, reviewer=reviewer)
    campaign = seed_id("subject", "zhejiang-jiangxi-campaign")
    facts = {f.property.key: f for f in selectors.published_facts() if f.subject_id == campaign}

    end = selectors.fact_summary(facts["end-date"].pk)
    assert (end.claims, end.sources, end.disputed) == (2, 1, True)
    assert (str(end.lowest), str(end.highest)) == ("1942-08-11", "1942-09-10")

    deaths = selectors.fact_summary(facts["civilian-deaths"].pk)
    assert (deaths.claims, deaths.disputed, deaths.lowest, deaths.highest) == (
        2,
        False,
        250000,
        250000,
    )
    pathogens = selectors.fact_summary(facts["pathogen-spread"].pk)
    assert (pathogens.claims, pathogens.disputed) == (4, False)  # several are true at once
    assert deaths.preferred_claim_id is None  # nothing picks a winner automatically
