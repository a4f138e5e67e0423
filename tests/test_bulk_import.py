"""Bulk import (manage.py import_claims): a JSON Lines file of sources, subjects and claims,
checked with the commands' rules, appended in one transaction, projected, and re-runnable."""

import io
import json
import re
import uuid
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from edtf import parse_edtf, struct_time_to_date

from bench import child
from records import bulk_append, bulk_write, commands
from records.bulk_import import (
    DUPLICATE_ID,
    GIVEN_TWICE,
    ID_IN_ARCHIVE,
    IMPORTED_OTHERWISE,
    NOT_AN_OBJECT,
    UNKNOWN_FIELD,
    UNKNOWN_PROPERTY,
    ImportRefused,
    import_records,
)
from records.commands.base import UNKNOWN_RECORD
from records.commands.sources import NOT_A_DATE, URL_SCHEME
from records.commands.subjects import NO_NAMES
from records.event_store import ConcurrencyError, IdempotencyConflict, iter_log
from records.events import SourceRegistered
from records.hashing import verify_chain
from records.models import Claim, Source, StoredEvent, Subject
from records.models.projections import Status
from records.replay import check_replay
from records.validation import NOT_A_CHOICE, NOT_A_UUID, NUL_CHARACTER, REQUIRED, TOO_LONG
from records.values import (
    BAD_EDTF,
    LOWER_ABOVE_BEST,
    NEGATIVE_COUNT,
    OFFSETS_MISMATCH,
    OFFSETS_WITHOUT_TEXT,
    QUOTE_AMBIGUOUS,
    QUOTE_NOT_IN_TEXT,
    UNKNOWN_CITATION_FIELDS,
    UNKNOWN_SOURCE,
    UNKNOWN_SUBJECT,
    WRONG_UNIT,
    edtf_bounds,
)
from records.workflow import RoleRequired
from tests import factories
from tests.conftest import make_user

TEXT = "The garrison left in May 1942. About 3,000 villagers died. The garrison returned."
DEATHS_QUOTE = "Chinese estimates put the death toll at 250,000 civilians."


def ids(count: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(count)]


@pytest.fixture
def world(archivist):
    """What a file can refer to in the archive: a source with text, a subject, properties."""
    factories.date_property(archivist)
    commands.define_property(
        key="commander", label="commander", value_type="subject", actor=archivist
    )
    return {
        "source": factories.source(archivist),
        "subject": factories.subject(archivist),
        "deaths": factories.quantity_property(archivist),
    }


@pytest.fixture
def catalogue(world):
    """A good file: a source and a subject of its own, and claims on them and on the archive's."""
    source_id, subject_id, *claim_ids = ids(6)
    return [
        {"record": "source", "id": source_id, "title": "Garrison diary", "full_text": TEXT},
        {
            "record": "subject",
            "id": subject_id,
            "kind": "person",
            "names": [
                {"name": "Shunroku Hata", "language": "en"},
                {"name": "畑俊六", "language": "ja"},
            ],
        },
        {
            "record": "claim",
            "id": claim_ids[0],
            "subject_id": str(world["subject"].pk),
            "property": "civilian-deaths",
            "value": {"original": "about 3,000", "best": 3000, "approximate": True},
            "citation": {
                "source_id": source_id,
                "locator": "p. 2",
                "quote": "About 3,000 villagers died.",
            },
            "attributed_to": "the diarist",
            "reason": "From catalogue card 12.",
        },
        {
            "record": "claim",
            "id": claim_ids[1],
            "subject_id": str(world["subject"].pk),
            "property": "civilian-deaths",
            "value": {"original": "250,000", "best": "250000"},
            "citation": {"source_id": str(world["source"].pk), "quote": DEATHS_QUOTE},
        },
        {
            "record": "claim",
            "id": claim_ids[2],
            "subject_id": str(world["subject"].pk),
            "property": "end-date",
            "value": {"original": "May 1942", "edtf": "1942-05"},
            "citation": {"source_id": source_id, "quote": "The garrison left in May 1942."},
        },
        {
            "record": "claim",
            "id": claim_ids[3],
            "subject_id": str(world["subject"].pk),
            "property": "commander",
            "value": {"original": "Hata", "subject_id": subject_id},
            "citation": {"source_id": source_id, "quote": "The garrison returned.", "start": 59},
        },
    ]


