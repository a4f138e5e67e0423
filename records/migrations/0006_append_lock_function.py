"""The append lock as a function, so that the application's role can take it.

PostgreSQL grants LOCK TABLE ... IN EXCLUSIVE MODE only to a role with UPDATE, DELETE or TRUNCATE
on the table (or, from 17, MAINTAIN), and the application's role has none of them on the event log
(docs/database-roles.md). ``records_event_lock()`` takes the same lock with its owner's rights;
grant_app_privileges gives the application's role EXECUTE on it and nothing else.
"""

from django.db import migrations

from records import db_privileges


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        db_privileges.install_append_lock(schema_editor.connection)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        db_privileges.uninstall_append_lock(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("records", "0005_working_history_without_link_indexes")]

    operations = [migrations.RunPython(install, uninstall)]
