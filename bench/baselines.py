"""Baselines: the same work done with nothing but psycopg and hashlib, as a floor to compare
each figure against. None of them checks a rule, projects a read model or takes the append
lock; the ratio to them says what all of that costs.
"""

from __future__ import annotations

import hashlib
import json
import time
from itertools import groupby

from psycopg.types.json import Jsonb

from bench.database import SCRATCH_TABLE, connect

COLUMNS = (
    "position, event_id, stream_id, stream_type, version, event_type, schema_version, data, "
    "metadata, recorded_at, previous_hash, hash"
)
INSERT = f"INSERT INTO {SCRATCH_TABLE} ({COLUMNS}) VALUES ({', '.join(['%s'] * 12)})"


def commands_of(url: str, after: int) -> list[list[tuple]]:
    """The events stored after position ``after``, grouped by the command that stored them
    (one append shares one correlation id), in log order."""
    with connect(url) as connection:
        rows = connection.execute(
            f"SELECT {COLUMNS} FROM records_event WHERE position > %s ORDER BY position",
            [after],
        ).fetchall()
    return [list(group) for _, group in groupby(rows, key=lambda row: row[8]["correlation_id"])]


def empty_scratch(url: str) -> None:
    with connect(url) as connection:
        connection.execute(f"TRUNCATE {SCRATCH_TABLE}")


def insert_events(url: str, commands: list[list[tuple]], batched: bool) -> int:
    """Insert these rows into the scratch table: all in one transaction (``batched``), or one
    transaction per command, as the event store commits. Run by a writer process."""
    rows = [
        (*row[:7], Jsonb(row[7]), Jsonb(row[8]), *row[9:])
        for command in commands
        for row in command
    ]
    with connect(url) as connection, connection.cursor() as cursor:
        if batched:
            with connection.transaction():
                cursor.executemany(INSERT, rows)
        else:
            offset = 0
            for command in commands:
                with connection.transaction():
                    cursor.executemany(INSERT, rows[offset : offset + len(command)])
                offset += len(command)
    return len(rows)


def _log_pages(url: str, page_size: int = 2000):
    """The whole log, in position order, a page at a time through a server-side cursor (as
    records.event_store.iter_log pages it, so memory stays flat)."""
    with connect(url) as connection, connection.transaction():
        cursor = connection.cursor(name="bench_log")
        cursor.execute(f"SELECT {COLUMNS} FROM records_event ORDER BY position")
        while page := cursor.fetchmany(page_size):
            yield page


def read_log(url: str) -> tuple[int, float]:
    """Read every event with psycopg (JSON decoded, nothing else); return (events, seconds)."""
    started, events = time.perf_counter(), 0
    for page in _log_pages(url):
        events += len(page)
    return events, time.perf_counter() - started


def _canonical(value) -> bytes:
    # As records.hashing.digest serialises: sorted keys, no spaces, non-ASCII kept, UTF-8.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _chain_bytes(row) -> tuple[bytes, bytes, bytes]:
    """The three byte strings the chain hashes for one event: its metadata, its content (with
    the metadata's digest), and its link (with the content's digest)."""
    position, _, stream_id, stream_type, version, event_type, schema_version = row[:7]
    data, metadata, recorded_at, previous_hash = row[7:11]
    metadata_bytes = _canonical(metadata)
    content = _canonical(
        [
            str(stream_id),
            stream_type,
            version,
            event_type,
            schema_version,
            data,
            hashlib.sha256(metadata_bytes).hexdigest(),
            recorded_at.isoformat(timespec="microseconds"),
        ]
    )
    link = _canonical([position, previous_hash, hashlib.sha256(content).hexdigest()])
    return metadata_bytes, content, link


def hash_log(url: str) -> tuple[int, float]:
    """SHA-256 over exactly the bytes the chain covers, three digests per event as
    verify_archive computes them; only the hashing is timed (reading and serialising are not).
    Returns (events, seconds). Each recomputed hash must equal the stored one: it proves the
    bytes are the same."""
    seconds, events = 0.0, 0
    for page in _log_pages(url):
        prepared = [_chain_bytes(row) for row in page]
        started = time.perf_counter()
        digests = [
            (
                hashlib.sha256(metadata).hexdigest(),
                hashlib.sha256(content).hexdigest(),
                hashlib.sha256(link).hexdigest(),
            )
            for metadata, content, link in prepared
        ]
        seconds += time.perf_counter() - started
        for row, (_, _, link_hash) in zip(page, digests, strict=True):
            if link_hash != row[11]:
                raise AssertionError(f"position {row[0]}: recomputed hash differs from stored")
        events += len(page)
    return events, seconds
