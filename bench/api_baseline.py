"""The API's baseline: each page built with nothing but psycopg and ``json.dumps``.

One SELECT fetches the rows an API page shows (joined with what it names: subject, property,
source), a few lines of Python shape them into a page with the same fields, and ``json.dumps``
encodes it. No framework, no HTTP, no public-gate checks, one connection kept open: the floor
for what a page of these rows can cost in Python on this machine. The ratio to it is what
Django, DRF, the gate, gunicorn and HTTP cost.
"""

from __future__ import annotations

import hashlib
import json
import time
from itertools import groupby

import psycopg

from bench.database import connect

PAGE_SIZE = 50  # the API's default page (records.api.pagination)
FEED_PAGE_SIZE = 100  # the change feed's default

CLAIMS = """
SELECT c.id, c.fact_id, s.id, s.label, s.kind, p.id, p.key, p.label, p.value_type, p.unit,
       c.value, c.subject_value_id, sv.label, c.original_wording, src.id, src.title,
       c.locator, c.quote, c.quote_start, c.quote_end, c.attributed_to, c.note, c.rank,
       c.rank_reason, c.status, c.retracted_at, c.retraction_reason, c.revision, c.published_at,
       c.quantity_lower, c.quantity_upper, c.date_earliest, c.date_latest
FROM records_publishedclaim c
JOIN records_publishedsubject s ON s.id = c.subject_id
JOIN records_property p ON p.id = c.property_id
JOIN records_publishedsource src ON src.id = c.source_id
LEFT JOIN records_publishedsubject sv ON sv.id = c.subject_value_id
"""
FIRST_FACTS = """
SELECT f.id FROM records_fact f
WHERE EXISTS (SELECT 1 FROM records_publishedclaim c WHERE c.fact_id = f.id)
ORDER BY f.id LIMIT %s
"""
# The feed's page as the API reads it: at most a number of events, ending sooner once they hold
# records.log_pages.PAGE_BYTES of stored data; then whether any event follows, for its next link.
FEED_PAGE_BYTES = 4_000_000
EVENTS = """
SELECT position, previous_hash, hash, stream_id, stream_type, version, event_type,
       schema_version, data, metadata, recorded_at
FROM records_event WHERE position > %s AND position <= (
  SELECT MAX(p) FROM (
    SELECT p, SUM(size) OVER (ORDER BY p) - size AS before FROM (
      SELECT position AS p, pg_column_size(data) + pg_column_size(metadata) AS size
      FROM records_event WHERE position > %s ORDER BY position LIMIT %s
    ) AS next_events
  ) AS ahead WHERE before < %s
) ORDER BY position
"""
MORE_EVENTS = "SELECT EXISTS (SELECT 1 FROM records_event WHERE position > %s)"
PUBLIC_EVENT_TYPES = {"RevisionApproved", "ClaimRetracted", "ClaimRanked", "PropertyDefined"}


def _claim(row) -> dict:
    (id, fact, subject, subject_label, kind, prop, key, label, value_type, _, value) = row[:11]
    value_subject, value_subject_label, wording, source, title = row[11:16]
    locator, quote, start, end, attributed_to, note, rank, rank_reason, status = row[16:25]
    retracted_at, retraction_reason, revision, published_at = row[25:29]
    if value_subject:
        value = {**value, "subject_label": value_subject_label}
    return {
        "id": id,
        "fact": fact,
        "subject": {"id": subject, "label": subject_label, "kind": kind},
        "property": {"id": prop, "key": key, "label": label, "value_type": value_type},
        "value": value,
        "original_wording": wording,
        "citation": {
            "source": {"id": source, "title": title},
            "locator": locator,
            "quote": quote,
            "start": start,
            "end": end,
        },
        "attributed_to": attributed_to,
        "note": note,
        "rank": rank,
        "rank_reason": rank_reason,
        "status": status,
        "retracted_at": retracted_at,
        "retraction_reason": retraction_reason,
        "revision": revision,
        "published_at": published_at,
    }


def _summary(rows) -> dict:
    """Counts and bounds as the API's summary gives them (retracted claims left out)."""
    standing = [row for row in rows if row[24] != "retracted"]
    # A quantity's bounds, else a date's (row[29:33]: quantity lower, upper, date earliest, latest)
    lowers = [row[29] if row[29] is not None else row[31] for row in standing]
    uppers = [row[30] if row[30] is not None else row[32] for row in standing]
    lowers, uppers = [v for v in lowers if v is not None], [v for v in uppers if v is not None]
    return {
        "claims": len(standing),
        "sources": len({row[14] for row in standing}),
        "lowest": min(lowers, default=None),
        "highest": max(uppers, default=None),
        "preferred_claim": next((row[0] for row in standing if row[22] == "preferred"), None),
        "disputed": bool(lowers) and max(lowers) > min(uppers),
    }


