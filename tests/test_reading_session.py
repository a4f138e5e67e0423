"""A replay reads the log on a connection of its own, seeing what the replay's transaction sees
(records/reading_session.py), so that PostgreSQL reads the next pages while the replay writes.

The rest of the suite runs inside a test transaction that has already written the fixtures, so
it replays on one connection; these tests commit, as ``rebuild_projections`` runs."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from records import commands
from records.models import Source, StoredEvent
from records.reading_session import reading_session
from records.replay import check_replay, projection_tables, rebuild
from records.seeding import load_seeds, seed_id
from records.workflow import ARCHIVIST, REVIEWER
from tests import factories
from tests.conftest import make_user
from tests.test_replay import describe_differences, snapshot

pytestmark = pytest.mark.usefixtures("committed_db")


@pytest.fixture
def seeded():
    archivist, reviewer = make_user("archivist", ARCHIVIST), make_user("reviewer", REVIEWER)
    load_seeds(archivist=archivist, reviewer=reviewer)
    commands.rank_claim(
        claim_id=seed_id("claim", "raid-date"), rank="preferred", reason="Exact", actor=reviewer
    )
    return archivist, reviewer


def _log_readers_elsewhere() -> int:
    """Other server processes of this database with a transaction open whose last statement
    read the log: a reading session, seen from the replay's own connection."""
    with connection.cursor() as cursor:
        # The view is otherwise taken once per transaction, and a replay is one transaction.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend' "
            "AND xact_start IS NOT NULL AND query LIKE %s",
            [f"%{StoredEvent._meta.db_table}%"],
        )
        return cursor.fetchone()[0]


def test_a_rebuild_reads_the_log_on_a_second_connection_and_gives_the_live_state(
    postgres_only, seeded
):
    live = snapshot()
    readers = []
    replayed = rebuild(on_event=lambda: readers.append(_log_readers_elsewhere()), page_size=7)
    assert replayed == StoredEvent.objects.count()
    assert readers and all(count == 1 for count in readers), readers
    assert _log_readers_elsewhere() == 0, "the reading session was left open"
    after = snapshot()
    assert after == live, describe_differences(live, after)
    assert check_replay().ok


def test_verify_reads_the_log_on_a_second_connection_too(postgres_only, seeded):
    readers = []
    report = check_replay(on_event=lambda: readers.append(_log_readers_elsewhere()))
    assert report.ok, report.differences
    assert readers and all(count == 1 for count in readers), readers


def test_the_session_sees_the_log_as_the_callers_transaction_saw_it_when_it_opened(
    postgres_only, seeded
):
    archivist, _ = seeded
    table = StoredEvent._meta.db_table
    with transaction.atomic(), reading_session() as session:
        assert session is not None
        assert session.connection.info.backend_pid != connection.connection.info.backend_pid
        _commit_a_source_on_another_connection(archivist)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
            seen_by_the_caller = cursor.fetchone()[0]
        with session.connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
            seen_by_the_session = cursor.fetchone()[0]
    # The caller reads committed data statement by statement (READ COMMITTED); the session
    # keeps the snapshot it was given, as a replay must: one log, read through to the end.
    assert seen_by_the_caller == seen_by_the_session + 1
    assert session.connection is None, "the session's connection was not closed"


def _commit_a_source_on_another_connection(actor) -> None:
    """Another writer's event, committed: a thread's connection is its own."""
    written = []

    def write():
        try:
            written.append(factories.source(actor, title="Written while the session was open"))
        finally:
            connections.close_all()

    writer = threading.Thread(target=write)
    writer.start()
    writer.join()
    assert written, "the other writer failed"


def test_no_session_once_the_transaction_has_written_so_a_replay_sees_its_own_events(
    postgres_only, seeded
):
    """A restore appends events and replays them in one transaction. A snapshot exported after
    a write leaves the writer's own rows out: a session would replay a log without them."""
    archivist, _ = seeded
    with transaction.atomic():
        source = factories.source(archivist, title="Appended, then replayed")
        with reading_session() as session:
            assert session is None
        rebuild()
        assert Source.objects.filter(pk=source.pk).exists()
        assert check_replay().ok
        transaction.set_rollback(True)


def test_no_session_in_a_savepoint_whose_transaction_goes_on(postgres_only, seeded):
    """PostgreSQL exports no snapshot from a subtransaction, and refusing would abort the
    caller's transaction."""
    live = snapshot()
    with transaction.atomic():
        with transaction.atomic():
            assert connection.savepoint_ids
            with reading_session() as session:
                assert session is None
            readers = []
            rebuild(on_event=lambda: readers.append(_log_readers_elsewhere()))
            assert readers and not any(readers)
        assert Source.objects.exists()  # the transaction is not aborted
    after = snapshot()
    assert after == live, describe_differences(live, after)


