"""The read-ahead thread that chain checks and replays read the log through."""

import threading
from itertools import count

import pytest

from records.read_ahead import read_ahead


def test_pages_come_in_order_and_end_at_an_empty_page():
    pages = [[1, 2], [3], [4, 5, 6], [], [7]]
    assert list(read_ahead(iter(pages), name="test-read-ahead")) == [[1, 2], [3], [4, 5, 6]]


def test_the_read_ahead_passes_on_a_readers_error():
    def pages():
        yield [1]
        raise RuntimeError("the database went away")

    ahead = read_ahead(pages(), name="test-read-ahead")
    assert next(ahead) == [1]
    with pytest.raises(RuntimeError, match="went away"):
        next(ahead)


def test_it_reads_at_most_depth_pages_ahead():
    read = []

    def pages():
        for number in count(1):
            read.append(number)
            yield [number]

    ahead = read_ahead(pages(), name="test-read-ahead", depth=2)
    assert next(ahead) == [1]
    # Two queued and one waiting to be queued, however long the caller takes with page 1.
    threading.Event().wait(0.2)
    assert read == [1, 2, 3, 4]
    ahead.close()


def test_a_read_ahead_stopped_early_ends_its_thread():
    pages = ([number] for number in count(1))  # an endless log
    ahead = read_ahead(pages, name="test-read-ahead")
    assert next(ahead) == [1]
    ahead.close()
    assert not any(thread.name == "test-read-ahead" for thread in threading.enumerate())
