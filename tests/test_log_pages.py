"""Pages of the log are bounded in bytes as well as in events (records/log_pages.py), for every
reader of the whole log: the replay, the chain check, the export. A page holds at most
PAGE_BYTES of stored data and one event more, and the readers still see every event once, in
order."""

from __future__ import annotations

import hashlib

import pytest
from django.db import connection

from records import commands, log_pages
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


def test_a_page_holds_at_most_its_bytes_and_one_event_more(log_with_long_texts, monkeypatch):
    monkeypatch.setattr(log_pages, "PAGE_BYTES", 50_000)
    sizes = stored_sizes()
    assert max(sizes.values()) > log_pages.PAGE_BYTES  # the long texts: a page each

    pages = [[row.position for row in page] for page in iter_log_pages(page_size=40)]

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


def test_every_reader_of_the_log_sees_every_event_with_pages_of_one(
    log_with_long_texts, monkeypatch
):
    """The smallest bound there is: every page one event. The chain check, the replay and the
    export still read the whole log, in order."""
    monkeypatch.setattr(log_pages, "PAGE_BYTES", 1)
    events = log_with_long_texts

    pages = list(iter_log_pages(page_size=1000))
    assert [len(page) for page in pages] == [1] * events

    chain = check_log_chain()
    assert chain.ok and chain.checked == events

    assert check_replay().ok

    lines: list[bytes] = []
    export_log(lines.append)
    assert len(lines) == events + 2  # header, every event, trailer
