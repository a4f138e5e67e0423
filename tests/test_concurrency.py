"""Real threads against a real database: optimistic concurrency and commit-ordered positions."""

import threading
import uuid
from collections import Counter

from django.core.exceptions import ValidationError
from django.db import connection

from records import commands
from records.event_store import ANY, ConcurrencyError, append, iter_log, read_stream, stream_version
from records.hashing import verify_chain
from records.models import Claim, PublishedClaim, StoredEvent
from records.models.projections import Rank
from tests import factories
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

    # Every writer reads the version before any of them appends, so all but one must
    # conflict at least once. Without this second barrier a slow thread could read after
    # others had written and win at once, and the count of retries below would vary.
    everyone_has_read = threading.Barrier(writers)

    def write(index: int) -> int:
        """Read the version, append expecting it; on a conflict, read again and retry."""
        conflicts = 0
        first_attempt = True
        while True:
            try:
                seen = stream_version(stream)
            except Exception:
                everyone_has_read.abort()  # the others need not wait for this one
                raise
            if first_attempt:
                # Hand the connection back first: the pool holds fewer than twenty, and
                # a writer parked at the barrier must not keep one from the others.
                connection.close()
                everyone_has_read.wait(timeout=60)
                first_attempt = False
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
    # They all first expected the same version, so all but the first to append had to retry.
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


def test_concurrent_preferences_leave_one_preferred_claim(committed_db):
    """Each reviewer prefers a different claim of one fact at the same moment. Each ranking's
    version check covers only its own claim, so the fact-wide rule needs the append lock."""
    archivist, reviewer = (
        make_user("racing-archivist", "Archivist"),
        make_user("racing-reviewer", "Reviewer"),
    )
    world = factories.published_world(archivist, reviewer)
    claims = [
        factories.publish(
            factories.deaths_claim(
                archivist,
                subject_record=world["subject"],
                prop=world["deaths"],
                src=world["source"],
                best=best,
                quote=quote,
            ),
            "claim",
            author=archivist,
            reviewer=reviewer,
        )
        for best, quote in [
            (250000, "Chinese estimates put the death toll at 250,000 civilians."),
            (200000, "Others say around 200,000 died."),
        ]
    ]
    rounds = 5
    for round_number in range(rounds):

        def prefer(index: int, round_number=round_number) -> str:
            claim = claims[index % len(claims)]
            commands.rank_claim(
                claim_id=claim.pk,
                rank="preferred",
                reason=f"round {round_number}, reviewer {index}",
                actor=reviewer,
            )
            return "ranked"

        outcomes = _run_threads(4, prefer)
        # A ranking may be refused (the claim is already preferred) but never break the rule.
        assert all(o == "ranked" or isinstance(o, ValidationError) for o in outcomes), outcomes
        preferred = Claim.objects.filter(fact=claims[0].fact_id, rank=Rank.PREFERRED)
        assert preferred.count() == 1
        assert (
            PublishedClaim.objects.filter(fact=claims[0].fact_id, rank=Rank.PREFERRED).count() == 1
        )
    assert verify_chain(iter_log()).ok
