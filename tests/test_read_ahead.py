"""The read-ahead thread that chain checks and replays read the log through."""

import threading
import time
from itertools import count

import pytest

from records.read_ahead import read_ahead


def test_pages_come_in_order_and_the_reader_stops_at_an_empty_page():
    read = []

    def pages():
        for page in [[1, 2], [3], [4, 5, 6], [], [7]]:
            read.append(page)
            yield page

    ahead = read_ahead(pages(), name="read-ahead-in-order")
    assert list(ahead) == [[1, 2], [3], [4, 5, 6]]
    assert read[-1] == [], "the reader read on past the end"


def test_the_read_ahead_passes_on_a_readers_error():
    def pages():
        yield [1]
        raise RuntimeError("the database went away")

    ahead = read_ahead(pages(), name="read-ahead-error")
    assert next(ahead) == [1]
    with pytest.raises(RuntimeError, match="went away"):
        next(ahead)


def test_the_reader_runs_depth_pages_ahead_and_holds_one_more():
    read = []

    def pages():
        for number in count(1):
            read.append(number)
            yield [number]

    ahead = read_ahead(pages(), name="read-ahead-depth", depth=2)
    try:
        assert next(ahead) == [1]
        # Pages 2 and 3 queued, page 4 read and waiting for room; then the reader stops,
        # however long the caller takes with page 1.
        deadline = time.monotonic() + 30
        while len(read) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)
        assert read == [1, 2, 3, 4]
    finally:
        ahead.close()


def test_a_read_ahead_stopped_early_ends_its_thread():
    pages = ([number] for number in count(1))  # an endless log
    ahead = read_ahead(pages, name="read-ahead-stopped")
    assert next(ahead) == [1]
    ahead.close()
    assert not any(thread.name == "read-ahead-stopped" for thread in threading.enumerate())
