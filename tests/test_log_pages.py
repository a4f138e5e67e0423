"""Pages of the log are bounded in bytes as well as in events (records/log_pages.py), for every
reader of the whole log: the replay, the chain check, the export. A page holds at most
PAGE_BYTES of stored data and one event more, and the readers still see every event once, in
order."""

from __future__ import annotations

import hashlib

import pytest
from django.db import connection

from records import chain_check, commands, event_export, log_pages
from records.chain_check import check_log_chain
from records.event_export import export_log
from records.event_store import iter_log_pages
from records.models import StoredEvent
from records.replay import check_replay
from records.seeding import load_seeds

pytestmark = pytest.mark.django_db

# About 200 kB that PostgreSQL's compression cannot shrink (a repeated sentence it would store in
# a few kB): the bound is on stored bytes.
LONG_TEXT = " ".join(hashlib.sha256(str(number).encode()).hexdigest() for number in range(3_000))


@pytest.fixture
def log_with_long_texts(archivist, reviewer):
    """The seeds, then sources with long texts among them: events of very different sizes."""
    load_seeds(archivist=archivist, reviewer=reviewer)
    for number in range(3):
        commands.register_source(
            title=f"Transcript {number}", full_text=LONG_TEXT + str(number), actor=archivist
        )
    events = StoredEvent.objects.count()
    assert events > 100
    return events


def stored_sizes() -> dict[int, int]:
    """Each event's stored size, as records.log_pages measures it."""
    if connection.vendor == "postgresql":
        size = "pg_column_size(data) + pg_column_size(metadata)"
    else:
        size = "length(CAST(data AS BLOB)) + length(CAST(metadata AS BLOB))"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT position, {size} FROM records_event")
        return dict(cursor.fetchall())


def replay_pages(limit: int) -> list[list[int]]:
    return [[row.position for row in page] for page in iter_log_pages(page_size=limit)]


def chain_check_pages(limit: int) -> list[list[int]]:
    return [[row[0] for row in page] for page in chain_check._log_pages(limit)]


def export_pages(limit: int, monkeypatch) -> list[list[int]]:
    """The export's pages, told by the ends it asks for (it reads each as a range)."""
    ends = []

    def noting_the_end(after, page_size):
        end = log_pages.page_end(after, page_size)
        ends.append(end)
        return end

    monkeypatch.setattr(event_export, "page_end", noting_the_end)
    export_log(lambda line: None, page_size=limit)
    positions = sorted(StoredEvent.objects.values_list("position", flat=True))
    bounds = [0, *(end for end in ends if end is not None)]
    return [
        [position for position in positions if low < position <= high]
        for low, high in zip(bounds, bounds[1:], strict=False)
    ]


@pytest.mark.parametrize("reader", ["replay", "chain check", "export"])
def test_a_page_holds_at_most_its_bytes_and_one_event_more(
    log_with_long_texts, monkeypatch, reader
):
    monkeypatch.setattr(log_pages, "PAGE_BYTES", 50_000)
    sizes = stored_sizes()
    assert max(sizes.values()) > log_pages.PAGE_BYTES  # the long texts: a page each

    if reader == "replay":
        pages = replay_pages(40)
    elif reader == "chain check":
        pages = chain_check_pages(40)
    else:
        pages = export_pages(40, monkeypatch)

    assert [position for page in pages for position in page] == sorted(sizes)
    for page in pages:
        assert len(page) <= 40
        assert sum(sizes[position] for position in page[:-1]) < log_pages.PAGE_BYTES
    # A page ends before its number of events only where its bytes reached the bound.
    for page in pages[:-1]:
        if len(page) < 40:
            assert sum(sizes[position] for position in page) >= log_pages.PAGE_BYTES
    # So an event larger than the bound ends its page.
    for position, size in sizes.items():
        if size > log_pages.PAGE_BYTES:
            assert any(page[-1] == position for page in pages)


@pytest.mark.parametrize("bound", [1, 0])
def test_every_reader_of_the_log_sees_every_event_with_pages_of_one(
    log_with_long_texts, monkeypatch, bound
):
    """The smallest bound there is: every page one event (a bound of 0 counts as 1: the first
    event of a page always counts, or the log would end there). The chain check, the replay
    and the export still read the whole log, in order."""
    monkeypatch.setattr(log_pages, "PAGE_BYTES", bound)
    events = log_with_long_texts

    assert [len(page) for page in replay_pages(1000)] == [1] * events
    assert [len(page) for page in chain_check_pages(1000)] == [1] * events
    assert [len(page) for page in export_pages(1000, monkeypatch)] == [1] * events

    chain = check_log_chain()
    assert chain.ok and chain.checked == events
    assert check_replay().ok


def test_the_benchmarks_feed_baseline_reads_pages_of_the_same_bound():
    """bench/api_baseline.py reads the feed's page without Django: its bound is a copy."""
    from bench import api_baseline

    assert api_baseline.FEED_PAGE_BYTES == log_pages.PAGE_BYTES
