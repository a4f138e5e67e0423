"""The seed document and what it says: loaded through the commands, every quote verified."""

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from records.models import Claim, Fact, PublishedClaim, Source, StoredEvent, Subject
from records.models.projections import Status
from records.seeding import SEEDS_DIR, load_seeds, seed_id
from tests.conftest import make_user


@pytest.fixture
def seeded(archivist, reviewer):
    load_seeds(archivist=archivist, reviewer=reviewer)


def claims_for(subject_key: str, property_key: str):
    return Claim.objects.filter(
        subject_id=seed_id("subject", subject_key), property__key=property_key
    ).order_by("quote_start")


def test_the_source_holds_the_document_with_its_licence_and_attribution(seeded):
    source = Source.objects.get()
    assert source.full_text == (SEEDS_DIR / "000_11930cf8db10f454.txt").read_text("utf-8")
    assert len(source.full_text) == 2265
    assert source.licence == "CC BY-SA 4.0"
    assert "Wikipedia" in source.attribution and "CC BY-SA 4.0" in source.attribution


def test_every_quote_stands_in_the_source_at_its_offsets(seeded):
    text = Source.objects.get().full_text
    claims = list(Claim.objects.all())
    assert len(claims) >= 19
    for claim in claims:
        assert claim.quote_start is not None, claim.quote
        assert text[claim.quote_start : claim.quote_end] == claim.quote


def test_the_campaign_has_two_conflicting_end_dates(seeded):
    ends = {c.original_wording: c for c in claims_for("zhejiang-jiangxi-campaign", "end-date")}
    assert set(ends) == {"early September, 1942", "mid-August"}
    september, august = ends["early September, 1942"], ends["mid-August"]
    assert (str(september.date_earliest), str(september.date_latest)) == (
        "1942-09-01",
        "1942-09-10",
    )
    assert (str(august.date_earliest), str(august.date_latest)) == ("1942-08-11", "1942-08-20")
    assert september.fact_id == august.fact_id
    [start] = claims_for("zhejiang-jiangxi-campaign", "start-date")
    assert (str(start.date_earliest), str(start.date_latest)) == ("1942-05-11", "1942-05-20")


def test_both_death_toll_passages_stand_side_by_side(seeded):
    tolls = list(claims_for("zhejiang-jiangxi-campaign", "civilian-deaths"))
    assert [t.quantity_best for t in tolls] == [Decimal(250000), Decimal(250000)]
    assert {t.attributed_to for t in tolls} == {"", "Chinese estimates"}
    assert [t.original_wording for t in tolls] == ["around 250,000", "250,000"]
    assert all(t.quantity_approximate for t in tolls)
    assert Fact.objects.filter(claims__in=tolls).distinct().count() == 1


@pytest.mark.parametrize(
    ("property_key", "expected"),
    [
        ("airmen-parachuted", {64}),
        ("airmen-captured", {8}),
        ("airmen-executed", {3}),
        ("airmen-died-in-captivity", {1}),
    ],
)
def test_the_airmen_counts(seeded, property_key, expected):
    claims = claims_for("doolittle-raid", property_key)
    assert claims.exists()
    assert {int(c.quantity_best) for c in claims} == expected
    assert all(c.unit == "persons" for c in claims)


def test_faktor_and_the_raid_date(seeded):
    [death] = claims_for("leland-d-faktor", "manner-of-death")
    assert death.text_value == "died while bailing out"
    [raid] = claims_for("doolittle-raid", "date")
    assert raid.date_edtf == "1942-04-18"
    assert raid.original_wording == "April 18, 1942"


def test_commanders_pathogens_and_names_in_four_scripts(seeded):
    commanders = {
        c.subject_value.label for c in claims_for("zhejiang-jiangxi-campaign", "commander")
    }
    assert commanders == {"Shunroku Hata", "Gu Zhutong"}
    pathogens = {
        c.subject_value.label for c in claims_for("zhejiang-jiangxi-campaign", "pathogen-spread")
    }
    assert pathogens == {"cholera", "typhoid", "plague", "dysentery"}
    campaign = Subject.objects.get(pk=seed_id("subject", "zhejiang-jiangxi-campaign"))
    names = {name["language"]: name["name"] for name in campaign.names}
    assert names == {
        "en": "Zhejiang-Jiangxi Campaign",
        "ja": "浙贛作戦",
        "zh-Hans": "浙赣战役",
        "zh-Hant": "浙赣戰役",
        "zh-Latn-pinyin": "zheganzhanyi",
    }
    assert Subject.objects.get(search_text__contains="浙赣战役") == campaign


def test_loading_twice_appends_no_event(archivist, reviewer):
    first = load_seeds(archivist=archivist, reviewer=reviewer)
    count = StoredEvent.objects.count()
    second = load_seeds(archivist=archivist, reviewer=reviewer)
    assert first.events_appended == count > 0
    assert second.events_appended == 0
    assert StoredEvent.objects.count() == count


def test_the_archivist_registers_and_the_reviewer_approves_every_record(seeded):
    for event in StoredEvent.objects.all():
        reviewing = event.event_type in {"RevisionApproved", "CommentAdded"}
        expected = "reviewer" if reviewing else "archivist"
        assert event.metadata["actor"] == expected, event
    approvals = StoredEvent.objects.filter(event_type="RevisionApproved").count()
    assert approvals == 1 + Subject.objects.count() + Claim.objects.count()
    assert PublishedClaim.objects.count() == Claim.objects.count() >= 19
    assert not Claim.objects.exclude(status=Status.PUBLISHED).exists()


def test_the_seeded_archive_verifies(seeded, capsys):
    call_command("verify_archive", "--no-progress")
    out = capsys.readouterr().out
    assert "Hash chain intact" in out and "exactly the live state" in out


def test_load_seeds_command_needs_an_existing_account(db):
    with pytest.raises(CommandError, match="No active account 'nobody'"):
        call_command("load_seeds", "--archivist", "nobody")
    assert StoredEvent.objects.count() == 0


def test_load_seeds_command_is_idempotent(archivist, reviewer, capsys):
    call_command("load_seeds")
    call_command("load_seeds")
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith(f"{StoredEvent.objects.count()} new events.")
    assert out[1].endswith(" 0 new events.")


def test_loading_again_by_other_accounts_appends_nothing(archivist, reviewer):
    load_seeds(archivist=archivist, reviewer=reviewer)
    again = load_seeds(
        archivist=make_user("archivist2", "Archivist"), reviewer=make_user("reviewer2", "Reviewer")
    )
    assert again.events_appended == 0
