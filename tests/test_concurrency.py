"""Real threads against a real database: optimistic concurrency and commit-ordered positions."""

import threading
import uuid
from collections import Counter

from django.db import connection

from records.event_store import ANY, ConcurrencyError, append, iter_log, read_stream, stream_version
from records.hashing import verify_chain
from records.models import StoredEvent
from tests.conftest import make_user
from tests.test_event_store import NoteTaken


def _run_threads(count: int, work) -> list:
    """Start ``count`` threads at once (behind a barrier); collect what each returns or raises."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def runner(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as error:  # noqa: BLE001 - the test inspects every outcome
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_twenty_writers_race_on_one_stream_and_no_update_is_lost(committed_db):
    actor = make_user("racer")
    stream = uuid.uuid4()
    writers = 20

    def write(index: int) -> int:
        """Read the version, append expecting it; on a conflict, read again and retry."""
        conflicts = 0
        while True:
            seen = stream_version(stream)
            event = NoteTaken(note_id=str(stream), text=f"writer {index}", language="en")
            try:
                append(stream_id=stream, expected_version=seen, events=[event], actor=actor)
                return conflicts
            except ConcurrencyError:
                conflicts += 1

    outcomes = _run_threads(writers, write)

    assert all(isinstance(outcome, int) for outcome in outcomes), outcomes
    events = read_stream(stream)
    assert [event.version for event in events] == list(range(1, writers + 1))
    # Every writer's update is there exactly once: none lost, none doubled.
    assert Counter(event.data["text"] for event in events) == Counter(
        f"writer {i}" for i in range(writers)
    )
    # They all started together expecting the same version, so most had to retry.
    assert sum(outcomes) >= writers - 1


def test_exactly_one_writer_wins_each_version(committed_db):
    actor = make_user("racer")
    stream = uuid.uuid4()
    append(
        stream_id=stream,
        expected_version=ANY,
        events=[NoteTaken(note_id=str(stream), text="start", language="en")],
        actor=actor,
    )

    def write(index: int) -> str:
        event = NoteTaken(note_id=str(stream), text=f"writer {index}", language="en")
        append(stream_id=stream, expected_version=1, events=[event], actor=actor)
        return "won"

    outcomes = _run_threads(20, write)

    assert outcomes.count("won") == 1
    assert sum(isinstance(outcome, ConcurrencyError) for outcome in outcomes) == 19
    assert [event.version for event in read_stream(stream)] == [1, 2]


def test_concurrent_appends_get_non_interleaved_positions_in_commit_order(committed_db):
    actor = make_user("batcher")
    batch_size, writers = 5, 8

    def write(index: int) -> list[int]:
        stream = uuid.uuid4()
        events = [
            NoteTaken(note_id=str(stream), text=f"{index}:{n}", language="en")
            for n in range(batch_size)
        ]
        result = append(stream_id=stream, expected_version=ANY, events=events, actor=actor)
        return [event.position for event in result.events]

    outcomes = _run_threads(writers, write)

    assert all(isinstance(outcome, list) for outcome in outcomes), outcomes
    for positions in outcomes:
        # A batch occupies one unbroken run of positions: nobody else's event sits inside it.
        assert positions == list(range(positions[0], positions[0] + batch_size))
    log = list(StoredEvent.objects.order_by("position"))
    assert len(log) == batch_size * writers
    times = [event.recorded_at for event in log]
    assert times == sorted(times) and len(set(times)) == len(times), (
        "recorded_at must strictly increase along positions (commit order)"
    )
    assert verify_chain(iter_log()).ok
