"""The event log: expected versions, idempotent retries, append-only storage, the hash chain."""

import dataclasses
import json
import uuid
from typing import ClassVar

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, connection, transaction

from records import append_only
from records.event_store import (
    ANY,
    NO_STREAM,
    ConcurrencyError,
    IdempotencyConflict,
    append,
    iter_log,
    read_after,
    read_stream,
)
from records.events import DomainEvent, event_type, load_event, upcaster
from records.hashing import hash_of_row, verify_chain
from records.models import StoredEvent


@event_type
@dataclasses.dataclass(frozen=True)
class NoteTaken(DomainEvent):
    """A test-only event type, so that the store is tested apart from the archive's events."""

    stream_type: ClassVar[str] = "test-note"
    stream_field: ClassVar[str] = "note_id"
    schema_version: ClassVar[int] = 2

    note_id: str
    text: str
    language: str


@upcaster("NoteTaken", 1)
def _note_v1_to_v2(data: dict) -> dict:
    # Version 1 had no language; every note then was English.
    return {**data, "language": "en"}


def note(stream_id, text="hello"):
    return NoteTaken(note_id=str(stream_id), text=text, language="en")


def test_versions_count_up_per_stream_and_positions_globally(archivist):
    first, second = uuid.uuid4(), uuid.uuid4()
    append(stream_id=first, expected_version=NO_STREAM, events=[note(first)], actor=archivist)
    append(stream_id=second, expected_version=NO_STREAM, events=[note(second)], actor=archivist)
    append(stream_id=first, expected_version=1, events=[note(first, "again")], actor=archivist)

    assert [e.version for e in read_stream(first)] == [1, 2]
    positions = [e.position for e in read_after(0)]
    assert positions == sorted(positions) and len(set(positions)) == 3
    assert read_stream(first)[1].metadata["actor"] == "archivist"


@pytest.mark.parametrize(
    ("expected", "actual"),
    [(NO_STREAM, 1), (0, 1), (2, 1)],
    ids=["no-stream-but-exists", "stale-version", "future-version"],
)
def test_a_wrong_expected_version_is_a_concurrency_error(archivist, expected, actual):
    stream = uuid.uuid4()
    append(stream_id=stream, expected_version=NO_STREAM, events=[note(stream)], actor=archivist)
    with pytest.raises(ConcurrencyError) as refused:
        append(stream_id=stream, expected_version=expected, events=[note(stream)], actor=archivist)
    assert refused.value.actual == actual
    assert len(read_stream(stream)) == 1


def test_an_event_naming_another_record_than_its_streams_is_refused(archivist):
    stream, other = uuid.uuid4(), uuid.uuid4()
    with pytest.raises(ValueError, match="the stream of the record it names"):
        append(
            stream_id=stream,
            expected_version=NO_STREAM,
            events=[note(stream), note(other)],
            actor=archivist,
        )
    assert StoredEvent.objects.count() == 0


def test_expecting_a_version_of_a_missing_stream_is_refused(archivist):
    stream = uuid.uuid4()
    with pytest.raises(ConcurrencyError):
        append(stream_id=stream, expected_version=3, events=[note(stream)], actor=archivist)
    assert StoredEvent.objects.count() == 0


def test_any_appends_whatever_the_version(archivist):
    stream = uuid.uuid4()
    for _ in range(3):
        append(stream_id=stream, expected_version=ANY, events=[note(stream)], actor=archivist)
    assert [e.version for e in read_stream(stream)] == [1, 2, 3]


def test_a_retried_append_is_acknowledged_not_stored_twice(archivist):
    stream, event_id = uuid.uuid4(), uuid.uuid4()
    first = append(
        stream_id=stream,
        expected_version=NO_STREAM,
        events=[note(stream)],
        actor=archivist,
        event_ids=[event_id],
    )
    retry = append(
        stream_id=stream,
        expected_version=NO_STREAM,
        events=[note(stream)],
        actor=archivist,
        event_ids=[event_id],
    )
    assert not first.duplicate and retry.duplicate
    assert retry.events[0].position == first.events[0].position
    assert StoredEvent.objects.count() == 1


