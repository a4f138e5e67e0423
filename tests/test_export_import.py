"""Backup and restore of the event log (manage.py export_events / import_events,
docs/backup-restore.md): the export's format, a round trip that gives the same log and read
models, and every refusal of a damaged file or a database that is not empty, storing nothing.

The restore needs an empty database. A test empties its own: the append-only triggers are lifted
for that moment only, as ``test_event_store._tamper`` does, inside the test's transaction, which
is rolled back afterwards with the triggers. The accounts stay, as the restore procedure says to
restore them first. One test restores into a really fresh database too: a new SQLite file,
migrated and filled by ``manage.py`` in a subprocess, whatever the test's own backend.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import sys
import uuid
from collections import Counter
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from records import append_only, commands
from records.commands.claims import current_fields
from records.event_export import EVENT_FIELDS, FORMAT, encode_line, export_log
from records.event_import import ExportReader, RestoreRefused, restore
from records.event_store import iter_log
from records.hashing import GENESIS_HASH, hash_of_row, verify_chain
from records.models import Claim, StoredEvent
from records.replay import _fields, check_replay, clear_projections, projection_tables
from records.seeding import load_seeds, seed_id
from tests.conftest import make_user

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.django_db


# --- the archive, and ways to look at it -------------------------------------------------------


@pytest.fixture
def archive(archivist, other_archivist, reviewer):
    """The seeds, then a rank, a retraction, a revision sent back with changes requested, a
    revision approved, and a review comment: events of every stream type and most kinds."""
    load_seeds(archivist=archivist, reviewer=reviewer)
    commands.rank_claim(
        claim_id=seed_id("claim", "raid-date"), rank="preferred", reason="Exact", actor=reviewer
    )
    commands.retract_claim(
        claim_id=seed_id("claim", "airmen-shot-three"), reason="Duplicate", actor=reviewer
    )
    claim = Claim.objects.get(pk=seed_id("claim", "airmen-captured-eight"))
    claim = commands.revise_claim(
        claim_id=claim.pk,
        expected_version=claim.version,
        value={"original": "eight", "best": 8, "approximate": True},
        citation={"source_id": claim.source_id, "quote": claim.quote},
        reason="Rounded",
        actor=other_archivist,
    )
    commands.submit_for_review(record_type="claim", record_id=claim.pk, actor=other_archivist)
    commands.request_changes(
        record_type="claim", record_id=claim.pk, revision=2, comment="Why?", actor=reviewer
    )
    claim = Claim.objects.get(pk=seed_id("claim", "civilian-deaths-chinese-estimates"))
    fields = current_fields(claim)
    claim = commands.revise_claim(
        claim_id=claim.pk,
        expected_version=claim.version,
        value={**fields["value"], "original": "about 250,000"},
        citation=fields["citation"],
        attributed_to=fields["attributed_to"],
        note="浙贛作戦: the Japanese name of the campaign.",
        reason="Wording of the source",
        actor=archivist,
    )
    commands.submit_for_review(record_type="claim", record_id=claim.pk, actor=archivist)
    commands.approve_revision(
        record_type="claim", record_id=claim.pk, revision=2, comment="Agreed.", actor=reviewer
    )
    commands.add_review_comment(
        record_type="claim", record_id=claim.pk, text="Check the Chinese sources.", actor=reviewer
    )
    assert check_replay().ok
    return StoredEvent.objects.count()


def stored_events() -> list[tuple]:
    return list(StoredEvent.objects.order_by("position").values_list(*EVENT_FIELDS))


def projection_rows() -> dict[str, Counter]:
    """Every row of every read model and history table, as a multiset; history ids (surrogate
    keys that a replay numbers afresh) left out."""
    state = {}
    for table in projection_tables():
        names = [field.attname for field in _fields(table)]
        rows = table.objects.values_list(*names)
        state[table._meta.label] = Counter(json.dumps(row, default=str) for row in rows)
    return state


def projections_are_empty() -> bool:
    return not any(table.objects.exists() for table in projection_tables())


def empty_the_database() -> None:
    """What a freshly migrated database holds (the accounts aside): no events, no read models.
    Rolled back with the test's transaction."""
    append_only.uninstall(connection)
    clear_projections()
    StoredEvent.objects.all()._raw_delete(StoredEvent.objects.db)
    append_only.install(connection)
    assert not StoredEvent.objects.exists() and projections_are_empty()