def lines(records) -> list[bytes]:
    return [json.dumps(record, ensure_ascii=False).encode() for record in records]


def refused(records, actor, **options) -> list[str]:
    """Import a file that must be refused; the problems as the command lists them."""
    before = StoredEvent.objects.count()
    with pytest.raises(ImportRefused) as refusal:
        import_records(lines(records) if isinstance(records[0], dict) else records, actor=actor)
    assert StoredEvent.objects.count() == before, "a refused import stored events"
    return [str(problem) for problem in refusal.value.problems]


# --- a good file -------------------------------------------------------------------------------


def test_a_good_file_registers_drafts_by_the_archivist(archivist, world, catalogue):
    last = StoredEvent.objects.order_by("position").last()
    report = import_records(lines(catalogue), actor=archivist, reason="Catalogue migration")

    assert report.new == {"source": 1, "subject": 1, "claim": 4}
    assert report.already_imported == 0
    events = list(StoredEvent.objects.filter(position__gt=last.position))
    assert [event.event_type for event in events] == [
        "SourceRegistered",
        "SubjectRegistered",
        *["ClaimRegistered"] * 4,
    ]
    assert [str(event.stream_id) for event in events] == [record["id"] for record in catalogue]
    assert {event.version for event in events} == {1}
    for record in (Source, Subject, Claim):
        for row in record.objects.filter(pk__in=[r["id"] for r in catalogue]):
            assert row.status == Status.DRAFT and row.revision_authors == [archivist.pk]
            assert row.registered_by == archivist
    metadata = [event.metadata for event in events]
    assert {m["actor"] for m in metadata} == {"archivist"}
    assert {m["actor_id"] for m in metadata} == {archivist.pk}
    assert len({m["correlation_id"] for m in metadata}) == 1
    assert len({m["nonce"] for m in metadata}) == len(events)
    assert all(m["request"] for m in metadata)
    assert [m["reason"] for m in metadata][2:4] == [
        "From catalogue card 12.",
        "Catalogue migration",
    ]
    times = [event.recorded_at for event in events]
    assert times == sorted(set(times)) and times[0] > last.recorded_at


def test_the_log_verifies_and_a_replay_gives_the_live_state(archivist, world, catalogue):
    import_records(lines(catalogue), actor=archivist)
    chain = verify_chain(iter_log())
    assert chain.ok and chain.checked == StoredEvent.objects.count()
    replay = check_replay()
    assert replay.ok, replay.differences
    out = io.StringIO()
    call_command("verify_archive", "--no-progress", stdout=out)
    assert "Hash chain intact" in out.getvalue()


def test_an_imported_claim_is_what_register_claim_would_record(archivist, world, catalogue):
    import_records(lines(catalogue), actor=archivist)
    line = catalogue[3]
    by_command = commands.register_claim(
        subject_id=line["subject_id"],
        property_id=world["deaths"].pk,
        value=line["value"],
        citation=line["citation"],
        actor=archivist,
    )
    imported = StoredEvent.objects.get(stream_id=line["id"]).data
    commanded = StoredEvent.objects.get(stream_id=by_command.pk).data
    assert {**imported, "claim_id": None} == {**commanded, "claim_id": None}
    claim = Claim.objects.get(pk=line["id"])
    assert (claim.quote_start, claim.quote_end) == (by_command.quote_start, by_command.quote_end)


def test_claims_may_refer_to_records_given_later_in_the_file(archivist, world, catalogue):
    import_records(lines(list(reversed(catalogue))), actor=archivist)
    assert Claim.objects.get(pk=catalogue[2]["id"]).source_id == uuid.UUID(catalogue[0]["id"])
    assert check_replay().ok


def test_imported_records_go_through_review(archivist, reviewer, world, catalogue):
    import_records(lines(catalogue), actor=archivist)
    source_id, subject_id, claim_id = catalogue[0]["id"], catalogue[1]["id"], catalogue[5]["id"]
    published = [
        (kind, record_id)
        for kind, record_id in [
            ("source", source_id),
            ("subject", subject_id),
            ("subject", world["subject"].pk),
            ("claim", claim_id),
        ]
    ]
    for kind, record_id in published:
        commands.submit_for_review(record_type=kind, record_id=record_id, actor=archivist)
        commands.approve_revision(record_type=kind, record_id=record_id, revision=1, actor=reviewer)
    assert Claim.objects.get(pk=claim_id).status == Status.PUBLISHED
    assert check_replay().ok