def test_an_event_id_reused_for_another_event_is_refused(archivist):
    stream, event_id = uuid.uuid4(), uuid.uuid4()
    append(
        stream_id=stream,
        expected_version=NO_STREAM,
        events=[note(stream)],
        actor=archivist,
        event_ids=[event_id],
    )
    with pytest.raises(IdempotencyConflict):
        append(
            stream_id=stream,
            expected_version=ANY,
            events=[note(stream, "different")],
            actor=archivist,
            event_ids=[event_id],
        )
    assert StoredEvent.objects.count() == 1


def test_a_batch_is_all_or_nothing(archivist):
    stream, other = uuid.uuid4(), uuid.uuid4()
    taken = uuid.uuid4()
    append(
        stream_id=other,
        expected_version=NO_STREAM,
        events=[note(other)],
        actor=archivist,
        event_ids=[taken],
    )
    with pytest.raises(IdempotencyConflict):
        append(
            stream_id=stream,
            expected_version=NO_STREAM,
            events=[note(stream, "a"), note(stream, "b")],
            actor=archivist,
            event_ids=[uuid.uuid4(), taken],
        )
    assert read_stream(stream) == []


def test_reading_after_a_position_pages_through_the_log(archivist):
    stream = uuid.uuid4()
    append(
        stream_id=stream,
        expected_version=NO_STREAM,
        events=[note(stream, str(i)) for i in range(7)],
        actor=archivist,
    )
    page = read_after(0, limit=3)
    assert [e.data["text"] for e in page] == ["0", "1", "2"]
    rest = read_after(page[-1].position, limit=100)
    assert [e.data["text"] for e in rest] == ["3", "4", "5", "6"]
    assert [e.data["text"] for e in iter_log(page_size=2)] == [str(i) for i in range(7)]


def test_old_schema_versions_are_upcast_when_read_and_never_rewritten():
    stored_v1 = StoredEvent(
        event_type="NoteTaken", schema_version=1, data={"note_id": "n1", "text": "hi"}
    )
    event = stored_v1.domain_event()
    assert event == NoteTaken(note_id="n1", text="hi", language="en")
    assert stored_v1.data == {"note_id": "n1", "text": "hi"}
    assert load_event("NoteTaken", 2, event.to_data()) == event


# --- append-only, in the database itself ------------------------------------------------------


@pytest.fixture
def one_event(archivist):
    stream = uuid.uuid4()
    return append(
        stream_id=stream, expected_version=NO_STREAM, events=[note(stream)], actor=archivist
    ).events[0]


def _refused(sql: str) -> None:
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)


@pytest.mark.parametrize(
    "event, field, choices",
    [
        ("SubjectRegistered", "kind", "SubjectKind"),
        ("SubjectRevised", "kind", "SubjectKind"),
        ("PropertyDefined", "value_type", "ValueType"),
        ("ClaimRanked", "rank", "Rank"),
    ],
)
def test_an_events_choices_are_its_read_models(event, field, choices):
    """A restore refuses a value the commands would not have allowed: the event's field takes
    exactly the choices of the read model's field."""
    import typing

    from records import events
    from records.models import projections

    allowed = typing.get_args(typing.get_type_hints(events.EVENT_TYPES[event])[field])
    assert set(allowed) == set(getattr(projections, choices).values)


