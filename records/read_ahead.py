"""Iterate pages of database rows in a thread, a page or two ahead of the one being used.

While Python works on one page, the server writes the next and psycopg waits for it without
holding the GIL. The reader borrows the caller's psycopg connection (psycopg serialises the two
threads' statements on it), so it reads in the caller's transaction and snapshot. Close the
iterator (``contextlib.closing``) when stopping early: closing stops the reader and waits for
its statement to end, so that the connection is the caller's alone again.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from contextlib import suppress
from typing import TypeVar

Page = TypeVar("Page", bound=list)


def read_ahead(pages: Iterable[Page], *, name: str, depth: int = 2) -> Iterator[Page]:
    """``pages``, iterated in a thread up to ``depth`` pages ahead. An empty page ends them. At
    most ``depth`` + 2 pages are in memory: the one in use, those queued, and one the reader
    waits to queue. An error in the reader is raised here, at the page it stopped at."""
    queued: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def read_all() -> None:
        try:
            for page in pages:
                queued.put(page)
                if stop.is_set():
                    return
            queued.put([])
        except BaseException as error:  # raised again in the caller's thread
            queued.put(error)

    reader = threading.Thread(target=read_all, name=name, daemon=True)
    reader.start()
    try:
        while page := queued.get():
            if isinstance(page, BaseException):
                raise page
            yield page
    finally:
        # Stopped early or done: let the reader finish its query and see the stop, taking what
        # it puts so that it never blocks, before anyone else uses the connection.
        stop.set()
        while reader.is_alive():
            with suppress(queue.Empty):
                queued.get(timeout=0.01)
        reader.join()