def test_submitting_puts_each_imported_record_in_review(archivist, reviewer, world, catalogue):
    last = StoredEvent.objects.order_by("position").last()
    report = import_records(lines(catalogue), actor=archivist, submit=True)

    assert report.new == {"source": 1, "subject": 1, "claim": 4}
    events = list(StoredEvent.objects.filter(position__gt=last.position))
    assert [(event.event_type, event.version) for event in events[:2]] == [
        ("SourceRegistered", 1),
        ("SubmittedForReview", 2),
    ]
    assert [str(event.stream_id) for event in events[1::2]] == [r["id"] for r in catalogue]
    assert {event.metadata["actor"] for event in events} == {"archivist"}
    for model in (Source, Subject, Claim):
        for row in model.objects.filter(pk__in=[r["id"] for r in catalogue]):
            assert row.status == Status.IN_REVIEW
    # Straight to the reviewer: the claim's source and subjects first, then the claim.
    commands.submit_for_review(
        record_type="subject", record_id=world["subject"].pk, actor=archivist
    )
    for kind, record_id in [
        ("source", catalogue[0]["id"]),
        ("subject", catalogue[1]["id"]),
        ("subject", world["subject"].pk),
        ("claim", catalogue[5]["id"]),
    ]:
        commands.approve_revision(record_type=kind, record_id=record_id, revision=1, actor=reviewer)
    assert Claim.objects.get(pk=catalogue[5]["id"]).status == Status.PUBLISHED
    assert verify_chain(iter_log()).ok and check_replay().ok
    # Again: nothing twice.
    again = import_records(lines(catalogue), actor=archivist, submit=True)
    assert again.events == [] and again.already_imported == len(catalogue)


def test_blank_lines_are_skipped(archivist, world, catalogue):
    report = import_records([b"", *lines(catalogue[:2]), b"   "], actor=archivist)
    assert report.new == {"source": 1, "subject": 1, "claim": 0}


def test_checking_only_stores_nothing(archivist, world, catalogue):
    before = StoredEvent.objects.count()
    report = import_records(lines(catalogue), actor=archivist, check_only=True)
    assert report.new["claim"] == 4 and StoredEvent.objects.count() == before


# --- every rule: named by line and field, nothing stored ---------------------------------------


def _claim(world, **changes):
    line = {
        "record": "claim",
        "id": str(uuid.uuid4()),
        "subject_id": str(world["subject"].pk),
        "property": "civilian-deaths",
        "value": {"original": "250,000", "best": 250000},
        "citation": {"source_id": str(world["source"].pk), "quote": DEATHS_QUOTE},
    }
    line.update(changes)
    return line


def _source(**changes):
    return {"record": "source", "id": str(uuid.uuid4()), "title": "A diary", **changes}


def _subject(**changes):
    return {
        "record": "subject",
        "id": str(uuid.uuid4()),
        "kind": "event",
        "names": ["X"],
        **changes,
    }


