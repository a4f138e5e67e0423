"""Times read from PostgreSQL parsed by Python's C parser instead of psycopg's Python one.

Django reads each ``timestamptz`` through a loader of its own (``psycopg_any.BaseTzLoader``)
that subclasses psycopg's Python loader, which parses the server's text with a regular
expression: about 3 µs a value, where ``datetime.fromisoformat`` takes 0.1 µs. A replay reads
a time with every event of the log and several with every record it reads back, and a fact page
about 160. This loader gives the very datetime Django's gives (the server's wall time, in the
connection's time zone, or naive without one) and hands anything ``fromisoformat`` does not
read (another ``DateStyle``, a year past 9999 or before 1, infinity) to Django's loader, which
reads or refuses it as before.
"""

from __future__ import annotations

from datetime import datetime

from django.db.backends.signals import connection_created


def _fast_loader(django_loader: type) -> type:
    class IsoTzLoader(django_loader):
        def load(self, data):
            try:
                moment = datetime.fromisoformat(str(data, "ascii"))
            except (UnicodeDecodeError, ValueError):
                return super().load(data)
            return moment.replace(tzinfo=self.timezone)

    return IsoTzLoader


def install(sender, connection, **kwargs) -> None:
    """On each new PostgreSQL connection, put the fast loader in place of Django's, for the same
    time zone: Django checks the loader's ``timezone`` when it makes a cursor, and would
    otherwise put its own back on every cursor."""
    if connection.vendor != "postgresql":
        return
    from psycopg.pq import Format

    adapters = connection.connection.adapters
    oid = adapters.types["timestamptz"].oid
    django_loader = adapters.get_loader(oid, Format.TEXT)
    if django_loader is None or getattr(django_loader, "fast", False):
        return
    loader = _fast_loader(django_loader)
    loader.fast = True
    adapters.register_loader("timestamptz", loader)


def connect() -> None:
    connection_created.connect(install, dispatch_uid="records.pg_timestamps")
