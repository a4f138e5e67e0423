"""records.pg_timestamps: times read from PostgreSQL are the very datetimes Django's own loader
gives, whatever the server writes, and what neither can read is refused as before."""

from datetime import UTC, datetime

import pytest
from django.db import DataError, connection
from django.db.backends.postgresql.psycopg_any import register_tzloader

pytestmark = pytest.mark.django_db

# As the server writes them, and as the ORM stores them: microseconds or none, the first and
# the last year a datetime holds, a leap day.
TIMES = [
    "2026-12-07 16:22:10.13527+00",
    "2026-12-07 16:22:10+00",
    "2026-12-07 16:22:10.000001+00",
    "0001-01-01 00:00:00+00",
    "9999-12-31 23:59:59.999999+00",
    "2024-02-29 12:00:00.5+00",
    "2026-03-29 01:30:00+01",  # written back by the server in the session's zone
]


def _read(literals: list[str], *, django_loader: bool = False) -> list:
    with connection.cursor() as cursor:
        if django_loader:
            # Django's own loader, on this cursor alone (as Django itself registers one).
            register_tzloader(connection.timezone, cursor.cursor)
        cursor.execute("SELECT " + ", ".join("%s::timestamptz" for _ in literals), [*literals])
        return list(cursor.fetchone())


def test_the_fast_loader_is_the_one_in_use(postgres_only):
    from psycopg.pq import Format

    with connection.cursor() as cursor:
        loader = cursor.cursor.adapters.get_loader(
            cursor.cursor.adapters.types["timestamptz"].oid, Format.TEXT
        )
    assert loader.__name__ == "IsoTzLoader"
    # Django compares this with its own when it makes a cursor, and would put its own back.
    assert loader.timezone == connection.timezone


def test_times_are_read_as_django_reads_them(postgres_only):
    fast, django = _read(TIMES), _read(TIMES, django_loader=True)
    assert fast == django
    assert [moment.tzinfo for moment in fast] == [moment.tzinfo for moment in django]
    assert fast[0] == datetime(2026, 12, 7, 16, 22, 10, 135270, tzinfo=UTC)


def _outcome(literals: list[str], *, django_loader: bool = False):
    """The times read, or the type of what reading them raised."""
    try:
        return _read(literals, django_loader=django_loader)
    except Exception as error:
        return type(error)


@pytest.mark.parametrize("style", ["SQL, DMY", "Postgres, MDY", "German"])
def test_a_time_in_another_date_style_is_left_to_djangos_loader(postgres_only, style):
    """The server then writes times that fromisoformat does not read: Django's loader gets them
    and does what it did before (psycopg reads only ISO times, and says so)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SET DateStyle = '{style}'")
    try:
        assert _outcome(TIMES[:4]) == _outcome(TIMES[:4], django_loader=True)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET DateStyle = 'ISO, MDY'")


@pytest.mark.parametrize("literal", ["infinity", "-infinity", "0044-03-15 12:00:00+00 BC"])
def test_a_time_no_datetime_holds_is_refused_as_before(postgres_only, literal):
    for django_loader in (False, True):
        with pytest.raises(DataError):
            _read([literal], django_loader=django_loader)


def test_a_stored_time_reads_back_as_written(postgres_only, archivist):
    archivist.last_login = datetime(2026, 12, 7, 16, 22, 10, 135270, tzinfo=UTC)
    archivist.save(update_fields=["last_login"])
    archivist.refresh_from_db()
    assert archivist.last_login == datetime(2026, 12, 7, 16, 22, 10, 135270, tzinfo=UTC)
    assert archivist.last_login.tzinfo is UTC
