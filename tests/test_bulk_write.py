"""records.bulk_write: rows inserted in bulk (COPY on PostgreSQL, bulk_create elsewhere) are
stored with exactly the values given, whatever form an id arrives in, and a value that its
column cannot hold is refused, never stored as something else."""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import DataError, connection, transaction

from records import bulk_write
from records.models import Claim

HistoricalClaim = Claim.history.model

# The history table has a column of every type the projections use: uuid, integer, bigint,
# timestamptz, varchar, text, jsonb, numeric, boolean and date.
COLUMNS = [
    column.attname
    for column in HistoricalClaim._meta.concrete_fields
    if column.attname != "history_id"  # numbered by the database
]


def _row(record_id, **given) -> dict:
    when = datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=UTC)
    row = {
        "id": record_id,
        "version": 7,
        "last_position": 2**40,  # beyond int4: the column is a bigint
        "registered_at": when,
        "updated_at": when,
        "status": "published",
        "revision": 2,
        "published_revision": None,
        "revision_authors": [3, 5],
        "status_changed_at": when,
        "value_type": "quantity",
        "value": {"type": "quantity", "original": "約 1,200 – „ungefähr“", "best": "1200"},
        "original_wording": "約 1,200",
        "quantity_best": Decimal("1200.000001"),
        "quantity_lower": Decimal("-5"),
        "quantity_upper": None,
        "quantity_approximate": True,
        "unit": "",
        "date_earliest": date(1, 1, 1),
        "date_latest": date(9999, 12, 31),
        "date_edtf": "",
        "text_value": "",
        "locator": "p. 3",
        "quote": "a\ttab, a\nnewline and a \\ backslash",
        "quote_start": 0,
        "quote_end": 41,
        "attributed_to": "",
        "note": "",
        "rank": "normal",
        "rank_reason": "",
        "registered_by_id": None,
        "status_changed_by_id": None,
        "history_user_id": None,
        "fact_id": uuid.uuid4(),
        "subject_id": str(uuid.uuid4()),
        "property_id": uuid.uuid4(),
        "source_id": str(uuid.uuid4()),
        "subject_value_id": None,
        "history_date": when,
        "history_type": "~",
        "history_change_reason": "ClaimRevised: why",
    }
    row |= given
    return {name: row[name] for name in COLUMNS}


@pytest.fixture(params=["copy", "bulk_create"])
def insert(request, monkeypatch, db):
    """Both ways in: COPY (on PostgreSQL) and bulk_create (what SQLite uses)."""
    if request.param == "copy":
        if connection.vendor != "postgresql":
            pytest.skip("COPY is PostgreSQL's")
    else:
        monkeypatch.setattr(bulk_write, "_copy", bulk_write._bulk_create)
    return request.param


def _stored(record_id) -> dict:
    stored = HistoricalClaim.objects.values(*COLUMNS).get(id=record_id)
    return {name: stored[name] for name in COLUMNS}


def _as_stored(row: dict) -> dict:
    """What the database gives back for ``row``: ids as UUIDs, whatever form they came in."""
    return {
        name: uuid.UUID(str(value)) if name.endswith("id") and value is not None else value
        for name, value in row.items()
    }


def test_every_column_type_is_stored_as_given(insert):
    rows = [_row(uuid.uuid4()), _row(str(uuid.uuid4()), quantity_best=None, value={})]
    bulk_write.insert_values(HistoricalClaim, COLUMNS, [list(row.values()) for row in rows])
    for row in rows:
        assert _stored(row["id"]) == _as_stored(row)


@pytest.mark.parametrize(
    "form",
    [
        str,
        lambda id_: str(id_).upper(),
        lambda id_: f"{{{id_}}}",
        lambda id_: id_.hex,
        lambda id_: "-".join(id_.hex[start : start + 4] for start in range(0, 32, 4)),
    ],
    ids=["canonical", "upper case", "braces", "bare hex", "hyphens between fours"],
)
def test_an_id_given_as_text_in_any_form_postgresql_takes_is_stored_as_that_id(insert, form):
    record_id, subject_id = uuid.uuid4(), uuid.uuid4()
    row = _row(form(record_id), subject_id=form(subject_id))
    bulk_write.insert_values(HistoricalClaim, COLUMNS, [list(row.values())])
    stored = _stored(record_id)
    assert (stored["id"], stored["subject_id"]) == (record_id, subject_id)


AN_ID = "0f7d3c1e-2b8a-4c55-9e61-5a1f0b7c9d24"


@pytest.mark.parametrize(
    ("column", "value"),
    [
        # Integers beyond the column's width must not wrap round.
        ("revision", 2**31),
        ("quote_start", -(2**31) - 1),
        ("last_position", 2**63),
        # Malformed ids, some in forms that Python's uuid reads and PostgreSQL does not.
        ("subject_id", "not-an-id"),
        ("subject_id", f"urn:uuid:{AN_ID}"),
        ("subject_id", AN_ID.replace("-", "_")),
        ("subject_id", AN_ID[:-1] + "\u0663"),  # an Arabic-Indic digit
        ("subject_id", AN_ID[:-2] + "-4"),  # 36 characters, 31 digits
    ],
    ids=repr,
)
def test_a_value_its_column_cannot_hold_is_refused_not_changed(postgres_only, db, column, value):
    row = _row(uuid.uuid4(), **{column: value})
    with pytest.raises(DataError), transaction.atomic():
        bulk_write.insert_values(HistoricalClaim, COLUMNS, [list(row.values())])
