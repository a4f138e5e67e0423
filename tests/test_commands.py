"""Commands append the right events and project them, history included, in one transaction."""

import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from records import commands
from records.commands.base import EVENT_ID_REUSED
from records.event_store import ConcurrencyError, read_stream
from records.models import Claim, Fact, StoredEvent
from records.models.projections import fact_id_for
from tests import factories


@pytest.fixture
def world(archivist):
    return {
        "source": factories.source(archivist),
        "subject": factories.subject(archivist),
        "deaths": factories.quantity_property(archivist),
    }


def test_registering_a_claim_appends_one_event_and_projects_it(archivist, world):
    before = StoredEvent.objects.count()
    claim = factories.deaths_claim(
        archivist,
        subject_record=world["subject"],
        prop=world["deaths"],
        src=world["source"],
        attributed_to="Chinese estimates",
    )
    [event] = StoredEvent.objects.filter(position__gt=before)
    assert (event.event_type, event.stream_type, event.version) == ("ClaimRegistered", "claim", 1)
    assert event.stream_id == claim.pk
    assert event.metadata["actor"] == "archivist"
    assert claim.version == 1 and claim.last_position == event.position
    assert claim.quantity_best == Decimal(250000)
    assert claim.attributed_to == "Chinese estimates"
    assert claim.registered_by == archivist
    text = world["source"].full_text
    assert text[claim.quote_start : claim.quote_end] == claim.quote
    assert claim.fact_id == fact_id_for(world["subject"].pk, world["deaths"].pk)


def test_two_claims_for_one_fact_stand_side_by_side(archivist, world):
    first = factories.deaths_claim(
        archivist, subject_record=world["subject"], prop=world["deaths"], src=world["source"]
    )
    second = factories.deaths_claim(
        archivist,
        subject_record=world["subject"],
        prop=world["deaths"],
        src=world["source"],
        best=200000,
        quote="Others say around 200,000 died.",
    )
    assert first.fact_id == second.fact_id
    assert Fact.objects.count() == 1
    assert sorted(c.quantity_best for c in Claim.objects.all()) == [200000, 250000]


def test_revising_a_claim_makes_a_new_revision_with_stamped_history(
    archivist, other_archivist, world
):
    claim = factories.deaths_claim(
        archivist, subject_record=world["subject"], prop=world["deaths"], src=world["source"]
    )
    revised = commands.revise_claim(
        claim_id=claim.pk,
        expected_version=1,
        value={"original": "around 250,000", "best": 250000, "approximate": True},
        citation={"source_id": world["source"].pk, "quote": claim.quote, "locator": "p. 2"},
        attributed_to="Chinese estimates",
        reason="The passage calls it an estimate.",
        actor=other_archivist,
    )
    assert revised.version == 2 and revised.quantity_approximate is True
    assert [e.event_type for e in read_stream(claim.pk)] == ["ClaimRegistered", "ClaimRevised"]

    newest, oldest = revised.history.all()
    events = read_stream(claim.pk)
    assert (oldest.history_user, oldest.history_date) == (archivist, events[0].recorded_at)
    assert oldest.history_change_reason == "ClaimRegistered"
    assert (newest.history_user, newest.history_date) == (other_archivist, events[1].recorded_at)
    assert newest.history_change_reason == "ClaimRevised: The passage calls it an estimate."
    assert (oldest.original_wording, newest.original_wording) == ("250,000", "around 250,000")
    assert revised.registered_by == archivist


def test_a_revision_against_a_stale_version_is_refused_and_stores_nothing(archivist, world):
    claim = factories.deaths_claim(
        archivist, subject_record=world["subject"], prop=world["deaths"], src=world["source"]
    )
    common = {
        "claim_id": claim.pk,
        "citation": {"source_id": world["source"].pk, "quote": claim.quote},
        "reason": "fix",
        "actor": archivist,
    }
    commands.revise_claim(
        expected_version=1, value={"original": "250000", "best": 250000}, **common
    )
    count = StoredEvent.objects.count()
    with pytest.raises(ConcurrencyError):
        commands.revise_claim(
            expected_version=1, value={"original": "300000", "best": 300000}, **common
        )
    assert StoredEvent.objects.count() == count
    assert Claim.objects.get(pk=claim.pk).quantity_best == 250000


