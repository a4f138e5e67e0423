"""The benchmark's own PostgreSQL database: made afresh for every run, never anyone else's."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
SCRATCH_TABLE = "bench_scratch_event"


def admin_url() -> str:
    """The server to use: the one DATABASE_URL names (as for ``make test``), or the local one.
    The connection goes to its maintenance database, since the one named may not exist."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        url = DEFAULT_SERVER
    return with_database(url, "postgres")


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def recreate(admin: str, name: str) -> str:
    """Drop and create database ``name``; return its URL."""
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return with_database(admin, name)


def create_scratch_table(url: str) -> None:
    """A table shaped like the event log (columns, keys and indexes) but without its
    append-only triggers, for the baseline inserts to write and empty between runs."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"CREATE TABLE {SCRATCH_TABLE} (LIKE records_event INCLUDING ALL)")


def connect(url: str) -> psycopg.Connection:
    """A raw connection that reads times as Django stores them (UTC), so that the baselines
    serialise timestamps to the very bytes the hash chain covers."""
    connection = psycopg.connect(url, autocommit=True)
    connection.execute("SET TIME ZONE 'UTC'")
    return connection


def vacuum(url: str) -> None:
    """VACUUM ANALYZE the benchmark database: what autovacuum does between bulk changes (it may
    be off, as on the machine these figures were first taken on). Without it, every rebuild
    leaves a million dead rows for the next one to wade through, and after tiling the planner
    has no statistics for the API's queries."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)")
