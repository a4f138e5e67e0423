"""Insert many rows of one table at once: COPY on PostgreSQL, bulk_create elsewhere.

The paged projector writes thousands of history rows a page, and a bulk import thousands of
events. ``bulk_create`` prepares every value of every row through its field, and psycopg then
quotes it into the SQL text: about 200 µs a row on these wide tables, more than the projecting
itself. PostgreSQL's COPY takes the rows as they are (psycopg adapts UUIDs, dates and decimals
natively; JSON columns are serialised first, as the JSONField would, and times are written once
for each distinct time of a table's rows) and the server inserts while the next rows are built.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from operator import itemgetter

from django.db import connection, models

from records.json_codec import dumps_json

BATCH_SIZE = 1000


def _json_dumper(field: models.JSONField):
    # The JSONField's own serialiser, orjson's where that is exact (records.json_codec).
    encode = (
        dumps_json if field.encoder is None else functools.partial(json.dumps, cls=field.encoder)
    )

    def dump(value):
        return None if value is None and field.null else encode(value)

    return dump


def _once_per_object(dump):
    """``dump``, serialising each object once: for rows that share JSON objects and that the
    caller keeps alive until the insert returns (so that no object's id can be reused)."""
    dumped: dict[int, str | None] = {}

    def dump_once(value):
        key = id(value)
        if key not in dumped:
            dumped[key] = dump(value)
        return dumped[key]

    return dump_once


def _time_writer():
    """A function giving a time's text as COPY takes it, each distinct time written once:
    psycopg's own conversion costs about 1.2 µs a value, and a history row holds four times,
    most of them the same few (the time of the event, or of one before it). Equal times are one
    instant, which is all a timestamptz column keeps, whatever their offsets. Anything but a
    datetime (None, text) goes on as it is."""
    written: dict[datetime, str] = {}

    def write(value):
        if type(value) is not datetime:
            return value
        text = written.get(value)
        if text is None:
            text = written[value] = value.isoformat()
        return text

    return write


def _converter(field: models.Field, shared_json: bool, write_time):
    """How a column's values change on the way to COPY, or None when they go as given."""
    if isinstance(field, models.JSONField):
        dump = _json_dumper(field)
        return _once_per_object(dump) if shared_json else dump
    if isinstance(field, models.DateTimeField):
        return write_time
    return None


def _copy(model, columns: Sequence[str], rows: Iterable[Sequence], shared_json: bool) -> None:
    fields = [model._meta.get_field(name) for name in columns]
    names = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    # One time writer for every time column: a row's times are mostly one and the same.
    write_time = _time_writer()
    converted = [
        (index, convert)
        for index, field in enumerate(fields)
        if (convert := _converter(field, shared_json, write_time)) is not None
    ]
    table = connection.ops.quote_name(model._meta.db_table)
    # The raw cursor's errors are psycopg's; Django's wrapper makes them django.db errors
    # (an IntegrityError for a duplicate key, say).
    with (
        connection.wrap_database_errors,
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
    ):
        write_row = copy.write_row
        for row in rows:
            if converted:
                row = list(row)
                for index, convert in converted:
                    row[index] = convert(row[index])
            write_row(row)


def _bulk_create(
    model, columns: Sequence[str], rows: Iterable[Sequence], shared_json: bool
) -> None:
    # Takes _copy's arguments (a test runs one in place of the other); shared_json is moot here,
    # each JSONField serialises its own value.
    rows = iter(rows)
    while batch := list(itertools.islice(rows, BATCH_SIZE)):
        model.objects.bulk_create([model(**dict(zip(columns, row, strict=True))) for row in batch])


def insert_values(
    model, columns: Sequence[str], rows: Iterable[Sequence], *, shared_json: bool = False
) -> None:
    """Insert rows given as sequences of values in the order of ``columns`` (attnames),
    streamed. ``shared_json``: the rows share JSON objects (never changed in between) and the
    caller holds every row until this returns, so each object can be serialised once."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return
    rows = itertools.chain([first], rows)
    if connection.vendor == "postgresql":
        _copy(model, columns, rows, shared_json)
    else:
        _bulk_create(model, columns, rows, shared_json)


def insert_rows(model, rows: Iterable[dict]) -> None:
    """Insert rows given as {attname: value}, every row naming the same fields, streamed."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return
    columns = list(first)
    values = itemgetter(*columns) if len(columns) > 1 else lambda row: (row[columns[0]],)
    insert_values(model, columns, map(values, itertools.chain([first], rows)))