def _cases(world):
    source_id = str(world["source"].pk)
    missing = uuid.UUID(int=7)
    deaths = {"original": "250,000", "best": 250000}
    return {
        "title required": (_source(title=""), "title", REQUIRED),
        "url scheme": (_source(url="ftp://example.org"), "url", URL_SCHEME),
        "accessed date": (_source(accessed="May 1942"), "accessed", NOT_A_DATE),
        "NUL in text": (_source(full_text="a\x00b"), "full_text", NUL_CHARACTER),
        "subject kind": (
            _subject(kind="war"),
            "kind",
            NOT_A_CHOICE.format(value="war", choices="event, person, place, organisation, object"),
        ),
        "subject names": (_subject(names=[]), "names", NO_NAMES),
        "subject name required": (_subject(names=[{"name": " "}]), "names.0.name", REQUIRED),
        "lower above best": (
            _claim(world, value={**deaths, "lower": 300000}),
            "value.lower",
            LOWER_ABOVE_BEST.format(lower="300000", best="250000"),
        ),
        "negative count": (
            _claim(world, value={"original": "-3", "best": -3}),
            "value.best",
            NEGATIVE_COUNT,
        ),
        "wrong unit": (
            _claim(world, value={**deaths, "unit": "soldiers"}),
            "value.unit",
            WRONG_UNIT.format(label="civilian deaths", expected="persons", given="soldiers"),
        ),
        "bad EDTF": (
            _claim(world, property="end-date", value={"original": "x", "edtf": "1942-13"}),
            "value.edtf",
            BAD_EDTF.format(value="1942-13"),
        ),
        "original required": (
            _claim(world, value={"best": 250000}),
            "value.original",
            REQUIRED,
        ),
        "quote not in text": (
            _claim(world, citation={"source_id": source_id, "quote": "Nobody died."}),
            "citation.quote",
            QUOTE_NOT_IN_TEXT,
        ),
        "quote ambiguous": (
            _claim(world, citation={"source_id": source_id, "quote": "the "}),
            "citation.start",
            QUOTE_AMBIGUOUS.format(count=factories.TEXT.count("the ")),
        ),
        "offsets mismatch": (
            _claim(world, citation={"source_id": source_id, "quote": "raid", "start": 0}),
            "citation.start",
            OFFSETS_MISMATCH.format(start=0, end=4, found="On A"),
        ),
        "offsets without text": (
            _claim(world, citation={"source_id": "@text-less", "quote": "x", "start": 0}),
            "citation.start",
            OFFSETS_WITHOUT_TEXT,
        ),
        "unknown source": (
            _claim(world, citation={"source_id": str(missing), "quote": "x"}),
            "citation.source_id",
            UNKNOWN_SOURCE.format(value=missing),
        ),
        "unknown subject": (
            _claim(world, subject_id=str(missing)),
            "subject_id",
            UNKNOWN_RECORD.format(kind="subject", value=missing),
        ),
        "unknown value subject": (
            _claim(
                world, property="commander", value={"original": "?", "subject_id": str(missing)}
            ),
            "value.subject_id",
            UNKNOWN_SUBJECT.format(value=missing),
        ),
        "unknown property": (
            _claim(world, property="death-toll"),
            "property",
            UNKNOWN_PROPERTY.format(key="death-toll"),
        ),
        "property required": (_claim(world, property=None), "property", REQUIRED),
        "subject id malformed": (
            _claim(world, subject_id="12"),
            "subject_id",
            NOT_A_UUID.format(value="12"),
        ),
        "too long": (
            _claim(world, attributed_to="x" * 301),
            "attributed_to",
            TOO_LONG.format(limit=300, length=301),
        ),
        "reason too long": (
            _claim(world, reason="x" * 2001),
            "reason",
            TOO_LONG.format(limit=2000, length=2001),
        ),
        "unknown field": (
            _claim(world, colour="red"),
            "colour",
            UNKNOWN_FIELD.format(
                kind="claim",
                fields="attributed_to, citation, id, note, property, reason, record, "
                "subject_id, value",
            ),
        ),
        "record kind": (
            {"record": "fact", "id": str(uuid.uuid4())},
            "record",
            NOT_A_CHOICE.format(value="fact", choices="source, subject, claim"),
        ),
        "record required": ({"id": str(uuid.uuid4())}, "record", REQUIRED),
        "record not text": (
            {"record": ["claim"], "id": str(uuid.uuid4())},
            "record",
            NOT_A_CHOICE.format(value=["claim"], choices="source, subject, claim"),
        ),
        "citation field misspelt": (
            _claim(
                world,
                citation={
                    "source_id": str(world["source"].pk),
                    "quote": DEATHS_QUOTE,
                    "location": "p. 12",
                },
            ),
            "citation",
            UNKNOWN_CITATION_FIELDS.format(fields="location"),
        ),
        "id required": ({"record": "source", "title": "A"}, "id", REQUIRED),
        "id malformed": (_source(id="source-1"), "id", NOT_A_UUID.format(value="source-1")),
    }


class _Record:
    pk = uuid.UUID(int=1)


# The case names, for parametrize: the cases themselves need the test's records.
CASES = list(_cases({"source": _Record, "subject": _Record}))


