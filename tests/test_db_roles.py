"""The application's PostgreSQL role (DESIGN invariant 2): SELECT and INSERT on the event log and
nothing else on it, read and write on the read models, no TRUNCATE anywhere
(records/db_privileges.py, manage.py grant_app_privileges, docs/database-roles.md).

Each test makes its own roles, named with a random suffix since roles belong to the whole
server, and acts as one with SET LOCAL ROLE inside the test's transaction: the transaction's
rollback takes the role and its grants away even if the clean-up never runs."""

import os
import re
import shutil
import subprocess
import sys
import uuid
from contextlib import contextmanager, suppress
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from records import commands, db_privileges, event_store
from records.hashing import verify_chain
from records.models import PublishedSource, Source, StoredEvent
from records.replay import check_replay
from tests import factories
from tests.conftest import make_user

EVENT_TABLE = StoredEvent._meta.db_table
INSUFFICIENT_PRIVILEGE = "42501"


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _execute(sql: str, params=None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def _grant(role: str, *options: str) -> str:
    out, err = StringIO(), StringIO()
    call_command("grant_app_privileges", "--role", role, *options, stdout=out, stderr=err)
    return out.getvalue()


@contextmanager
def acting_as(role: str):
    """Run the block as ``role``, as if the app had connected with it."""
    _execute(f"SET LOCAL ROLE {_quote(role)}")
    try:
        yield
    finally:
        # (in an aborted transaction RESET fails, and the rollback resets the role anyway)
        with suppress(DatabaseError):
            _execute("RESET ROLE")


def refused(sql: str, params=None) -> str:
    """Run ``sql`` in a savepoint and return PostgreSQL's refusal for want of privilege."""
    with pytest.raises(DatabaseError) as caught, transaction.atomic():
        _execute(sql, params)
    assert getattr(caught.value.__cause__, "sqlstate", None) == INSUFFICIENT_PRIVILEGE, caught.value
    return str(caught.value)


def _privileges(role: str, table: str) -> set[str]:
    return {
        privilege
        for privilege in db_privileges.TABLE_PRIVILEGES
        if _execute(
            "SELECT has_any_column_privilege(%s, %s, %s)"
            if privilege in {"SELECT", "INSERT", "UPDATE", "REFERENCES"}
            else "SELECT has_table_privilege(%s, %s, %s)",
            [role, table, privilege],
        )[0][0]
    }


@pytest.fixture
def make_role(db, postgres_only):
    made = []

    def make(prefix: str = "strata_app_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        _execute(f"CREATE ROLE {_quote(name)} NOLOGIN NOINHERIT")
        made.append(name)
        return name

    yield make
    for name in reversed(made):
        try:
            with transaction.atomic():
                _execute(f"DROP OWNED BY {_quote(name)}")
                _execute(f"DROP ROLE {_quote(name)}")
        except DatabaseError:
            pass  # an aborted transaction: its rollback undoes CREATE ROLE all the same


@pytest.fixture
def app_role(make_role):
    return make_role()


@pytest.fixture
def granted(app_role):
    return _grant(app_role)


@pytest.fixture
def append_lock(app_role):
    """The app role with its grants, the append lock function among them (migration 0006
    installs the function; lock_log calls it)."""
    _grant(app_role)
    return app_role


def test_on_sqlite_roles_do_not_apply(db):
    if connection.vendor == "postgresql":
        pytest.skip("the SQLite path: run with an SQLite DATABASE_URL")
    out = StringIO()
    call_command("grant_app_privileges", "--role", "strata_app", stdout=out)
    assert out.getvalue().startswith("Database roles do not apply on SQLite")


@pytest.mark.postgres
def test_an_unknown_role_is_refused_by_name(db, postgres_only):
    role = f"no_such_role_{uuid.uuid4().hex[:12]}"
    with pytest.raises(CommandError) as refusal:
        _grant(role)
    assert str(refusal.value) == db_privileges.UNKNOWN_ROLE.format(role=role)
    with pytest.raises(CommandError, match=role):
        _grant(role, "--check")


@pytest.mark.postgres
def test_a_role_that_could_act_as_the_owner_is_refused(app_role):
    (owner,) = _execute(
        "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = %s::regclass", [EVENT_TABLE]
    )[0]
    _execute(f"GRANT {_quote(owner)} TO {_quote(app_role)}")
    with pytest.raises(CommandError, match=f"'{app_role}' owns .*member of its owner"):
        _grant(app_role)


@pytest.mark.postgres
def test_a_superuser_is_refused_as_the_app_role(app_role):
    _execute(f"ALTER ROLE {_quote(app_role)} SUPERUSER")
    with pytest.raises(CommandError) as refusal:
        _grant(app_role)
    assert str(refusal.value) == db_privileges.ROLE_IS_SUPERUSER.format(role=app_role)


@pytest.mark.postgres
@pytest.mark.parametrize("power", ["CREATEROLE", "REPLICATION", "BYPASSRLS"])
def test_a_role_that_could_make_itself_the_owner_is_refused(app_role, power):
    # CREATEROLE lets a role GRANT itself the owner's role, then disable the triggers.
    _execute(f"ALTER ROLE {_quote(app_role)} {power}")
    with pytest.raises(CommandError) as refusal:
        _grant(app_role)
    assert str(refusal.value) == db_privileges.ROLE_HAS_ROLE_POWERS.format(
        role=app_role, powers=power
    )


@pytest.mark.postgres
def test_only_the_tables_owner_may_grant(app_role, make_role):
    stranger = make_role("strata_stranger_test")
    with acting_as(stranger), pytest.raises(CommandError, match=f"'{stranger}' does not own"):
        _grant(app_role)


@pytest.mark.postgres
def test_the_app_role_may_read_and_append_to_the_log_and_nothing_else(app_role, granted):
    assert f"{EVENT_TABLE}" in granted
    assert "(revoked: UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER)" in granted
    assert _privileges(app_role, EVENT_TABLE) == {"SELECT", "INSERT"}
    assert _privileges(app_role, "django_migrations") == {"SELECT"}
    assert _privileges(app_role, "django_content_type") == {"SELECT"}
    assert _privileges(app_role, "auth_permission") == {"SELECT"}
    for table in (Source, Source.history.model, PublishedSource, "auth_user", "django_session"):
        name = table if isinstance(table, str) else table._meta.db_table
        assert _privileges(app_role, name) == {"SELECT", "INSERT", "UPDATE", "DELETE"}, name
    plan = db_privileges.plan(connection, app_role)
    assert {table.name for table in plan.tables} >= {EVENT_TABLE, "django_migrations"}
    for table in plan.tables:
        assert "TRUNCATE" not in _privileges(app_role, table.name), table.name
    (create,) = _execute("SELECT has_schema_privilege(%s, 'public', 'CREATE')", [app_role])[0]
    assert not create
    assert "Checked:" in _grant(app_role, "--check")


@pytest.mark.postgres
def test_a_second_run_takes_back_whatever_was_added(app_role, granted):
    role = _quote(app_role)
    _execute(f"GRANT UPDATE, TRUNCATE ON {EVENT_TABLE} TO {role}")
    _execute(f"GRANT UPDATE (metadata) ON {EVENT_TABLE} TO {role}")
    _execute(f"GRANT DELETE ON {EVENT_TABLE} TO PUBLIC")
    _execute(f"GRANT TRUNCATE ON records_source TO {role}")
    with pytest.raises(CommandError) as refusal:
        _grant(app_role, "--check")
    assert f"{app_role} has UPDATE, DELETE, TRUNCATE on {EVENT_TABLE}" in str(refusal.value)
    assert f"{app_role} has TRUNCATE on records_source" in str(refusal.value)

    assert _grant(app_role) == granted, "the same grants as the first run"
    assert _privileges(app_role, EVENT_TABLE) == {"SELECT", "INSERT"}
    assert _privileges(app_role, "records_source") == {"SELECT", "INSERT", "UPDATE", "DELETE"}
    assert "Checked:" in _grant(app_role, "--check")


@pytest.mark.postgres
def test_a_role_the_app_role_could_set_is_counted(app_role, granted, make_role):
    writer = make_role("strata_writer_test")
    _execute(f"GRANT UPDATE ON {EVENT_TABLE} TO {_quote(writer)}")
    _execute(f"GRANT {_quote(writer)} TO {_quote(app_role)}")
    expected = f"{app_role} has UPDATE on {EVENT_TABLE} through role '{writer}' (SET ROLE)"
    with pytest.raises(CommandError, match=re.escape(expected)):
        _grant(app_role, "--check")
    # A grant cannot take back a membership: it grants, then refuses to call the result right.
    with pytest.raises(CommandError, match=re.escape(expected)):
        _grant(app_role)


@pytest.mark.postgres
def test_a_predefined_role_that_writes_everything_is_counted(app_role, granted):
    _execute(f"GRANT pg_write_all_data TO {_quote(app_role)}")
    with pytest.raises(CommandError) as refusal:
        _grant(app_role, "--check")
    through = "through role 'pg_write_all_data' (SET ROLE)"
    assert f"has UPDATE, DELETE on {EVENT_TABLE} {through}" in str(refusal.value)
    assert f"has INSERT, UPDATE, DELETE on django_migrations {through}" in str(refusal.value)


@pytest.mark.postgres
def test_update_delete_and_truncate_of_the_log_are_refused_to_the_app_role(
    app_role, granted, archivist
):
    factories.source(archivist)
    denied = f"permission denied for table {EVENT_TABLE}"
    with acting_as(app_role):
        assert _execute(f"SELECT count(*) FROM {EVENT_TABLE}") == [(1,)]
        # Refused for want of privilege, before the append-only triggers are even reached.
        assert denied in refused(f"UPDATE {EVENT_TABLE} SET event_type = 'Forged'")
        assert denied in refused(f"DELETE FROM {EVENT_TABLE}")
        assert denied in refused(f"TRUNCATE {EVENT_TABLE}")
        assert denied in refused(f"SELECT * FROM {EVENT_TABLE} FOR UPDATE")
        assert denied in refused(f"LOCK TABLE {EVENT_TABLE} IN ACCESS EXCLUSIVE MODE")
    assert StoredEvent.objects.count() == 1


@pytest.mark.postgres
def test_the_app_role_cannot_lift_the_append_only_triggers(app_role, granted):
    with acting_as(app_role):
        for trigger in ("records_event_no_update_delete", "records_event_no_truncate"):
            assert "must be owner" in refused(f"DROP TRIGGER {trigger} ON {EVENT_TABLE}")
            assert "must be owner" in refused(
                f"ALTER TABLE {EVENT_TABLE} DISABLE TRIGGER {trigger}"
            )
        assert "must be owner" in refused(f"ALTER TABLE {EVENT_TABLE} DISABLE TRIGGER ALL")
        assert "must be owner" in refused(f"ALTER TABLE {EVENT_TABLE} OWNER TO {_quote(app_role)}")
        assert "must be owner" in refused("DROP FUNCTION records_event_reject_change()")
        # (refused for want of CREATE on the schema, before ownership is even asked)
        refused(
            "CREATE OR REPLACE FUNCTION records_event_reject_change() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$"
        )
        # Nor add a trigger of its own, nor switch triggers off for its session.
        assert "permission denied" in refused(
            f"CREATE TRIGGER t AFTER INSERT ON {EVENT_TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION records_event_reject_change()"
        )
        assert "permission denied" in refused("SET session_replication_role = replica")
        assert "permission denied for schema public" in refused("CREATE TABLE forged (x int)")


@pytest.mark.postgres
def test_the_app_role_reads_the_applied_migrations_but_cannot_record_one(app_role, granted):
    with acting_as(app_role):
        executor = MigrationExecutor(connection)
        assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []
        assert "permission denied" in refused(
            "INSERT INTO django_migrations (app, name, applied) VALUES ('records', 'x', now())"
        )


@pytest.mark.postgres
def test_the_lock_function_is_the_app_roles_alone(append_lock):
    function = f"{db_privileges.APPEND_LOCK_FUNCTION}()"
    assert _execute(
        "SELECT has_function_privilege(%s, %s, 'EXECUTE')", [append_lock, function]
    ) == [(True,)]
    public_grants = _execute(
        "SELECT a.privilege_type FROM pg_proc p, aclexplode(p.proacl) a"
        " WHERE p.oid = %s::regprocedure AND a.grantee = 0",  # 0: PUBLIC
        [function],
    )
    assert public_grants == [], "PUBLIC may not execute it"
    assert f"function {function}: EXECUTE" in _grant(append_lock)


@pytest.mark.postgres
def test_the_lock_function_takes_the_logs_exclusive_lock_for_the_app_role(append_lock):
    # Appends stay serialised: the app role's lock_log holds the same lock LOCK TABLE would.
    with acting_as(append_lock):
        event_store.lock_log()
        held = _execute(
            "SELECT mode, granted FROM pg_locks"
            " WHERE pid = pg_backend_pid() AND relation = 'records_event'::regclass"
        )
    assert ("ExclusiveLock", True) in held


@pytest.mark.postgres
def test_commands_append_and_project_as_the_app_role(append_lock, archivist, reviewer):
    with acting_as(append_lock):
        editor = make_user("editor", "Archivist")  # accounts are the app's to write, too
        source = factories.source(editor, title="Diary of a missionary")
        commands.submit_for_review(record_type="source", record_id=source.pk, actor=editor)
        commands.approve_revision(
            record_type="source", record_id=source.pk, revision=1, actor=reviewer
        )
        subject = factories.subject(archivist)
        prop = factories.quantity_property(archivist)
        factories.deaths_claim(archivist, subject_record=subject, prop=prop, src=source)

        events = list(StoredEvent.objects.order_by("position"))
        assert [event.event_type for event in events[:3]] == [
            "SourceRegistered",
            "SubmittedForReview",
            "RevisionApproved",
        ]
        assert PublishedSource.objects.get(pk=source.pk).title == "Diary of a missionary"
        assert Source.history.filter(id=source.pk).count() == 3
        assert verify_chain(event_store.iter_log()).ok
        # verify_archive's replay: temporary copies, the read models emptied and rebuilt.
        replay = check_replay()
        assert replay.ok, replay.differences
        assert replay.events == len(events)


@pytest.mark.postgres
def test_a_command_appends_as_the_app_role_through_the_event_stores_own_lock(
    app_role, granted, archivist
):
    with acting_as(app_role):
        factories.source(archivist)
    assert StoredEvent.objects.count() == 1


@pytest.mark.postgres
def test_the_seeds_and_a_bulk_import_load_as_the_app_role(append_lock, archivist, reviewer):
    # The bulk paths append with COPY under the same lock: INSERT and the function suffice.
    example = Path(__file__).resolve().parent.parent / "docs" / "import-example.jsonl"
    with acting_as(append_lock):
        call_command(
            "load_seeds", archivist=archivist.username, reviewer=reviewer.username,
            stdout=StringIO(),
        )  # fmt: skip
        seeded = StoredEvent.objects.count()
        call_command(
            "import_claims", str(example), actor=archivist.username, no_progress=True,
            stdout=StringIO(),
        )  # fmt: skip
    assert seeded > 100 and StoredEvent.objects.count() > seeded


@pytest.mark.postgres
def test_the_documented_procedure_with_real_logins(postgres_only):
    """roles.sql as a superuser, migrate and grant as the owner, the app's work as the app role,
    each a login of its own, as docs/database-roles.md tells an operator to do."""
    server = connection.settings_dict
    suffix = uuid.uuid4().hex[:10]
    owner, app, database = f"strata_owner_{suffix}", f"strata_app_{suffix}", f"strata_{suffix}"
    host = ["-h", server["HOST"] or "127.0.0.1", "-p", str(server["PORT"] or 5432)]
    superuser = server["USER"] or "postgres"
    root = Path(__file__).resolve().parent.parent

    def psql(user: str, db: str, *arguments: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["psql", *host, "-U", user, "-d", db, "-v", "ON_ERROR_STOP=1", *arguments],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    def manage(user: str, *arguments: str) -> str:
        env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{user}@{host[1]}:{host[3]}/{database}",
            "SECRET_KEY": "roles-test",
            "HTTPS_ONLY": "0",
        }
        env.pop("TEST_DATABASE_NAME", None)
        done = subprocess.run(
            [sys.executable, "manage.py", *arguments], cwd=root, env=env,
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    if not shutil.which("psql"):
        pytest.skip("psql is not installed")
    try:
        made = psql(
            superuser, "postgres", "-v", f"owner={owner}", "-v", f"app={app}",
            "-v", f"dbname={database}", "-f", str(root / "deploy" / "postgres" / "roles.sql"),
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        manage(owner, "migrate", "--no-input", "-v0")
        assert "Checked:" in manage(owner, "grant_app_privileges", "--role", app)
        manage(app, "create_demo_accounts")
        assert "127 new events" in manage(app, "load_seeds")
        assert "Hash chain intact" in manage(app, "verify_archive", "--no-progress")
        # The append lock, the log's second connection and its read lock, as the app role.
        rebuilt = manage(app, "rebuild_projections", "--no-progress")
        assert "Rebuilt the read models from 127 events" in rebuilt
        for statement in (
            "DELETE FROM records_event",
            "UPDATE records_event SET data = '{}'",
            "TRUNCATE records_event",
            "ALTER TABLE records_event DISABLE TRIGGER USER",
        ):
            refused = psql(app, database, "-c", statement)
            assert refused.returncode != 0, statement
            assert "permission denied" in refused.stderr or "must be owner" in refused.stderr
    finally:
        psql(superuser, "postgres", "-c", f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        psql(superuser, "postgres", "-c", f'DROP ROLE IF EXISTS "{app}"', "-c",
             f'DROP ROLE IF EXISTS "{owner}"')  # fmt: skip
