"""Iterate pages of database rows in a thread, a few pages ahead of the one being used.

While Python works on one page, the server writes the next and psycopg waits for it without
holding the GIL. The reader borrows the caller's psycopg connection (``borrowed_query``; psycopg
serialises the two threads' statements on it), so it reads in the caller's transaction; or a
connection of its own sharing the caller's snapshot (``records.reading_session``). Close
the iterator (``contextlib.closing``) when stopping early: closing stops the reader and waits
for its statement to end, so that the connection is the caller's alone again. The borrowed
reads go through psycopg directly, so Django's query logging, ``execute_wrapper`` hooks and
query counting do not see them.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import suppress
from typing import TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper

Page = TypeVar("Page", bound=list)


def borrowed_query(
    sql: str, session: BaseDatabaseWrapper | None = None
) -> Callable[[Sequence], list[tuple]]:
    """A function running ``sql`` with the parameters given on this thread's psycopg connection,
    returning its rows, for a reader thread to call: Django's ``connection`` is per thread, and
    the reader must read in the caller's session and transaction. Or on ``session``, a
    connection of the reader's own that sees what the caller's transaction sees
    (``records.reading_session``). Call this in the caller's thread; errors come out as
    Django's, as through its cursors."""
    # This thread's connection, not the proxy's in the reader.
    wrapper = connections[DEFAULT_DB_ALIAS] if session is None else session
    wrapper.ensure_connection()
    database = wrapper.connection

    def fetch(parameters: Sequence) -> list[tuple]:
        with wrapper.wrap_database_errors, database.cursor() as cursor:
            cursor.execute(sql, parameters)
            return cursor.fetchall()

    return fetch


def pages_after(
    read_page: Callable[[int], list], after: int, position: Callable[[object], int]
) -> Iterator[list]:
    """``read_page(after)``, then each next page after the last ``position`` of the one before,
    until an empty page."""
    while page := read_page(after):
        yield page
        after = position(page[-1])


def read_ahead(pages: Iterable[Page], *, name: str, depth: int = 2) -> Iterator[Page]:
    """``pages``, iterated in a thread: ``depth`` pages queued, and the reader holding one more
    until there is room, so up to ``depth`` + 1 pages ahead of the one in use. An empty page ends
    them, and the reader stops there. An error in the reader is raised here, at the page it
    stopped at."""
    queued: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def read_all() -> None:
        try:
            for page in pages:
                if not page:
                    break
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