def export(path: Path, *options: str) -> str:
    out = io.StringIO()
    call_command("export_events", "--output", str(path), "--no-progress", *options, stdout=out)
    return out.getvalue()


def import_events(path: Path, *options: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_events", str(path), "--no-progress", *options, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def exported(archive, tmp_path) -> Path:
    path = tmp_path / "log.jsonl"
    export(path)
    return path


def read_lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in read_lines(path)]


# --- the export --------------------------------------------------------------------------------


def test_the_export_is_a_header_every_event_in_position_order_and_a_trailer(exported):
    lines = read_lines(exported)
    assert all(line.endswith(b"\n") for line in lines)
    header, *events, trailer = (json.loads(line) for line in lines)
    stored = stored_events()
    last = stored[-1]

    assert header == {
        "format": FORMAT,
        "format_version": 1,
        "events": len(stored),
        "last_position": last[0],
        "last_hash": last[-1],
        "exported_at": header["exported_at"],
    }
    assert datetime.fromisoformat(header["exported_at"]).utcoffset().total_seconds() == 0
    assert [event["position"] for event in events] == [row[0] for row in stored]
    for event, row in zip(events, stored, strict=True):
        assert list(event) == list(EVENT_FIELDS)
        expected = dict(zip(EVENT_FIELDS, row, strict=True))
        assert event["event_id"] == str(expected["event_id"])
        assert event["stream_id"] == str(expected["stream_id"])
        assert datetime.fromisoformat(event["recorded_at"]) == expected["recorded_at"]
        for name in ("stream_type", "version", "event_type", "schema_version", "data"):
            assert event[name] == expected[name], name
        assert event["metadata"] == expected["metadata"]
        assert (event["previous_hash"], event["hash"]) == (
            expected["previous_hash"],
            expected["hash"],
        )
    assert trailer == {
        "end": FORMAT,
        "events": len(stored),
        "last_position": last[0],
        "last_hash": last[-1],
        "sha256": hashlib.sha256(b"".join(lines[:-1])).hexdigest(),
    }


def test_each_exported_line_hashes_to_its_stored_hash(exported):
    """The export carries everything the hash covers: the chain checks out from the file."""
    reader = ExportReader(read_lines(exported))
    assert sum(1 for _ in reader.events()) == StoredEvent.objects.count()


def test_non_ascii_text_is_written_as_utf8_and_one_event_stays_on_one_line(exported):
    text = exported.read_bytes()
    assert "浙贛作戦".encode() in text
    assert len(read_lines(exported)) == StoredEvent.objects.count() + 2


def test_the_export_reads_the_log_in_pages(archive):
    """Pages of any size give the same events."""
    outputs = []
    for page_size in (1, 7, 5000):
        chunks = []
        export_log(chunks.append, page_size=page_size)
        outputs.append(chunks[1:-1])
    assert outputs[0] == outputs[1] == outputs[2]


def test_the_export_goes_to_standard_output_by_default(exported):
    out, err = io.StringIO(), io.StringIO()
    call_command("export_events", "--no-progress", stdout=out, stderr=err)
    written = out.getvalue().encode().splitlines(keepends=True)
    # Only the header's time differs, and with it the trailer's digest.
    assert written[1:-1] == read_lines(exported)[1:-1]
    assert f"Exported {StoredEvent.objects.count()} events" in err.getvalue()


def test_the_export_reports_the_last_hash_to_keep(exported, tmp_path):
    message = export(tmp_path / "again.jsonl")
    last = StoredEvent.objects.order_by("-position").first()
    assert f"last position {last.position}, last hash {last.hash}" in message


def test_an_empty_log_exports_and_restores(db, tmp_path):
    path = tmp_path / "empty.jsonl"
    export(path)
    header, trailer = records(path)
    assert (header["events"], header["last_position"], header["last_hash"]) == (
        0,
        None,
        GENESIS_HASH,
    )
    assert trailer["events"] == 0
    out, _ = import_events(path)
    assert out.startswith("Restored 0 events")


# --- the round trip ---------------------------------------------------------------------------


