"""Insert many rows of one table at once: COPY on PostgreSQL, bulk_create elsewhere.

The paged projector writes thousands of history rows a page, and a bulk import thousands of
events. ``bulk_create`` prepares every value of every row through its field, and psycopg then
quotes it into the SQL text: about 200 µs a row on these wide tables, more than the projecting
itself. PostgreSQL's COPY takes the rows as they are (psycopg adapts UUIDs, times, dates and
decimals natively; only JSON columns need serialising first, as the JSONField would) and the
server inserts while the next rows are built.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Iterable, Sequence
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


def _copy(model, columns: Sequence[str], rows: Iterable[Sequence], shared_json: bool) -> None:
    fields = [model._meta.get_field(name) for name in columns]
    names = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    # Only the JSON columns' values need changing on the way: every other row goes out as given.
    json_columns = [
        (index, _once_per_object(_json_dumper(field)) if shared_json else _json_dumper(field))
        for index, field in enumerate(fields)
        if isinstance(field, models.JSONField)
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
            if json_columns:
                row = list(row)
                for index, dump in json_columns:
                    row[index] = dump(row[index])
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
