"""verify_archive's chain check (records/chain_check.py) reads the log raw; it must report just
what ``verify_chain`` over model instances reports, on intact and on tampered logs."""

import dataclasses
import json
import threading
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from records import append_only, chain_check
from records.chain_check import check_log_chain
from records.event_store import NO_STREAM, append, iter_log
from records.events import DomainEvent, event_type
from records.hashing import BROKEN_LINK, OUT_OF_ORDER, WRONG_HASH, canonical_time, verify_chain


@event_type
@dataclasses.dataclass(frozen=True)
class PayloadRecorded(DomainEvent):
    """A test-only event type that holds any JSON value."""

    stream_type: ClassVar[str] = "test-payload"
    stream_field: ClassVar[str] = "payload_id"

    payload_id: str
    payload: Any


# Values that survive a round trip through jsonb and SQLite's text as they are (a float such as
# 1e16 would not: jsonb keeps it as the integer 10000000000000000).
PAYLOADS = [
    {"text": "plain", "n": 1},
    {"controls": "".join(chr(code) for code in range(1, 0x20)) + "\x7f", "quote": '"\\/'},
    {"scripts": "浙贛作戦 \u2028\u2029 \U0001f600 é", "": None, "flags": [True, False]},
    {"big": [2**63, 2**64, 2**70, -(2**63) - 1], "floats": [1.5, 0.1, 1e-05, -2.25]},
    {"nested": {"b": [{"y": 1, "x": [None, "z"]}], "a": {}}, "empty": []},
]


def record(actor, payloads=PAYLOADS):
    stream = uuid.uuid4()
    events = [PayloadRecorded(payload_id=str(stream), payload=payload) for payload in payloads]
    return append(stream_id=stream, expected_version=NO_STREAM, events=events, actor=actor).events