def test_a_retried_command_with_the_same_event_id_is_stored_once(archivist, world):
    claim_id, event_id = uuid.uuid4(), uuid.uuid4()
    for _ in range(2):
        claim = factories.deaths_claim(
            archivist,
            subject_record=world["subject"],
            prop=world["deaths"],
            src=world["source"],
            claim_id=claim_id,
            event_id=event_id,
        )
    assert claim.pk == claim_id
    assert len(read_stream(claim_id)) == 1
    assert claim.history.count() == 1


def test_a_date_claim_keeps_its_wording_next_to_edtf_and_bounds(archivist, world):
    end_date = factories.date_property(archivist)
    claim = commands.register_claim(
        subject_id=world["subject"].pk,
        property_id=end_date.pk,
        value={"original": "early September, 1942", "edtf": "1942-09", "part": "early"},
        citation={"source_id": world["source"].pk, "quote": "On April 18, 1942"},
        actor=archivist,
    )
    assert claim.original_wording == "early September, 1942"
    assert claim.date_edtf == "1942-09"
    assert (str(claim.date_earliest), str(claim.date_latest)) == ("1942-09-01", "1942-09-10")
    assert claim.value["part"] == "early"


def test_subjects_keep_names_in_every_script_and_revise_with_a_reason(archivist):
    subject = commands.register_subject(
        kind="event",
        names=[
            {"name": "Zhejiang-Jiangxi Campaign", "language": "en"},
            {"name": "浙贛作戦", "language": "ja"},
        ],
        actor=archivist,
    )
    assert subject.label == "Zhejiang-Jiangxi Campaign"
    revised = commands.revise_subject(
        subject_id=subject.pk,
        expected_version=1,
        kind="event",
        names=[*subject.names, {"name": "浙赣战役", "language": "zh-Hans"}],
        reason="Added the simplified Chinese name.",
        actor=archivist,
    )
    assert revised.version == 2
    assert "浙赣战役" in revised.search_text
    assert revised.history.first().history_change_reason.startswith("SubjectRevised: Added")


def test_a_source_revision_that_keeps_quotes_in_place_is_accepted(archivist, world):
    claim = factories.deaths_claim(
        archivist, subject_record=world["subject"], prop=world["deaths"], src=world["source"]
    )
    source = world["source"]
    revised = commands.revise_source(
        source_id=source.pk,
        expected_version=1,
        title=source.title,
        full_text=source.full_text + " A sentence added at the end.",
        licence=source.licence,
        accessed="2026-11-01",
        reason="Transcribed the last sentence.",
        actor=archivist,
    )
    assert revised.version == 2 and str(revised.accessed) == "2026-11-01"
    claim.refresh_from_db()
    assert revised.full_text[claim.quote_start : claim.quote_end] == claim.quote


def test_an_overlapping_repeated_quote_is_ambiguous(archivist, world):
    from django.core.exceptions import ValidationError

    from records.values import QUOTE_AMBIGUOUS

    src = factories.source(archivist, title="Laughter", full_text="ha ha ha")
    with pytest.raises(ValidationError) as refused:
        factories.deaths_claim(
            archivist, subject_record=world["subject"], prop=world["deaths"], src=src, quote="ha ha"
        )
    assert refused.value.message_dict == {"citation.start": [QUOTE_AMBIGUOUS.format(count=2)]}


@pytest.mark.parametrize("best", ["1e25", "0.1234567"])
def test_a_number_the_archive_cannot_hold_exactly_is_refused(archivist, world, best):
    from django.core.exceptions import ValidationError

    from records.values import NUMBER_OUT_OF_RANGE

    events = StoredEvent.objects.count()
    with pytest.raises(ValidationError) as refused:
        commands.register_claim(
            subject_id=world["subject"].pk,
            property_id=commands.define_property(
                key="area", label="area", value_type="quantity", unit="km2", actor=archivist
            ).pk,
            value={"original": best, "best": best},
            citation={"source_id": world["source"].pk, "quote": "On April 18, 1942"},
            actor=archivist,
        )
    assert refused.value.message_dict == {"value.best": [NUMBER_OUT_OF_RANGE]}
    assert StoredEvent.objects.count() == events + 1  # the property only