@pytest.mark.parametrize("case", CASES)
def test_each_rule_names_the_line_and_field_and_stores_nothing(archivist, world, case):
    text_less = factories.source(archivist, full_text="", title="A letter")
    line, field, message = _cases(world)[case]
    if "citation" in line and line["citation"]["source_id"] == "@text-less":
        line["citation"]["source_id"] = str(text_less.pk)
    good = _claim(world)
    assert refused([good, line], archivist) == [f"line 2: {field}: {message}"]
    assert not Claim.objects.filter(pk=good["id"]).exists()


def test_every_problem_of_every_line_is_listed_in_line_order(archivist, world):
    bad_claim = _claim(world, property="nope", value={"original": ""}, colour=1)
    problems = refused([_source(title=""), _claim(world), bad_claim], archivist)
    assert problems[0] == f"line 1: title: {REQUIRED}"
    assert {problem.split(":")[1].strip() for problem in problems[1:]} == {"colour", "property"}
    assert all(problem.startswith("line 3: ") for problem in problems[1:])


def test_malformed_json_and_lines_that_are_not_objects(archivist, world):
    good = json.dumps(_claim(world)).encode()
    problems = refused([good, b'{"record": "claim", broken', b"[1, 2]", b"\xff\xfe"], archivist)
    assert problems == [
        "line 2: json: Not valid JSON: Expecting property name enclosed in double quotes "
        "(column 21).",
        f"line 3: json: {NOT_AN_OBJECT}",
        "line 4: json: The line is not UTF-8 text.",
    ]


def test_an_id_given_twice_in_the_file(archivist, world):
    line = _claim(world)
    assert refused([line, _source(), dict(line)], archivist) == [
        f"line 3: id: {DUPLICATE_ID.format(value=line['id'], line=1)}"
    ]


def test_a_key_given_twice_in_a_line_is_refused(archivist, world):
    good = json.dumps(_claim(world)).encode()
    twice = b'{"record": "source", "id": "%s", "title": "Right", "title": "Wrong"}' % (
        str(uuid.uuid4()).encode()
    )
    assert refused([good, twice], archivist) == [f"line 2: title: {GIVEN_TWICE}"]


def test_a_line_with_a_bad_id_still_has_its_other_problems_listed(archivist, world):
    line = _source(id="nope", title="", url="ftp://example.org/")
    assert sorted(refused([line], archivist)) == [
        f"line 1: id: {NOT_A_UUID.format(value='nope')}",
        f"line 1: title: {REQUIRED}",
        f"line 1: url: {URL_SCHEME}",
    ]


def test_an_id_the_archive_already_uses(archivist, world):
    line = _claim(world, id=str(world["subject"].pk))
    assert refused([line], archivist) == [
        f"line 1: id: {ID_IN_ARCHIVE.format(value=world['subject'].pk, kind='subject')}"
    ]


# --- running the same file again ---------------------------------------------------------------


def test_running_the_same_file_again_stores_nothing(archivist, world, catalogue):
    import_records(lines(catalogue), actor=archivist)
    count = StoredEvent.objects.count()
    report = import_records(lines(catalogue), actor=archivist)
    assert report.already_imported == len(catalogue) and report.events == []
    assert report.new == {"source": 0, "subject": 0, "claim": 0}
    assert StoredEvent.objects.count() == count


def test_a_grown_file_imports_only_its_new_lines(archivist, other_archivist, world, catalogue):
    import_records(lines(catalogue[:3]), actor=archivist)
    # Reformatted (keys in another order), and run by another archivist: still the same lines.
    reordered = [dict(reversed(list(record.items()))) for record in catalogue]
    report = import_records(lines(reordered), actor=other_archivist)
    assert report.already_imported == 3 and report.new == {"source": 0, "subject": 0, "claim": 3}
    assert Claim.objects.get(pk=catalogue[5]["id"]).registered_by == other_archivist
    assert verify_chain(iter_log()).ok and check_replay().ok


def test_a_changed_line_with_an_imported_id_is_refused(archivist, world, catalogue):
    import_records(lines(catalogue), actor=archivist)
    changed = {**catalogue[2], "attributed_to": "someone else"}
    assert refused([changed], archivist) == [
        f"line 1: id: {IMPORTED_OTHERWISE.format(value=changed['id'])}"
    ]