def test_a_round_trip_gives_the_same_log_and_the_same_read_models(exported):
    log, read_models = stored_events(), projection_rows()
    empty_the_database()

    out, err = import_events(exported)

    assert stored_events() == log
    assert projection_rows() == read_models
    assert f"Restored {len(log)} events" in out
    assert f"rebuilt the read models from {len(log)} events" in out
    assert err == ""  # every account the events name is here
    assert verify_chain(iter_log()).ok
    assert check_replay().ok
    verified = io.StringIO()
    call_command("verify_archive", "--no-progress", stdout=verified)
    assert "gives exactly the live state" in verified.getvalue()


def test_an_export_of_the_restored_log_is_the_same_file(exported, tmp_path):
    empty_the_database()
    import_events(exported)
    again = tmp_path / "again.jsonl"
    export(again)
    assert read_lines(again)[1:-1] == read_lines(exported)[1:-1]


def test_an_append_after_the_restore_continues_the_log(exported, reviewer):
    last = StoredEvent.objects.order_by("-position").first()
    empty_the_database()
    import_events(exported)

    commands.add_review_comment(
        record_type="claim",
        record_id=seed_id("claim", "raid-date"),
        text="Restored and still taking comments.",
        actor=reviewer,
    )

    appended = StoredEvent.objects.order_by("-position").first()
    assert appended.position == last.position + 1
    assert appended.previous_hash == last.hash
    assert appended.recorded_at > last.recorded_at
    report = verify_chain(iter_log())
    assert report.ok and report.checked == last.position + 1
    assert check_replay().ok


def test_the_restore_names_accounts_that_the_database_lacks(exported, other_archivist):
    missing = other_archivist.pk
    empty_the_database()
    other_archivist.delete()

    _, err = import_events(exported)

    assert f"account ids that this database lacks ({missing})" in err
    assert StoredEvent.objects.count() == len(records(exported)) - 2
    claim = Claim.objects.get(pk=seed_id("claim", "airmen-captured-eight"))
    assert claim.history.filter(history_user=None).exists()


