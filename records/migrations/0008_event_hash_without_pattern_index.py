"""The event log without the second index on ``hash`` that Django adds on PostgreSQL.

For a unique ``CharField`` Django's PostgreSQL backend makes two indexes: the unique one, and a
``varchar_pattern_ops`` one for ``LIKE 'prefix%'`` lookups. Nothing looks events up by a prefix
of their hash, so the second index was never read; but every append wrote a random key of 64
characters into it, and it grew with the log (126 MB of a 1M-event log's 404 MB of indexes).
The unique index stays: it is what the database itself says about the chain (no two events
share a hash).

The model's state does not change (Django's migration state does not know of this index), so
the operation is SQL on PostgreSQL alone; SQLite never had the index. The name is the one
Django derives for it (``_create_index_name``), the same on every database.
"""

from django.db import migrations

TABLE = "records_event"
INDEX = "records_event_hash_79f725be_like"


def drop_pattern_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


def restore_pattern_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON {TABLE} (hash varchar_pattern_ops)"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0007_publishedclaim_by_property"),
    ]

    operations = [migrations.RunPython(drop_pattern_index, restore_pattern_index)]