def tamper(sql: str, params=()) -> None:
    """What an intruder with the power to drop triggers could do; the test's transaction is
    rolled back afterwards, triggers included."""
    append_only.uninstall(connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    append_only.install(connection)


def assert_same_report(**options):
    fast = check_log_chain(**options)
    assert fast == verify_chain(iter_log())
    return fast


def test_an_intact_log_checks_as_verify_chain_checks_it(archivist):
    events = record(archivist) + record(archivist, [{"again": 2}])
    seen = []
    report = assert_same_report(on_row=lambda: seen.append(1))
    assert report.ok and report.checked == len(events) == len(seen)


def test_pages_join_up(archivist):
    record(archivist)
    assert assert_same_report(page_size=2).checked == len(PAYLOADS)


def test_an_empty_log_checks(db):
    assert assert_same_report().checked == 0


@pytest.mark.parametrize(
    "change",
    [
        'data = \'{"payload_id": "x", "payload": {"text": "forged", "n": 1}}\'',
        'metadata = \'{"actor": "someone else"}\'',
        "event_type = 'Forged'",
        "stream_type = 'forged'",
        "version = version + 100",
        "schema_version = 7",
        "recorded_at = recorded_at + interval '1 microsecond'",
    ],
)
def test_a_tampered_field_is_found_where_verify_chain_finds_it(archivist, change):
    events = record(archivist)
    if connection.vendor != "postgresql" and "interval" in change:
        change = "recorded_at = '2001-02-03 04:05:06.000007'"
    tamper(f"UPDATE records_event SET {change} WHERE position = %s", [events[1].position])
    report = assert_same_report()
    assert (report.first_bad_position, report.problem) == (events[1].position, WRONG_HASH)
    assert report.checked == 1


def test_a_removed_event_breaks_the_next_link(archivist):
    events = record(archivist)
    tamper("DELETE FROM records_event WHERE position = %s", [events[2].position])
    report = assert_same_report()
    assert (report.first_bad_position, report.problem) == (events[3].position, BROKEN_LINK)


def test_a_rehashed_forgery_is_caught_by_the_next_link(archivist):
    events = record(archivist)
    target = events[1]
    forged_hash = "f" * 64
    tamper("UPDATE records_event SET hash = %s WHERE position = %s", [forged_hash, target.position])
    report = assert_same_report()
    assert report.first_bad_position == target.position
    tamper(
        "UPDATE records_event SET previous_hash = %s WHERE position = %s",
        [forged_hash, events[2].position],
    )
    assert assert_same_report().first_bad_position == target.position


def test_pages_out_of_order_are_named(monkeypatch, archivist):
    """Positions come from the query's ORDER BY; the check does not trust it."""
    record(archivist)
    pages = list(chain_check._log_pages(page_size=2, after=0))
    monkeypatch.setattr(
        chain_check,
        "_log_pages",
        lambda page_size, after: (page for page in [pages[0], pages[0]]),
    )
    report = check_log_chain()
    assert (report.first_bad_position, report.problem) == (pages[0][0][0], OUT_OF_ORDER)
    assert report.checked == len(pages[0])


def test_verify_archive_names_the_tampered_position(archivist):
    events = record(archivist)
    tamper(
        "UPDATE records_event SET data = %s WHERE position = %s",
        [json.dumps({"payload_id": "x", "payload": "forged"}), events[3].position],
    )
    with pytest.raises(CommandError, match=f"position {events[3].position}: {WRONG_HASH}"):
        call_command("verify_archive", "--no-progress")
    # The read-ahead has stopped and let go of the connection.
    assert not any(thread.name == "chain-check-read-ahead" for thread in threading.enumerate())
    assert verify_chain(iter_log()).first_bad_position == events[3].position


MOMENTS = [
    datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2024, 1, 1, tzinfo=UTC),
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(999, 12, 31, 0, 0, 0, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
]


@pytest.mark.parametrize("moment", MOMENTS)
def test_the_servers_time_is_canonical_time(postgres_only, db, moment):
    expression = chain_check._POSTGRESQL_TIME.format(column="moment")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {expression} FROM (SELECT %s::timestamptz AS moment) AS given", [moment]
        )
        assert cursor.fetchone()[0] == canonical_time(moment)


@pytest.mark.parametrize("moment", ["0001-12-31 00:00:00+00 BC", "infinity", "-infinity"])
def test_a_time_python_cannot_hold_has_no_canonical_form(postgres_only, db, moment):
    expression = chain_check._POSTGRESQL_TIME.format(column="moment")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {expression} FROM (SELECT %s::timestamptz AS moment) AS given", [moment]
        )
        assert cursor.fetchone()[0] is None


# --- a long log, checked in two halves at once --------------------------------------------------


@pytest.fixture
def halves(committed_db, postgres_only, monkeypatch):
    """A committed log of thirty events that counts as long, on a machine of two cores or more:
    checked in two halves, the second by ``records.chain_worker`` in a process of its own, which
    sees only what is committed."""
    from tests.conftest import make_user

    actor = make_user("halves")
    events = [event for _ in range(6) for event in record(actor)]
    assert len(events) == 30
    monkeypatch.setattr(chain_check, "SPLIT_FROM", len(events))
    monkeypatch.setattr(chain_check, "_cores", lambda: 2)
    started = []
    popen = chain_check.subprocess.Popen

    def noting_the_worker(*args, **kwargs):
        started.append(args[0])
        return popen(*args, **kwargs)

    monkeypatch.setattr(chain_check.subprocess, "Popen", noting_the_worker)
    return events, started