def _fact(rows: list) -> dict:
    first = rows[0]
    return {
        "id": first[1],
        "subject": {"id": first[2], "label": first[3], "kind": first[4]},
        "property": {
            "id": first[5],
            "key": first[6],
            "label": first[7],
            "value_type": first[8],
            "unit": first[9],
        },
        "summary": _summary(rows),
        "claims": [_claim(row) for row in rows],
    }


def fact_list(connection, _) -> dict:
    facts = [row[0] for row in connection.execute(FIRST_FACTS, [PAGE_SIZE + 1])]
    rows = connection.execute(
        CLAIMS + "WHERE c.fact_id = ANY(%s) ORDER BY c.fact_id, c.published_at, c.id",
        [facts[:PAGE_SIZE]],
    ).fetchall()
    results = [_fact(list(group)) for _, group in groupby(rows, key=lambda row: row[1])]
    return {"next": "?cursor=..." if len(facts) > PAGE_SIZE else None, "results": results}


def fact_detail(connection, fact_id) -> dict:
    rows = connection.execute(
        CLAIMS + "WHERE c.fact_id = %s ORDER BY c.published_at, c.id", [fact_id]
    ).fetchall()
    return _fact(rows)


def claim_list(connection, property_id) -> dict:
    rows = connection.execute(
        CLAIMS + "WHERE c.property_id = %s ORDER BY c.published_at, c.id LIMIT %s",
        [property_id, PAGE_SIZE + 1],
    ).fetchall()
    return {
        "next": "?cursor=..." if len(rows) > PAGE_SIZE else None,
        "results": [_claim(row) for row in rows[:PAGE_SIZE]],
    }


def _digest(value) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _feed_entry(row) -> dict:
    """Public events in full with their metadata's digest; others as their content's digest
    (the digests are part of what the page shows, so the baseline computes them too)."""
    position, previous_hash, hash, stream_id, stream_type, version, event_type = row[:7]
    schema_version, data, metadata, recorded_at = row[7:]
    entry = {"position": position, "previous_hash": previous_hash, "hash": hash}
    fields = [str(stream_id), stream_type, version, event_type, schema_version, data]
    metadata_digest = _digest(metadata)
    moment = recorded_at.isoformat(timespec="microseconds")
    if event_type in PUBLIC_EVENT_TYPES:
        names = ("stream_id", "stream_type", "version", "event_type", "schema_version", "data")
        event = dict(zip(names, fields, strict=True))
        entry.update(public=True, event={**event, "metadata_digest": metadata_digest})
        entry["event"]["recorded_at"] = moment
    else:
        entry.update(public=False, content_digest=_digest([*fields, metadata_digest, moment]))
    return entry


def change_feed(connection, _) -> dict:
    rows = connection.execute(EVENTS, [0, 0, FEED_PAGE_SIZE, FEED_PAGE_BYTES]).fetchall()
    last = rows[-1][0] if rows else 0
    (more,) = connection.execute(MORE_EVENTS, [last]).fetchone()
    results = [_feed_entry(row) for row in rows]
    return {"results": results, "last_position": last, "next": "?after=..." if more else None}


PAGES = {
    "fact_list": fact_list,
    "fact_detail": fact_detail,
    "claim_list": claim_list,
    "change_feed": change_feed,
}


def page_bytes(connection, key: str, argument) -> bytes:
    # Encoded as DRF's JSONRenderer encodes: compact, non-ASCII characters kept.
    page = PAGES[key](connection, argument)
    return json.dumps(page, default=str, ensure_ascii=False, separators=(",", ":")).encode()


def loop(url: str, key: str, arguments: list, seconds: float) -> list[float]:
    """Build pages one after another for ``seconds``, cycling through ``arguments``, over one
    connection; return each page's latency in milliseconds. Run in a process of its own."""
    latencies = []
    with connect(url) as connection:
        page_bytes(connection, key, arguments[0])  # warm: the connection's first query plans
        stop = time.perf_counter() + seconds
        index = 0
        while (started := time.perf_counter()) < stop:
            page_bytes(connection, key, arguments[index % len(arguments)])
            latencies.append((time.perf_counter() - started) * 1000)
            index += 1
    return latencies


def connection_milliseconds(url: str, count: int = 50) -> float:
    """The median time to open a PostgreSQL connection, run one query and close it: what a
    request pays for its connection when Django opens one per request (CONN_MAX_AGE = 0)."""
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        with psycopg.connect(url) as connection:
            connection.execute("SELECT 1")
        samples.append((time.perf_counter() - started) * 1000)
    return sorted(samples)[len(samples) // 2]