def test_a_rebuild_that_fails_on_a_session_closes_it_and_changes_nothing(
    postgres_only, seeded, monkeypatch
):
    from records.batch_projection import BatchProjector, ProjectionFailed

    live = {table: table.objects.count() for table in projection_tables()}
    handle = BatchProjector.handle
    handled, readers = [], []

    def fail_on_the_tenth_event(self, event, stored):
        handled.append(stored.position)
        if len(handled) == 5:
            readers.append(_log_readers_elsewhere())
        if len(handled) == 10:
            raise RuntimeError("a projection failed")
        return handle(self, event, stored)

    monkeypatch.setattr(BatchProjector, "handle", fail_on_the_tenth_event)
    with pytest.raises(ProjectionFailed):
        rebuild(page_size=3)
    assert readers == [1], "the log was not read on a session"
    assert _log_readers_elsewhere() == 0
    assert not any(thread.name == "log-read-ahead" for thread in threading.enumerate())
    assert {table: table.objects.count() for table in projection_tables()} == live


def test_appends_wait_for_a_rebuild_and_go_on_after_it(postgres_only, seeded):
    """A rebuild replays the log as it stood when it began: a command appending meanwhile
    would project onto read models being emptied, and its event would not be replayed."""
    from django.db import OperationalError

    archivist, _ = seeded
    replaying, release = threading.Event(), threading.Event()
    results = []

    def rebuild_and_wait_part_way():
        def tick():
            if not replaying.is_set():
                replaying.set()
                release.wait(timeout=60)

        try:
            results.append(rebuild(on_event=tick))
        finally:
            connections.close_all()

    rebuilder = threading.Thread(target=rebuild_and_wait_part_way)
    rebuilder.start()
    try:
        assert replaying.wait(timeout=60)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '300ms'")
            with pytest.raises(OperationalError, match="lock timeout"):
                factories.source(archivist, title="Appended during a rebuild")
    finally:
        release.set()
        rebuilder.join()
    assert results == [StoredEvent.objects.count()]
    source = factories.source(archivist, title="Appended after it")
    assert Source.objects.filter(pk=source.pk).exists()
    assert check_replay().ok


def test_the_session_is_no_connection_of_the_pool(postgres_only, seeded):
    """A replay is long: it must not hold a worker's pooled connection, nor wait for one."""
    pooled = {**connection.settings_dict["OPTIONS"], "pool": {"min_size": 1, "max_size": 1}}
    with transaction.atomic():
        connection.settings_dict["OPTIONS"] = pooled
        try:
            with reading_session() as session:
                assert session is not None and session.pool is None
                assert "pool" not in session.settings_dict["OPTIONS"]
        finally:
            # Django keeps a pool per alias once it has looked for one: dropped with the setting.
            connection.close_pool()
            connection.settings_dict["OPTIONS"] = {
                key: value for key, value in pooled.items() if key != "pool"
            }


def test_no_session_while_a_migration_waits_for_the_log_so_none_waits_forever(
    postgres_only, seeded
):
    """A replay holds the append lock; a migration asking for the log's exclusive lock waits
    for it. A session asking for its read lock after that would wait for the migration: the
    replay would wait for its reader, the reader for the migration, the migration for the
    replay. The session does not wait: the replay reads on its own connection instead."""
    from django.db import OperationalError

    from records.event_store import lock_log

    table = StoredEvent._meta.db_table
    queued, outcome = threading.Event(), []

    def migrate_the_log():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                # Given up after a while: were the session to wait, this test would fail, not hang.
                cursor.execute("SET LOCAL lock_timeout = '5s'")
                queued.set()
                cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")  # noqa: S608
                outcome.append("locked")
        except OperationalError:
            outcome.append("gave up")
        finally:
            connections.close_all()

    with transaction.atomic():
        lock_log()
        migration = threading.Thread(target=migrate_the_log)
        migration.start()
        assert queued.wait(timeout=30)
        with connection.cursor() as cursor:
            for _ in range(300):
                cursor.execute("SELECT pg_stat_clear_snapshot()")
                cursor.execute(
                    "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = %s::regclass",
                    [table],
                )
                if cursor.fetchone()[0]:
                    break
                threading.Event().wait(0.01)
            else:
                pytest.fail("the migration never waited for the log")
        with reading_session() as session:
            assert session is None
        assert rebuild() == StoredEvent.objects.count()
    migration.join()
    assert outcome == ["locked"]


def test_no_session_outside_a_transaction_nor_on_sqlite():
    with reading_session() as session:
        assert session is None
    if connection.vendor != "postgresql":
        with transaction.atomic(), reading_session() as session:
            assert session is None