def test_update_of_an_event_is_rejected_by_the_database(one_event):
    _refused(
        f"UPDATE records_event SET event_type = 'Forged' WHERE position = {one_event.position}"
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        StoredEvent.objects.filter(pk=one_event.pk).update(data={"forged": True})
    one_event.refresh_from_db()
    assert one_event.event_type == "NoteTaken"


def test_delete_of_an_event_is_rejected_by_the_database(one_event):
    _refused(f"DELETE FROM records_event WHERE position = {one_event.position}")
    with pytest.raises(DatabaseError), transaction.atomic():
        StoredEvent.objects.all().delete()
    assert StoredEvent.objects.count() == 1


def test_truncate_of_the_log_is_rejected_on_postgresql(postgres_only, one_event):
    _refused("TRUNCATE records_event")
    assert StoredEvent.objects.count() == 1


# --- tamper evidence ----------------------------------------------------------------------------


def _tamper(sql: str) -> None:
    """What an intruder with the power to drop triggers could do. The test's transaction is
    rolled back afterwards, triggers included."""
    append_only.uninstall(connection)
    with connection.cursor() as cursor:
        cursor.execute(sql)
    append_only.install(connection)


@pytest.fixture
def five_events(archivist):
    stream = uuid.uuid4()
    return append(
        stream_id=stream,
        expected_version=NO_STREAM,
        events=[note(stream, f"note {i}") for i in range(5)],
        actor=archivist,
    ).events


def test_an_intact_chain_verifies(five_events):
    report = verify_chain(iter_log())
    assert report.ok and report.checked == 5


def test_a_tampered_event_is_found_at_its_position(five_events):
    target = five_events[2]
    _tamper(
        'UPDATE records_event SET data = \'{"note_id": "x", "text": "forged", '
        f'"language": "en"}}\' WHERE position = {target.position}'
    )
    report = verify_chain(iter_log())
    assert report.first_bad_position == target.position
    assert report.checked == 2
    with pytest.raises(CommandError, match=f"position {target.position}"):
        call_command("verify_archive", "--no-progress")


def test_a_removed_event_breaks_the_chain_at_the_next_position(five_events):
    removed = five_events[1]
    _tamper(f"DELETE FROM records_event WHERE position = {removed.position}")
    report = verify_chain(iter_log())
    assert report.first_bad_position == five_events[2].position


def test_a_rehashed_forgery_is_still_caught_by_the_next_link(five_events):
    """Rewriting an event together with a correct hash of the forged contents leaves the next
    event's previous_hash pointing at the original, so the chain names the event after it."""
    target, following = five_events[3], five_events[4]
    forged = StoredEvent.objects.get(pk=target.pk)
    forged.data = {**forged.data, "text": "forged"}
    new_hash = hash_of_row(forged, forged.previous_hash)
    _tamper(
        f"UPDATE records_event SET data = '{json.dumps(forged.data)}', hash = '{new_hash}' "
        f"WHERE position = {target.position}"
    )
    report = verify_chain(iter_log())
    assert report.first_bad_position == following.position
    assert "previous_hash" in report.problem


def test_the_same_event_asked_for_by_another_request_is_not_a_retry(archivist):
    """Two requests may race past their retry checks with one event id; the append, under its
    lock, tells them apart by the request digest each carries."""
    stream, event_id = uuid.uuid4(), uuid.uuid4()
    common = {"stream_id": stream, "events": [note(stream)], "actor": archivist}
    append(**common, expected_version=NO_STREAM, event_ids=[event_id], request="first")
    assert append(**common, expected_version=ANY, event_ids=[event_id], request="first").duplicate
    with pytest.raises(IdempotencyConflict):
        append(**common, expected_version=ANY, event_ids=[event_id], request="second")
    assert StoredEvent.objects.count() == 1


# --- the log's indexes --------------------------------------------------------------------------


def _indexes_on_hash() -> list[str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, StoredEvent._meta.db_table)
    # A unique constraint's own index is listed as the constraint: "index" is False there.
    return [
        name
        for name, about in constraints.items()
        if (about["index"] or about["unique"]) and about["columns"] == ["hash"]
    ]


def test_the_hash_is_indexed_once_and_unique(one_event):
    """Migration 0008 drops the pattern index Django adds on PostgreSQL beside the unique one
    (nothing looks events up by a prefix of their hash); the unique index stays, and refuses
    a second event with the same hash."""
    [index] = _indexes_on_hash()
    with connection.cursor() as cursor:
        assert connection.introspection.get_constraints(cursor, "records_event")[index]["unique"]
    twin = StoredEvent.objects.values().get(pk=one_event.pk)
    twin.update(position=one_event.position + 1, event_id=uuid.uuid4(), version=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        StoredEvent.objects.create(**twin)
    assert StoredEvent.objects.count() == 1


def test_migration_0008_drops_only_the_pattern_index_and_puts_it_back(postgres_only, one_event):
    from django.db.migrations.executor import MigrationExecutor

    def migrate(target):
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate([("records", target)])

    assert len(_indexes_on_hash()) == 1
    migrate("0007_publishedclaim_by_property")
    try:
        assert len(_indexes_on_hash()) == 2
    finally:
        migrate("0008_event_hash_without_pattern_index")
    assert len(_indexes_on_hash()) == 1