def test_a_fresh_database_restored_by_manage_py_holds_the_same_log(exported, tmp_path):
    """A new SQLite file, migrated, its accounts loaded, the export imported, all by manage.py
    in another process; whatever database the test runs on (PostgreSQL's export restores
    into SQLite as well). Its own export then has the same events, and it verifies."""
    accounts = tmp_path / "accounts.json"
    call_command("dumpdata", "auth.user", "--natural-foreign", "--output", str(accounts))
    database = tmp_path / "fresh.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "SECRET_KEY": "test-only-key",
        "HTTPS_ONLY": "0",
        "LOG_FORMAT": "text",
    }
    env.pop("DATABASE_REPLICA_URLS", None)

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    manage("migrate", "--no-input", "-v0")
    manage("loaddata", str(accounts))
    restored = manage("import_events", str(exported), "--no-progress")
    assert f"Restored {StoredEvent.objects.count()} events" in restored
    assert "gives exactly the live state" in manage("verify_archive", "--no-progress")
    again = tmp_path / "again.jsonl"
    manage("export_events", "--output", str(again), "--no-progress")
    assert read_lines(again)[1:-1] == read_lines(exported)[1:-1]
    refused = subprocess.run(
        [sys.executable, "manage.py", "import_events", str(exported), "--no-progress"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert refused.returncode == 1
    assert "the database already holds" in refused.stderr


# --- refusals: a damaged file ------------------------------------------------------------------


def _event_line(lines: list[bytes], position: int) -> int:
    """The index in ``lines`` of the event at ``position``."""
    for index, line in enumerate(lines):
        if json.loads(line).get("position") == position:
            return index
    raise LookupError(position)


def _edit(lines, index, change) -> None:
    record = json.loads(lines[index])
    change(record)
    lines[index] = encode_line(record)


def _retraction() -> StoredEvent:
    return StoredEvent.objects.get(event_type="ClaimRetracted")


def tamper_data(lines):
    position = _retraction().position
    index = _event_line(lines, position)
    _edit(lines, index, lambda event: event["data"].update(reason="x"))
    return index + 1, position, "hash does not match the event's contents"


def tamper_metadata(lines):
    position = _retraction().position
    index = _event_line(lines, position)
    _edit(lines, index, lambda event: event["metadata"].update(actor="someone else"))
    return index + 1, position, "hash does not match the event's contents"


def tamper_time(lines):
    position = _retraction().position
    index = _event_line(lines, position)
    _edit(lines, index, lambda event: event.update(recorded_at="2020-01-01T00:00:00+00:00"))
    return index + 1, position, "hash does not match the event's contents"


def tamper_hash(lines):
    position = _retraction().position
    index = _event_line(lines, position)
    _edit(lines, index, lambda event: event.update(hash="a" * 64))
    return index + 1, position, "hash does not match the event's contents"


def forge_and_rehash(lines):
    """A forger who rehashes the event they changed still breaks the next link."""
    position = _retraction().position
    index = _event_line(lines, position)
    record = json.loads(lines[index])
    record["data"]["reason"] = "Forged"
    row = _row(record)
    record["hash"] = hash_of_row(row, record["previous_hash"])
    lines[index] = encode_line(record)
    return index + 2, position + 1, "previous_hash does not match the event before"


def _row(record):
    fields = {**record, "recorded_at": datetime.fromisoformat(record["recorded_at"])}
    fields["stream_id"] = uuid.UUID(fields["stream_id"])
    return SimpleNamespace(**fields)


def _rehash_from(lines: list[bytes], index: int) -> None:
    """Rehash the chain from the event on line ``index`` (0-based) to the end, and the header
    and trailer with it: a forger who rewrites the whole tail, so that every hash holds."""
    events = [json.loads(line) for line in lines[1:-1]]
    previous = events[index - 2]["hash"] if index > 1 else GENESIS_HASH
    for event in events[index - 1 :]:
        event["previous_hash"] = previous
        event["hash"] = previous = hash_of_row(_row(event), previous)
    lines[1:-1] = [encode_line(event) for event in events]
    _reseal(lines)


def _reseal(lines: list[bytes]) -> None:
    """Make the header and trailer agree with the events as they now stand: the last hash, and
    the trailer's digest of every line before it."""
    header, trailer = json.loads(lines[0]), json.loads(lines[-1])
    header["last_hash"] = trailer["last_hash"] = json.loads(lines[-2])["hash"]
    lines[0] = encode_line(header)
    trailer["sha256"] = hashlib.sha256(b"".join(lines[:-1])).hexdigest()
    lines[-1] = encode_line(trailer)


def _forged_data(name: str, event_type: str, refusal: str, changes: dict):
    """A forger who changes the data of the first event of ``event_type`` and rehashes
    everything after it: the chain holds, and the data no longer fits the event's type."""

    def forge(lines):
        position = StoredEvent.objects.filter(event_type=event_type).order_by("position")[0]
        index = _event_line(lines, position.position)
        _edit(lines, index, lambda event: event["data"].update(changes))
        _rehash_from(lines, index)
        return (
            index + 1,
            position.position,
            f"{event_type}'s data does not fit its type: {refusal}",
        )

    forge.__name__ = name
    return forge


FORGED_DATA = [
    _forged_data(
        "a_revision_beyond_four_bytes",
        "ChangesRequested",
        "revision must be a whole number from 1 to 2147483647, not 4294967298",
        {"revision": 2**32 + 2},
    ),
    _forged_data(
        "a_revision_as_text",
        "SubmittedForReview",
        "revision must be a whole number from 1 to 2147483647, not '1'",
        {"revision": "1"},
    ),
    _forged_data(
        "a_flag_as_text",
        "PropertyDefined",
        "count must be true or false, not 'false'",
        {"count": "false"},
    ),
    _forged_data(
        "a_date_as_a_number",
        "SourceRegistered",
        "accessed must be text or null, not 20240101",
        {"accessed": 20240101},
    ),
    _forged_data(
        "names_as_plain_text",
        "SubjectRegistered",
        "names must be a list of JSON objects, not ['浙贛作戦']",
        {"names": ["浙贛作戦"]},
    ),
    _forged_data(
        "a_value_as_a_list",
        "ClaimRegistered",
        "value must be a JSON object, not [8]",
        {"value": [8]},
    ),
    _forged_data(
        "a_review_of_an_unknown_kind_of_record",
        "SubmittedForReview",
        "record_type must be one of 'source', 'subject', 'claim', not 'account'",
        {"record_type": "account"},
    ),
    _forged_data(
        "an_id_in_another_form",
        "ClaimRetracted",
        "claim_id must be the text of a UUID (32 hex digits), not 'urn:uuid:",
        {"claim_id": "urn:uuid:" + str(seed_id("claim", "airmen-shot-three"))},
    ),
    _forged_data(
        "a_subject_of_a_kind_there_is_not",
        "SubjectRegistered",
        "kind must be one of 'event', 'person', 'place', 'organisation', 'object', not 'planet'",
        {"kind": "planet"},
    ),
    _forged_data(
        "a_property_of_a_type_there_is_not",
        "PropertyDefined",
        "value_type must be one of 'quantity', 'date', 'text', 'subject', not 'number'",
        {"value_type": "number"},
    ),
    _forged_data(
        "a_rank_there_is_not",
        "ClaimRanked",
        "rank must be one of 'preferred', 'normal', 'deprecated', not 'best'",
        {"rank": "best"},
    ),
    _forged_data(
        "a_reason_that_is_not_text",
        "ClaimRanked",
        "reason must be text, not None",
        {"reason": None},
    ),
]


def swap_lines(lines):
    index = _event_line(lines, 10)
    lines[index], lines[index + 1] = lines[index + 1], lines[index]
    return index + 1, 11, "previous_hash does not match the event before"


def move_a_line_back(lines):
    index = _event_line(lines, 10)
    lines.insert(index + 3, lines.pop(index))
    # Positions 11, 12 follow 9 and break its link first.
    return index + 1, 11, "previous_hash does not match the event before"


def drop_a_line(lines):
    index = _event_line(lines, 20)
    del lines[index]
    return index + 1, 21, "previous_hash does not match the event before"


def duplicate_a_line(lines):
    index = _event_line(lines, 20)
    lines.insert(index, lines[index])
    return index + 2, 20, "position out of order (after position 20)"


def drop_the_trailer(lines):
    events = len(lines) - 2
    del lines[-1]
    return (
        len(lines),
        None,
        f"the file ends after position {events} without its trailer line: it was cut short "
        f"({events} of the {events} events the header counts are here)",
    )


def drop_the_tail(lines):
    events = len(lines) - 2
    del lines[-4:]
    return (
        len(lines),
        None,
        f"the file ends after position {events - 3} without its trailer line: it was cut "
        f"short ({events - 3} of the {events} events",
    )


def cut_the_last_line_in_half(lines):
    lines[-1] = lines[-1][: len(lines[-1]) // 2]
    return len(lines), None, "the last line is cut short"


def cut_an_event_line_in_half(lines):
    """A file cut off while an event was being written."""
    index = _event_line(lines, 50)
    del lines[index + 1 :]
    lines[index] = lines[index][:100]
    return index + 1, None, "the last line is cut short"


def not_json(lines):
    index = _event_line(lines, 30)
    lines[index] = b"position 30: lost\n"
    return index + 1, None, "not a JSON line"


def not_an_object(lines):
    index = _event_line(lines, 30)
    lines[index] = b"[30]\n"
    return index + 1, None, "not a JSON object but list"


def an_empty_line(lines):
    index = _event_line(lines, 30)
    lines.insert(index, b"\n")
    return index + 1, None, "an empty line"


def missing_field(lines):
    index = _event_line(lines, 40)
    _edit(lines, index, lambda event: event.pop("previous_hash"))
    return index + 1, 40, "missing field previous_hash"


def missing_position(lines):
    index = _event_line(lines, 40)
    _edit(lines, index, lambda event: event.pop("position"))
    return index + 1, None, "missing field position"


def a_registration_later_in_its_stream(lines):
    """A forger who makes a claim's registration a later version of its stream, rehashing the
    rest: the chain holds, but a record would no longer be registered once."""
    position = StoredEvent.objects.filter(event_type="ClaimRegistered").order_by("position")[0]
    index = _event_line(lines, position.position)
    _edit(lines, index, lambda event: event.update(version=7))
    _rehash_from(lines, index)
    reason = "version must be 1 for ClaimRegistered, which opens its record's stream, not 7"
    return index + 1, position.position, reason


def a_stream_that_is_not_its_records(lines):
    """A forger who files a claim's revision under another stream, rehashing the rest: the
    chain holds, but the replay would change the claim the data names, in a stream that never
    opened."""
    position = StoredEvent.objects.filter(event_type="ClaimRevised").order_by("position")[0]
    index = _event_line(lines, position.position)
    claim_id = json.loads(lines[index])["data"]["claim_id"]
    other = str(uuid.uuid4())
    _edit(lines, index, lambda event: event.update(stream_id=other))
    _rehash_from(lines, index)
    reason = f"stream_id must be the claim_id of its data ({claim_id}), not {other}"
    return index + 1, position.position, reason


def a_stream_of_another_type(lines):
    position = StoredEvent.objects.filter(event_type="SourceRegistered").order_by("position")[0]
    index = _event_line(lines, position.position)
    _edit(lines, index, lambda event: event.update(stream_type="claim"))
    _rehash_from(lines, index)
    reason = "stream_type must be 'source' for SourceRegistered, not 'claim'"
    return index + 1, position.position, reason


def unexpected_field(lines):
    index = _event_line(lines, 40)
    _edit(lines, index, lambda event: event.update(published=True))
    return index + 1, 40, "unexpected field published"


def wrong_type(lines):
    index = _event_line(lines, 40)
    _edit(lines, index, lambda event: event.update(version="2"))
    return index + 1, 40, "version must be a whole number from 1 to"


def naive_time(lines):
    index = _event_line(lines, 40)
    _edit(lines, index, lambda event: event.update(recorded_at="2026-01-01T00:00:00"))
    return index + 1, 40, "recorded_at has no UTC offset"


def unknown_event_type(lines):
    index = _event_line(lines, 40)
    _edit(lines, index, lambda event: event.update(event_type="ClaimForged"))
    return index + 1, 40, "no event type named 'ClaimForged'"


def tamper_event_id(lines):
    """The hash chain does not cover event ids: the trailer's digest does."""
    index = _event_line(lines, 40)
    _edit(lines, index, lambda event: event.update(event_id=str(uuid.uuid4())))
    return len(lines), None, "the digest of the lines before the trailer is not the trailer's"


def no_header(lines):
    del lines[0]
    return 1, None, "not a Strata event log export"


def tamper_header_count(lines):
    _edit(lines, 0, lambda header: header.update(events=header["events"] + 1))
    return len(lines), None, "the trailer does not match the header"


def tamper_both_counts(lines):
    """A file cut short whose header and trailer were both made to agree with it."""
    events = len(lines) - 2
    del lines[-2]
    _edit(lines, 0, lambda header: header.update(events=events - 1))
    _edit(lines, -1, lambda trailer: trailer.update(events=events - 1))
    return len(lines), None, f"the last event (position {events - 1}"


def more_events_than_counted(lines):
    events = len(lines) - 2
    _edit(lines, 0, lambda header: header.update(events=events - 1))
    return len(lines) - 1, events, f"more events than the {events - 1} the header counts"


def a_line_after_the_trailer(lines):
    lines.append(lines[1])
    return len(lines), None, "a line after the trailer"


DAMAGE = [
    tamper_data,
    tamper_metadata,
    tamper_time,
    tamper_hash,
    forge_and_rehash,
    swap_lines,
    move_a_line_back,
    drop_a_line,
    duplicate_a_line,
    drop_the_trailer,
    drop_the_tail,
    cut_the_last_line_in_half,
    cut_an_event_line_in_half,
    not_json,
    not_an_object,
    an_empty_line,
    missing_field,
    missing_position,
    unexpected_field,
    wrong_type,
    naive_time,
    unknown_event_type,
    a_registration_later_in_its_stream,
    a_stream_that_is_not_its_records,
    a_stream_of_another_type,
    tamper_event_id,
    no_header,
    tamper_header_count,
    tamper_both_counts,
    more_events_than_counted,
    a_line_after_the_trailer,
    *FORGED_DATA,
]


@pytest.mark.parametrize("damage", DAMAGE, ids=lambda damage: damage.__name__)
def test_a_damaged_file_is_refused_naming_the_line_and_nothing_is_stored(
    exported, tmp_path, damage
):
    lines = read_lines(exported)
    line, position, reason = damage(lines)
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_bytes(b"".join(lines))
    empty_the_database()

    with pytest.raises(CommandError) as refused:
        import_events(damaged)

    where = f"line {line}" + (f" (position {position})" if position is not None else "")
    assert str(refused.value).startswith(f"Nothing was imported: {where}: "), str(refused.value)
    assert reason in str(refused.value)
    assert not StoredEvent.objects.exists()
    assert projections_are_empty()


@pytest.mark.parametrize("damage", DAMAGE, ids=lambda damage: damage.__name__)
def test_check_finds_the_same_damage_without_the_database(exported, tmp_path, damage):
    lines = read_lines(exported)
    line, _, reason = damage(lines)
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_bytes(b"".join(lines))

    with pytest.raises(CommandError, match=f"line {line}\\b.*{re.escape(reason)}"):
        import_events(damaged, "--check")


def _forge_and_empty(exported, event_type: str, change) -> tuple[list[bytes], int, int]:
    """The export with the first ``event_type`` event changed by ``change`` and the rest
    rehashed, and the database emptied for its restore; with that event's line and position."""
    lines = read_lines(exported)
    position = StoredEvent.objects.filter(event_type=event_type).order_by("position")[0].position
    index = _event_line(lines, position)
    _edit(lines, index, change)
    _rehash_from(lines, index)
    empty_the_database()
    return lines, index + 1, position


def _never_registered(event):
    # Stream and data alike: a revision in a stream of its own, which no claim opened.
    event["stream_id"] = event["data"]["claim_id"] = str(uuid.uuid4())


def _not_a_number(event):
    event["data"]["value"]["best"] = "many"


def _a_list_for_a_number(event):
    event["data"]["value"]["best"] = [1]


def _not_a_day(event):
    event["data"]["accessed"] = "yesterday"


@pytest.mark.parametrize(
    ("event_type", "change", "reason"),
    [
        (
            "ClaimRevised",
            _never_registered,
            "ClaimRevised could not be projected: DoesNotExist: Claim ",
        ),
        (
            "ClaimRegistered",
            _not_a_number,
            "ClaimRegistered could not be projected: ValueError: value.best must be a decimal "
            "number, not 'many'",
        ),
        (
            "ClaimRegistered",
            _a_list_for_a_number,
            "ClaimRegistered could not be projected: ValueError: value.best must be a decimal "
            "number, not [1]",
        ),
        (
            "SourceRegistered",
            _not_a_day,
            "SourceRegistered could not be projected: ValueError: accessed must be an ISO 8601 "
            "day, not 'yesterday'",
        ),
    ],
    ids=[
        "a_revision_of_a_claim_never_registered",
        "a_quantity_that_is_not_a_number",
        "a_list_for_a_quantity",
        "a_day_that_is_not_one",
    ],
)
def test_a_forgery_whose_events_fit_their_types_but_cannot_be_replayed_is_refused(
    exported, tmp_path, event_type, change, reason
):
    """Rehashed, every event of the right types, and still impossible: the replay finds it, and
    the refusal names the event's line, as any other; nothing is stored."""
    lines, line, position = _forge_and_empty(exported, event_type, change)
    forged = tmp_path / "forged.jsonl"
    forged.write_bytes(b"".join(lines))

    with pytest.raises(CommandError) as refused:
        import_events(forged)

    assert str(refused.value).startswith(
        f"Nothing was imported: line {line} (position {position}): the replay refused this "
        f"event: {reason}"
    ), str(refused.value)
    assert not StoredEvent.objects.exists()
    assert projections_are_empty()


def test_a_forgery_with_values_the_read_models_cannot_hold_is_refused(exported, postgres_only):
    """A quote's offset beyond 4 bytes fits the event's type (the citation is any JSON object)
    and cannot be stored in the claim's integer column: PostgreSQL refuses the replay's page,
    and the refusal names its events and the column. SQLite's integers take the value."""

    def offset_beyond_int4(event):
        event["data"]["citation"]["start"] = 2**40

    lines, _, position = _forge_and_empty(exported, "ClaimRegistered", offset_beyond_int4)

    with pytest.raises(RestoreRefused) as refused:
        restore(lines)

    message = str(refused.value)
    assert message.startswith("the replay refused the events at positions 1 to "), message
    assert "the records they make could not be written: DataError: " in message
    assert "out of range for type integer" in message
    assert "quote_start" in message
    assert not StoredEvent.objects.exists()
    assert projections_are_empty()


def test_ids_in_every_form_the_commands_keep_are_restored(archive, archivist, tmp_path):
    """A new record's id is kept in the form its caller gave (here upper case): the export
    holds it so, and the restore takes it, to the same log and read models."""
    given = str(uuid.uuid4()).upper()
    commands.register_source(
        source_id=given, title="Upper-case id", full_text="Text.", actor=archivist
    )
    assert StoredEvent.objects.filter(data__source_id=given).exists()
    path = tmp_path / "log.jsonl"
    export(path)
    before, rows = stored_events(), projection_rows()
    empty_the_database()

    import_events(path)

    assert stored_events() == before
    assert projection_rows() == rows


def test_check_passes_an_intact_file(exported):
    out, _ = import_events(exported, "--check")
    count = StoredEvent.objects.count()
    assert out.startswith(f"The file is a complete export of {count} events, every hash intact")


def test_an_empty_file_is_refused(db, tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    with pytest.raises(CommandError, match="the file is empty"):
        import_events(path)


def test_a_missing_file_is_refused(db, tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        import_events(tmp_path / "nowhere.jsonl")


def test_a_database_that_holds_events_is_refused(exported):
    before = stored_events()
    rows = projection_rows()
    with pytest.raises(CommandError) as refused:
        import_events(exported)
    assert str(refused.value) == (
        f"Nothing was imported: the database already holds {len(before)} events (last position "
        f"{before[-1][0]}): import_events restores into an empty database only (migrated, no "
        "events)."
    )
    assert stored_events() == before
    assert projection_rows() == rows


def test_the_last_hash_given_must_be_the_files(exported):
    last = StoredEvent.objects.order_by("-position").first().hash
    empty_the_database()
    with pytest.raises(CommandError, match=f"line 1: the export ends at hash {last}, not at"):
        import_events(exported, "--last-hash", "b" * 64)
    assert not StoredEvent.objects.exists()
    out, _ = import_events(exported, "--last-hash", last)
    assert out.startswith("Restored")


def test_an_export_of_a_broken_log_fails_and_leaves_no_file(archive, tmp_path):
    """A backup that a restore would refuse is refused when it is made, not found out later."""
    gone = StoredEvent.objects.order_by("position")[10]
    append_only.uninstall(connection)
    StoredEvent.objects.filter(position=gone.position)._raw_delete(StoredEvent.objects.db)
    append_only.install(connection)
    target = tmp_path / "backup.jsonl"

    with pytest.raises(CommandError, match=rf"no file written\): position {gone.position + 1}: "):
        export(target)
    assert list(tmp_path.iterdir()) == []


def test_a_repeated_event_id_is_refused_by_the_logs_constraints(archive, tmp_path):
    """A forger can rewrite ids and the trailer's digest alike; the log's unique constraint
    still refuses an id given twice, and nothing is stored."""
    lines = []
    export_log(lines.append)
    events = [json.loads(line) for line in lines[1:-1]]
    events[5]["event_id"] = events[4]["event_id"]
    lines[1:-1] = [encode_line(event) for event in events]
    _reseal(lines)
    empty_the_database()

    with pytest.raises(RestoreRefused, match="an event_id .* appears twice") as refusal:
        restore(lines)
    if connection.vendor == "postgresql":
        assert refusal.value.line == 7  # COPY names the row: the sixth event, after the header
    assert not StoredEvent.objects.exists()
    assert projections_are_empty()


def test_an_event_whose_data_its_type_cannot_take_is_refused_at_its_line(archive):
    """A rehashed file (or one from a newer Strata) with a field the event type does not know
    is refused before anything is stored, not half-way through the replay."""
    lines = []
    export_log(lines.append)
    events = [json.loads(line) for line in lines[1:-1]]
    events[2]["data"]["invented"] = "x"
    lines[1:-1] = [encode_line(event) for event in events]
    _rehash_from(lines, 3)  # the forger rehashes from there on
    empty_the_database()

    with pytest.raises(RestoreRefused, match="data does not fit its type") as refusal:
        restore(lines)
    assert (refusal.value.line, refusal.value.position) == (4, events[2]["position"])
    assert not StoredEvent.objects.exists()


def test_the_restore_reads_the_file_as_it_goes(archive):
    """A file is never held whole: the reader has taken one line ahead of the event it gives."""
    lines = []
    export_log(lines.append)
    taken = []

    def reading():
        for line in lines:
            taken.append(line)
            yield line

    reader = ExportReader(reading())
    events = reader.events()
    for expected in range(1, 4):
        event = next(events)
        assert event.position == expected
        assert len(taken) == expected + 2  # the header, the events so far, one line ahead


def test_a_user_made_after_the_archive_does_not_matter(exported):
    """Accounts are not in the log: one made later neither breaks nor changes the restore."""
    empty_the_database()
    make_user("latecomer")
    out, err = import_events(exported)
    assert out.startswith("Restored") and err == ""
