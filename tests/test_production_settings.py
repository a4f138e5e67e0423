"""Production settings: a required SECRET_KEY, HTTPS, CSP, JSON logs, the pool, health probes."""

from __future__ import annotations

import json
import os
import runpy
import secrets
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError, connections
from django.db.migrations.recorder import MigrationRecorder
from django.test import override_settings

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_FILE = ROOT / "archive" / "settings.py"
PRODUCTION = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "archive.example.org",
    "DATABASE_URL": "postgres://strata_app@db.example.org:5432/strata",
}
ENV_NAMES = [
    "SECRET_KEY", "SECRET_KEY_FALLBACKS", "DEBUG", "HTTPS_ONLY", "NUM_PROXIES", "ALLOWED_HOSTS",
    "LOG_FORMAT", "DATABASE_URL", "DATABASE_REPLICA_URLS", "TEST_DATABASE_NAME", "DB_POOL",
    "DB_POOL_MIN_SIZE", "DB_POOL_MAX_SIZE", "DB_POOL_TIMEOUT", "DB_CONN_MAX_AGE",
    "API_CACHE_SECONDS", "REPLICA_RETRY_SECONDS", "REPLICA_CONNECT_TIMEOUT",
]  # fmt: skip


def settings_under(monkeypatch, **env: str) -> dict:
    """The settings file evaluated under ``env`` alone (Django's own settings are untouched)."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS_FILE))


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if key not in ENV_NAMES}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


# -- SECRET_KEY ----------------------------------------------------------------------------------


def test_the_settings_refuse_a_missing_secret_key(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY is not set"):
        settings_under(monkeypatch)
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY is not set"):
        settings_under(monkeypatch, SECRET_KEY="   ")


def test_the_app_refuses_to_start_without_a_secret_key():
    started = manage("check", DATABASE_URL="sqlite:///:memory:")
    assert started.returncode != 0
    assert "SECRET_KEY is not set" in started.stderr


def test_a_debug_run_may_go_without_a_secret_key(monkeypatch):
    assert settings_under(monkeypatch, DEBUG="1")["SECRET_KEY"]


def test_old_keys_are_kept_as_fallbacks_while_rotating(monkeypatch):
    settings = settings_under(monkeypatch, SECRET_KEY="new", SECRET_KEY_FALLBACKS="old, older")
    assert settings["SECRET_KEY_FALLBACKS"] == ["old", "older"]


# -- HTTPS, cookies, deploy checks ---------------------------------------------------------------


def test_production_is_https_only_with_hsts_and_secure_cookies(monkeypatch):
    settings = settings_under(monkeypatch, **PRODUCTION)
    assert settings["SECURE_SSL_REDIRECT"] is True
    assert settings["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert settings["SECURE_HSTS_INCLUDE_SUBDOMAINS"] and settings["SECURE_HSTS_PRELOAD"]
    assert settings["SESSION_COOKIE_SECURE"] and settings["CSRF_COOKIE_SECURE"]
    assert settings["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")


def test_a_local_debug_run_serves_plain_http(monkeypatch):
    settings = settings_under(monkeypatch, DEBUG="1")
    assert not settings["SECURE_SSL_REDIRECT"] and not settings["SESSION_COOKIE_SECURE"]
    assert settings["SECURE_HSTS_SECONDS"] == 0


def test_the_deploy_check_is_clean_in_production():
    checked = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "no issues" in checked.stdout


def test_the_deploy_check_catches_plain_http():
    # The check above is clean because of the settings, not because it checks nothing.
    checked = manage("check", "--deploy", "--fail-level", "WARNING", HTTPS_ONLY="0", **PRODUCTION)
    assert checked.returncode != 0
    assert "security.W004" in checked.stderr + checked.stdout  # no HSTS


@pytest.mark.django_db
@override_settings(SECURE_SSL_REDIRECT=True)
def test_the_probes_answer_over_plain_http_while_everything_else_is_redirected(client):
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    redirected = client.get("/api/v1/facts/")
    assert redirected.status_code == 301
    assert redirected["Location"].startswith("https://")


# -- Content-Security-Policy ---------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/admin/login/", "/api/v1/facts/", "/api/docs/"])
def test_every_page_carries_a_content_security_policy(client, path):
    policy = client.get(path)["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"  # no inline or foreign script
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"


def test_the_api_docs_page_runs_no_inline_script(client):
    page = client.get("/api/docs/").content.decode()
    scripts = page.split("<script")[1:]
    assert scripts and all(" src=" in script.split(">", 1)[0] for script in scripts)
    # ... its start-up script is served from this site instead.
    assert client.get("/api/docs/?script").status_code == 200


# -- Logs ----------------------------------------------------------------------------------------


def test_logs_are_one_json_object_per_line():
    logged = manage(
        "shell",
        "-c",
        "import logging; logging.getLogger('records.example').warning('replica %s is down', 'r1')",
        DATABASE_URL="sqlite:///:memory:",
        SECRET_KEY="log-test",
    )
    assert logged.returncode == 0, logged.stderr
    [line] = [line for line in logged.stderr.splitlines() if "replica" in line]
    record = json.loads(line)
    assert record["level"] == "WARNING"
    assert record["logger"] == "records.example"
    assert record["message"] == "replica r1 is down"
    assert datetime.fromisoformat(record["time"]).utcoffset() == timedelta(0)  # ISO 8601, UTC


def test_an_unknown_log_format_is_refused(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="LOG_FORMAT must be json or text"):
        settings_under(monkeypatch, LOG_FORMAT="xml", **PRODUCTION)


def test_the_throttle_counts_clients_behind_the_named_number_of_proxies(monkeypatch):
    assert settings_under(monkeypatch, **PRODUCTION)["REST_FRAMEWORK"]["NUM_PROXIES"] == 0
    behind_nginx = settings_under(monkeypatch, NUM_PROXIES="1", **PRODUCTION)
    assert behind_nginx["REST_FRAMEWORK"]["NUM_PROXIES"] == 1


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("NUM_PROXIES", "abc", "NUM_PROXIES must be a number, not 'abc'"),
        ("NUM_PROXIES", "-1", "NUM_PROXIES must be at least 0, not -1"),
        ("DB_POOL_MIN_SIZE", "0", "DB_POOL_MIN_SIZE must be at least 1, not 0"),
        ("DB_POOL_MAX_SIZE", "ten", "DB_POOL_MAX_SIZE must be a number, not 'ten'"),
        ("DB_POOL_TIMEOUT", "0", "DB_POOL_TIMEOUT must be at least 0.1, not 0"),
        ("DB_CONN_MAX_AGE", "forever", "DB_CONN_MAX_AGE must be a number, not 'forever'"),
        ("API_CACHE_SECONDS", "1m", "API_CACHE_SECONDS must be a number, not '1m'"),
        ("REPLICA_RETRY_SECONDS", "-5", "REPLICA_RETRY_SECONDS must be at least 0, not -5"),
    ],
)
def test_a_bad_number_stops_the_app_naming_the_setting(monkeypatch, name, value, message):
    env = {**PRODUCTION, "DB_POOL": "0" if name == "DB_CONN_MAX_AGE" else "1", name: value}
    with pytest.raises(ImproperlyConfigured) as refused:
        settings_under(monkeypatch, **env)
    assert str(refused.value) == message


def test_a_pool_smaller_than_its_minimum_is_refused(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match=r"DB_POOL_MAX_SIZE \(2\) must be at least"):
        settings_under(monkeypatch, DB_POOL_MIN_SIZE="5", DB_POOL_MAX_SIZE="2", **PRODUCTION)


# -- Databases: the pool and the replicas --------------------------------------------------------


def test_postgresql_connections_come_from_psycopgs_pool(monkeypatch):
    database = settings_under(monkeypatch, **PRODUCTION)["DATABASES"]["default"]
    assert database["OPTIONS"]["pool"]["max_size"] >= database["OPTIONS"]["pool"]["min_size"] > 0
    # The pool keeps the connections: Django must hand each one back after a request.
    assert database["CONN_MAX_AGE"] == 0
    assert database["CONN_HEALTH_CHECKS"]  # the pool checks a connection before handing it out


def test_every_postgresql_connection_attempt_is_bounded(monkeypatch):
    # Without a bound, libpq waits for an unreachable server until the system's TCP timeout.
    replica = "postgres://strata_app@replica-1/strata"
    for pool in ("1", "0"):
        databases = settings_under(
            monkeypatch, DB_POOL=pool, DATABASE_REPLICA_URLS=replica, **PRODUCTION
        )["DATABASES"]
        assert databases["default"]["OPTIONS"]["connect_timeout"] == 10
        assert databases["replica_1"]["OPTIONS"]["connect_timeout"] == 2


def test_without_the_pool_a_worker_keeps_its_connection(monkeypatch):
    database = settings_under(monkeypatch, DB_POOL="0", **PRODUCTION)["DATABASES"]["default"]
    assert "pool" not in database["OPTIONS"]
    assert database["CONN_MAX_AGE"] == 60


def test_url_options_survive_the_pool(monkeypatch):
    url = PRODUCTION["DATABASE_URL"] + "?sslmode=require"
    database = settings_under(monkeypatch, **{**PRODUCTION, "DATABASE_URL": url})["DATABASES"]
    assert database["default"]["OPTIONS"]["sslmode"] == "require"


def test_each_replica_url_becomes_a_database_that_tests_mirror(monkeypatch):
    replicas = "postgres://strata_app@replica-1/strata,postgres://strata_app@replica-2/strata"
    databases = settings_under(monkeypatch, DATABASE_REPLICA_URLS=replicas, **PRODUCTION)[
        "DATABASES"
    ]
    assert list(databases) == ["default", "replica_1", "replica_2"]
    assert databases["replica_2"]["HOST"] == "replica-2"
    assert databases["replica_1"]["TEST"] == {"MIRROR": "default"}


# -- Health probes -------------------------------------------------------------------------------


def test_healthz_answers_without_the_database(client):
    # No django_db mark: pytest-django fails any query this test makes.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_is_ready_when_the_database_answers_and_migrations_are_applied(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


@pytest.mark.django_db
def test_readyz_names_the_migrations_not_applied(client):
    # As if the code were newer than the database: its latest migration is not recorded.
    latest = MigrationRecorder.Migration.objects.filter(app="records").latest("name").name
    MigrationRecorder.Migration.objects.filter(app="records", name=latest).delete()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "reason": "migrations not applied",
        "pending": [f"records.{latest}"],
    }


@pytest.mark.django_db
def test_readyz_says_when_the_database_does_not_answer(client, monkeypatch):
    def refuse():
        raise OperationalError("connection refused")

    monkeypatch.setattr(connections["default"], "ensure_connection", refuse)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "reason": "database unreachable"}


def test_the_probes_only_read(client):
    assert client.post("/healthz").status_code == 405
    assert client.post("/readyz").status_code == 405