# --- the actor ---------------------------------------------------------------------------------


def test_the_actor_must_be_an_active_archivist(world, catalogue, reviewer):
    with pytest.raises(RoleRequired):
        import_records(lines(catalogue), actor=reviewer)
    inactive = make_user("gone", "Archivist", is_active=False)
    with pytest.raises(ValidationError):
        import_records(lines(catalogue), actor=inactive)
    assert not Claim.objects.exists()


# --- the management command --------------------------------------------------------------------


@pytest.fixture
def write(tmp_path):
    def write(records) -> str:
        path = tmp_path / "catalogue.jsonl"
        path.write_bytes(b"\n".join(lines(records)) + b"\n")
        return str(path)

    return write


def test_the_command_imports_and_reports(archivist, world, catalogue, write):
    out = io.StringIO()
    call_command(
        "import_claims", write(catalogue), "--actor", "archivist", "--no-progress", stdout=out
    )
    assert "Registered as drafts: 1 source(s), 1 subject(s), 4 claim(s)" in out.getvalue()
    # The time is the steps' together, the commit (the deferred reference checks) included.
    total = re.search(r"6 events in ([0-9.]+) s \([0-9,]+ events/s\)", out.getvalue())
    steps = re.search(r"Time per step: (.*)\.$", out.getvalue(), re.MULTILINE)
    spent = dict(step.split(" ")[:2] for step in steps[1].split(", "))
    assert list(spent) == ["parse", "check", "append", "project", "commit"]
    assert float(total[1]) == pytest.approx(sum(map(float, spent.values())), abs=0.035)
    # The benchmark reads the same line.
    assert child.import_steps(out.getvalue()) == {name: float(s) for name, s in spent.items()}
    event = StoredEvent.objects.get(stream_id=catalogue[3]["id"])
    assert event.metadata["reason"] == "Imported from catalogue.jsonl"
    out = io.StringIO()
    call_command(
        "import_claims", write(catalogue), "--actor", "archivist", "--no-progress", stdout=out
    )
    assert "Nothing new to import: 6 line(s) imported before, skipped." in out.getvalue()
    assert child.import_steps(out.getvalue()) == {}


def test_the_command_can_submit_what_it_imports(archivist, world, catalogue, write):
    out = io.StringIO()
    call_command(
        "import_claims",
        write(catalogue),
        "--actor",
        "archivist",
        "--submit",
        "--no-progress",
        stdout=out,
    )
    assert "Registered and submitted for review: 1 source(s), 1 subject(s), 4 claim(s)" in (
        out.getvalue()
    )
    assert "12 events" in out.getvalue()
    assert Claim.objects.get(pk=catalogue[2]["id"]).status == Status.IN_REVIEW


def test_the_command_lists_problems_up_to_a_limit_and_exits_non_zero(archivist, world, write):
    bad = [_claim(world, property="nope") for _ in range(12)]
    with pytest.raises(CommandError) as failed:
        call_command(
            "import_claims",
            write(bad),
            "--actor",
            "archivist",
            "--max-errors",
            "5",
            "--no-progress",
        )
    message = str(failed.value)
    assert message.startswith("Nothing was imported: 12 problems in ")
    assert f"line 5: property: {UNKNOWN_PROPERTY.format(key='nope')}" in message
    assert "line 6:" not in message and message.endswith("… and 7 more problems")
    assert not Claim.objects.exists()


@pytest.mark.parametrize("limit", ["0", "-3", "many"])
def test_the_command_refuses_a_limit_below_one(archivist, world, catalogue, write, limit):
    with pytest.raises(CommandError, match=f"--max-errors.*not '{limit}'"):
        call_command(
            "import_claims", write(catalogue), "--actor", "archivist", "--max-errors", limit
        )
    assert not Claim.objects.exists()


def test_the_command_needs_an_existing_account(world, catalogue, write):
    with pytest.raises(CommandError, match="No account 'nobody'"):
        call_command("import_claims", write(catalogue), "--actor", "nobody", "--no-progress")


def test_the_command_refuses_a_reviewer(reviewer, world, catalogue, write):
    with pytest.raises(CommandError, match="Only archivists can import records; reviewer"):
        call_command("import_claims", write(catalogue), "--actor", "reviewer", "--no-progress")