def test_a_retried_registration_is_acknowledged_even_if_the_world_moved_on(archivist, world):
    bare = factories.source(archivist, title="Untranscribed", full_text="")
    claim_id, event_id = uuid.uuid4(), uuid.uuid4()
    quote = "Chinese estimates put the death toll at 250,000 civilians."

    def register():
        return factories.deaths_claim(
            archivist,
            subject_record=world["subject"],
            prop=world["deaths"],
            src=bare,
            quote=quote,
            claim_id=claim_id,
            event_id=event_id,
        )

    register()
    commands.revise_source(
        source_id=bare.pk,
        expected_version=1,
        title=bare.title,
        full_text=f"{quote} {quote}",  # the quote now occurs twice: a fresh claim would be refused
        reason="Transcribed",
        actor=archivist,
    )
    assert register().pk == claim_id
    assert len(read_stream(claim_id)) == 1


def test_an_event_id_reused_for_another_request_is_refused_and_stores_nothing(
    archivist, other_archivist, world
):
    """An event id is an idempotency key: only the very same request, repeated, is a retry."""
    event_id = uuid.uuid4()
    claim = factories.deaths_claim(
        archivist,
        subject_record=world["subject"],
        prop=world["deaths"],
        src=world["source"],
        event_id=event_id,
    )
    reuses = {
        "other arguments": lambda: factories.deaths_claim(
            archivist,
            subject_record=world["subject"],
            prop=world["deaths"],
            src=world["source"],
            best=200000,
            quote="Others say around 200,000 died.",
            event_id=event_id,
        ),
        "another user": lambda: factories.deaths_claim(
            other_archivist,
            subject_record=world["subject"],
            prop=world["deaths"],
            src=world["source"],
            event_id=event_id,
        ),
        "another registration": lambda: factories.subject(archivist, event_id=event_id),
        "a revision": lambda: commands.revise_claim(
            claim_id=claim.pk,
            expected_version=1,
            value={"original": "250,000", "best": 250000},
            citation={"source_id": world["source"].pk, "quote": claim.quote},
            note="rounded",
            reason="A note",
            actor=archivist,
            event_id=event_id,
        ),
        "a review step": lambda: commands.submit_for_review(
            record_type="claim", record_id=claim.pk, actor=archivist, event_id=event_id
        ),
    }
    events = StoredEvent.objects.count()
    for what, reuse in reuses.items():
        with pytest.raises(ValidationError) as refused:
            reuse()
        assert refused.value.message_dict == {
            "event_id": [EVENT_ID_REUSED.format(value=event_id)]
        }, what
        assert StoredEvent.objects.count() == events, what
    assert Claim.objects.get(pk=claim.pk).version == 1


def test_an_event_id_of_one_review_step_cannot_acknowledge_another(archivist, reviewer, world):
    claim = factories.deaths_claim(
        archivist, subject_record=world["subject"], prop=world["deaths"], src=world["source"]
    )
    event_id = uuid.uuid4()
    commands.submit_for_review(
        record_type="claim", record_id=claim.pk, actor=archivist, event_id=event_id
    )
    with pytest.raises(ValidationError) as refused:
        commands.withdraw_submission(
            record_type="claim", record_id=claim.pk, actor=archivist, event_id=event_id
        )
    assert "event_id" in refused.value.message_dict
    assert Claim.objects.get(pk=claim.pk).status == "in_review"


def test_a_retry_may_write_the_same_arguments_another_way(archivist, world):
    """A UUID or its text in any case, a number of any type: the same request, acknowledged."""
    event_id = uuid.uuid4()

    def register(best, subject_id, source_id):
        return commands.register_claim(
            subject_id=subject_id,
            property_id=world["deaths"].pk,
            value={"original": "250,000", "best": best},
            citation={"source_id": source_id, "quote": "Chinese estimates put the death toll"},
            actor=archivist,
            event_id=event_id,
        )

    first = register(250000, world["subject"].pk, world["source"].pk)
    events = StoredEvent.objects.count()
    again = register("250000", str(world["subject"].pk).upper(), str(world["source"].pk))
    assert again.pk == first.pk and StoredEvent.objects.count() == events
    submit = {"record_type": "claim", "actor": archivist, "event_id": uuid.uuid4()}
    commands.submit_for_review(record_id=first.pk, **submit)
    commands.submit_for_review(record_id=str(first.pk).upper(), **submit)
    assert StoredEvent.objects.count() == events + 1
