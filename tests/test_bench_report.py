"""The benchmark's report says how the API's workers got their database connections under the
very settings the run gave them."""

from bench import report
from tests.test_production_settings import PRODUCTION, settings_under


def _said(monkeypatch, **env) -> str:
    database = settings_under(monkeypatch, **PRODUCTION, **env)["DATABASES"]["default"]
    return report._connections(8.0, database)


def test_with_the_pool_no_request_is_said_to_open_a_connection(monkeypatch):
    said = _said(monkeypatch, DB_POOL_MIN_SIZE="3", DB_POOL_MAX_SIZE="7")
    assert "pool" in said and "3 to 7 a worker" in said
    assert "checked with one round trip" in said  # the pool checks each connection it hands out
    assert "opens a new" not in said


def test_without_the_pool_the_report_follows_db_conn_max_age(monkeypatch):
    assert "Every request opens a new" in _said(monkeypatch, DB_POOL="0", DB_CONN_MAX_AGE="0")
    assert "for good" in _said(monkeypatch, DB_POOL="0", DB_CONN_MAX_AGE="none")
    assert "for 60 s" in _said(monkeypatch, DB_POOL="0")