def test_the_documented_example_imports_onto_the_seeds(archivist, reviewer):
    from records.seeding import SEEDS_DIR, load_seeds

    load_seeds(archivist=archivist, reviewer=reviewer)
    example = SEEDS_DIR.parent / "docs" / "import-example.jsonl"
    out = io.StringIO()
    call_command("import_claims", str(example), "--actor", "archivist", "--no-progress", stdout=out)
    assert "Registered as drafts: 1 source(s), 1 subject(s), 2 claim(s)" in out.getvalue()
    assert verify_chain(iter_log()).ok and check_replay().ok


# --- the parts ---------------------------------------------------------------------------------


def test_plain_edtf_dates_get_the_bounds_the_edtf_package_gives():
    def parsed(text):
        try:
            result = parse_edtf(text)
            return struct_time_to_date(result.lower_strict()), struct_time_to_date(
                result.upper_strict()
            )
        except Exception as error:  # the same failure is what is compared
            return type(error)

    def fast(text):
        try:
            return edtf_bounds(text)
        except Exception as error:
            return type(error)

    texts = [
        f"{year}{month}{day}"
        for year in ("0000", "0001", "1900", "1942", "2000", "2024")
        for month in ("", "-00", "-01", "-02", "-09", "-12", "-13", "-21", "-24")
        for day in ("", "-00", "-01", "-28", "-29", "-30", "-31", "-32")
        if month or not day
    ]
    # Other scripts' digits are not EDTF ("\\d" would take them).
    texts += ["١٩٤٢", "١٩٤٢-٠٩", "１９４２", "1942-٠٩"]
    assert [fast(text) for text in texts] == [parsed(text) for text in texts]
    assert edtf_bounds("1942-09") == (date(1942, 9, 1), date(1942, 9, 30))


def _source_registered(source_id, full_text: str = "") -> SourceRegistered:
    """A bare SourceRegistered event, for the bulk append's own tests."""
    return SourceRegistered(
        source_id=str(source_id),
        title="T",
        author="",
        publisher="",
        published="",
        url="",
        archive_reference="",
        accessed=None,
        licence="",
        attribution="",
        full_text=full_text,
    )


@pytest.mark.parametrize("insert", ["copy", "bulk_create"])
def test_a_bulk_append_chains_like_append(archivist, insert, monkeypatch, postgres_only):
    if insert == "bulk_create":
        monkeypatch.setattr(bulk_write, "_copy", bulk_write._bulk_create)
        monkeypatch.setattr(bulk_write, "BATCH_SIZE", 2)
    factories.source(archivist)
    events = [
        bulk_append.NewEvent(_source_registered(record_id, "ä"), uuid.uuid4(), reason="r")
        for record_id in ids(5)
    ]
    rows = bulk_append.append_new_streams(events, actor=archivist)
    assert [row.position for row in rows] == list(range(2, 7))
    assert verify_chain(iter_log()).ok
    stored = StoredEvent.objects.get(position=3)
    assert (stored.data, stored.metadata) == (rows[1].data, rows[1].metadata)


def test_a_bulk_append_refuses_an_existing_stream(archivist):
    source = factories.source(archivist)
    count = StoredEvent.objects.count()
    event = _source_registered(source.pk)
    fresh = _source_registered(uuid.uuid4())
    with pytest.raises(ConcurrencyError) as refusal:
        bulk_append.append_new_streams(
            [bulk_append.NewEvent(fresh, uuid.uuid4()), bulk_append.NewEvent(event, uuid.uuid4())],
            actor=archivist,
        )
    # The stream that exists is named, not the first one of the batch.
    assert (refusal.value.stream_id, refusal.value.actual) == (source.pk, 1)
    assert StoredEvent.objects.count() == count


def test_a_bulk_append_refuses_an_event_id_in_use(archivist):
    source = factories.source(archivist)
    used = StoredEvent.objects.get(stream_id=source.pk).event_id
    event = _source_registered(uuid.uuid4())
    count = StoredEvent.objects.count()
    with pytest.raises(IdempotencyConflict):
        bulk_append.append_new_streams([bulk_append.NewEvent(event, used)], actor=archivist)
    assert StoredEvent.objects.count() == count