def test_a_long_log_is_checked_in_halves_as_one_walk_checks_it(halves):
    events, started = halves
    split_position, _ = chain_check._split_point()
    assert split_position == events[len(events) // 2 - 1].position
    seen = []
    report = check_log_chain(on_row=lambda: seen.append(1), page_size=4)
    assert started and started[0][1:] == ["-m", "records.chain_worker"]
    assert report == verify_chain(iter_log())
    assert report.ok and report.checked == len(events) == len(seen)


@pytest.mark.parametrize(
    "which", ["first", "in the first half", "at the split", "after it", "last"]
)
def test_a_tampered_event_in_either_half_is_named_as_one_walk_names_it(halves, which):
    events, started = halves
    split_position, _ = chain_check._split_point()
    position = {
        "first": 1,
        "in the first half": split_position - 3,
        "at the split": split_position,
        "after it": split_position + 1,
        "last": events[-1].position,
    }[which]
    tamper(
        "UPDATE records_event SET metadata = %s WHERE position = %s",
        [json.dumps({"actor": "someone else"}), position],
    )
    report = check_log_chain(page_size=4)
    assert started
    assert report == verify_chain(iter_log())
    assert (report.first_bad_position, report.problem) == (position, WRONG_HASH)
    assert report.checked == position - 1


def test_a_rehashed_forgery_across_the_split_is_caught(halves):
    """The second half trusts the stored hash at the split only because the first half checks
    it: a forger who rewrites that event and its hash is still caught there."""
    events, _ = halves
    split_position, _ = chain_check._split_point()
    tamper("UPDATE records_event SET hash = %s WHERE position = %s", ["f" * 64, split_position])
    tamper(
        "UPDATE records_event SET previous_hash = %s WHERE position = %s",
        ["f" * 64, split_position + 1],
    )
    report = check_log_chain(page_size=4)
    assert report == verify_chain(iter_log())
    assert (report.first_bad_position, report.problem) == (split_position, WRONG_HASH)


def test_an_event_removed_after_the_split_breaks_the_next_link(halves):
    split_position, _ = chain_check._split_point()
    tamper("DELETE FROM records_event WHERE position = %s", [split_position + 1])
    report = check_log_chain(page_size=4)
    assert report == verify_chain(iter_log())
    assert (report.first_bad_position, report.problem) == (split_position + 2, BROKEN_LINK)
    assert report.checked == split_position


def test_rows_out_of_order_at_the_split_are_found_as_one_walk_finds_them(halves, monkeypatch):
    """The middle event must have passed in its place before the worker's half counts: here
    the caller's rows come with it and the next swapped, as a faulty ORDER BY would give them."""
    split_position, _ = chain_check._split_point()
    log_pages = chain_check._log_pages

    def swapped_at_the_split(page_size, after=0):
        rows = [row for page in log_pages(page_size, after) for row in page]
        at = [row[0] for row in rows].index(split_position)
        rows[at], rows[at + 1] = rows[at + 1], rows[at]
        return (page for page in [rows])

    monkeypatch.setattr(chain_check, "_log_pages", swapped_at_the_split)
    report = check_log_chain(page_size=4)
    assert (report.first_bad_position, report.problem) == (split_position + 1, BROKEN_LINK)
    assert report.checked == split_position - 1


def test_verify_archive_names_a_worker_that_fails(halves, monkeypatch):
    import sys

    monkeypatch.setattr(sys, "executable", "false")
    with pytest.raises(CommandError, match="could not be checked: the chain check of the events"):
        call_command("verify_archive", "--no-progress")


def test_a_worker_that_fails_is_an_error_not_a_verdict(halves, monkeypatch):
    """A second half that could not be checked says nothing of the chain: it is raised."""
    import sys

    monkeypatch.setattr(sys, "executable", "false")
    with pytest.raises(chain_check.ChainCheckFailed, match="exit status 1"):
        check_log_chain(page_size=4)


def test_inside_a_transaction_the_log_is_checked_in_one_walk(archivist, monkeypatch):
    """Another connection would not see this transaction's events."""
    record(archivist)
    monkeypatch.setattr(chain_check, "SPLIT_FROM", 1)
    assert chain_check._split_point() is None
    assert assert_same_report().checked == len(PAYLOADS)
