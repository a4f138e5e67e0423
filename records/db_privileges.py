"""Least privilege on PostgreSQL: what the application's database role may do (DESIGN
invariant 2). docs/database-roles.md describes the two roles and when to run what.

The owner role owns the database, its schema and every table: it runs ``migrate`` and then
``manage.py grant_app_privileges --role <app role>`` (this module), after every migrate. The
app role, which the running app connects as, gets exactly:

- on the event log, SELECT and INSERT: never UPDATE, DELETE, TRUNCATE, REFERENCES or TRIGGER,
  so that nothing the app runs, by mistake or by injection, can change or remove an event, even
  before the append-only triggers are reached, and nothing can add a trigger of its own;
- on the tables migrate fills and the app only reads (applied migrations, content types,
  permissions), SELECT;
- on every other table of an installed app (read models and their history, accounts, sessions,
  the admin's log), SELECT, INSERT, UPDATE and DELETE: a replay deletes and rewrites the read
  models, and a deployment may run ``rebuild_projections`` as the app role;
- USAGE and SELECT on those tables' sequences (identity columns need none; a ``serial`` column
  of a database first migrated by an older Django does);
- USAGE on the schema, never CREATE; EXECUTE on the append lock function when it exists
  (``APPEND_LOCK_FUNCTION``, below).

No TRUNCATE anywhere. Every table's privileges are revoked from the app role and from PUBLIC
before they are granted, so a run leaves exactly this and a second run changes nothing. Then
``verify`` checks what the role can really do, counting PUBLIC and every role it could
``SET ROLE`` to, and names whatever is missing or too much.

Privileges are granted table by table, after each migrate, instead of through ALTER DEFAULT
PRIVILEGES: a default could not tell the event log from a read model, would grant on a table
before anyone decided what the app may do with it, and would not be checked. A table added by a
migration and not yet granted fails loudly (permission denied), never silently over-privileged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from records.models import StoredEvent

EVENT_TABLE = StoredEvent._meta.db_table

TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
APPEND_ONLY = ("SELECT", "INSERT")
READ_ONLY = ("SELECT",)
READ_WRITE = ("SELECT", "INSERT", "UPDATE", "DELETE")
SEQUENCE_PRIVILEGES = ("USAGE", "SELECT")
# Privileges that PostgreSQL also gives per column: has_any_column_privilege sees both kinds.
_COLUMN_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "REFERENCES")

# Takes the event store's append lock (LOCK TABLE records_event IN EXCLUSIVE MODE) with the
# owner's rights. PostgreSQL lets only a role with UPDATE, DELETE or TRUNCATE on a table (or,
# from 17, MAINTAIN) lock it in EXCLUSIVE mode, and the app role has none of them: it takes the
# lock through this function (SECURITY DEFINER, EXECUTE for the app role only).
APPEND_LOCK_FUNCTION = f"{EVENT_TABLE}_lock"

UNKNOWN_ROLE = (
    "PostgreSQL role {role!r} does not exist: create it first (deploy/postgres/roles.sql)."
)
ROLE_IS_SUPERUSER = (
    "PostgreSQL role {role!r} is a superuser: privileges mean nothing to it. Give the app a role "
    "of its own (deploy/postgres/roles.sql)."
)
ROLE_HAS_ROLE_POWERS = (
    "PostgreSQL role {role!r} has {powers}: with it the app could make itself a member of the "
    "tables' owner (CREATEROLE), or read around the grants, and then change the event log. "
    "ALTER ROLE it NOCREATEROLE NOREPLICATION NOBYPASSRLS (deploy/postgres/roles.sql)."
)
ROLE_CAN_BE_OWNER = (
    "PostgreSQL role {role!r} owns {table}, or is a member of its owner {owner!r}: as the app "
    "role it could change the event log and drop its triggers. Use a separate app role "
    "(deploy/postgres/roles.sql)."
)
NO_TABLES = "Database {database!r} has none of Strata's tables yet: run migrate first."
NOT_OWNER = (
    "Run this as the role that owns the tables (the one that ran migrate): {user!r} does not own "
    "{table} (owner: {owner!r})."
)
NO_APPEND_LOCK = (
    "function {function}() does not exist: run migrate (migration 0006 installs it). The event "
    "store takes its append lock through it, and without it role {role!r} cannot append events "
    "(docs/database-roles.md, 'The append lock')."
)


class PrivilegeError(Exception):
    """The grant cannot be made safely: no such role, or the wrong one."""


@dataclass(frozen=True)
class TableGrant:
    name: str
    qualified: str  # quoted schema.table
    oid: int
    schema: str
    owner: str
    privileges: tuple[str, ...]
    sequences: tuple[str, ...]  # quoted schema.sequence, each owned by a column of the table

    def revoked(self) -> tuple[str, ...]:
        return tuple(p for p in TABLE_PRIVILEGES if p not in self.privileges)


@dataclass
class Plan:
    role: str
    user: str  # who grants: the owner role
    database: str
    tables: list[TableGrant]
    schemas: list[str]
    lock_function: str | None  # regprocedure, when the function exists
    unmanaged: list[str] = field(default_factory=list)  # tables no installed app has

    @property
    def sequences(self) -> list[str]:
        return [sequence for table in self.tables for sequence in table.sequences]


@dataclass
class Verification:
    problems: list[str]  # the role can do more, or less, than the plan says
    warnings: list[str]  # the role could not do everything the app does

    @property
    def ok(self) -> bool:
        return not self.problems


def privileges_for(table: str) -> tuple[str, ...]:
    """What the app role may do with one table of an installed app."""
    if table == EVENT_TABLE:
        return APPEND_ONLY
    if table in read_only_tables():
        return READ_ONLY
    return READ_WRITE


def read_only_tables() -> dict[str, str]:
    """Tables that migrate writes and the running app only reads, with the reason."""
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType
    from django.db.migrations.recorder import MigrationRecorder

    return {
        MigrationRecorder.Migration._meta.db_table: "migrate records migrations; /readyz reads",
        ContentType._meta.db_table: "migrate creates the content types",
        Permission._meta.db_table: "migrate creates the permissions",
    }


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _django_tables(connection) -> list[str]:
    from django.db.migrations.recorder import MigrationRecorder

    tables = set(connection.introspection.django_table_names(only_existing=True))
    tables.add(MigrationRecorder.Migration._meta.db_table)
    return sorted(tables)


_TABLES_SQL = """
SELECT t.name, c.oid, n.nspname, quote_ident(n.nspname) || '.' || quote_ident(c.relname),
       pg_get_userbyid(c.relowner),
       ARRAY(
           SELECT quote_ident(sn.nspname) || '.' || quote_ident(s.relname)
             FROM pg_depend d
             JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
             JOIN pg_namespace sn ON sn.oid = s.relnamespace
            WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
              AND d.refobjid = c.oid AND d.deptype IN ('a', 'i')
            ORDER BY s.relname
       )::text[]
  FROM unnest(%s::text[]) AS t(name)
  JOIN pg_class c ON c.oid = to_regclass(quote_ident(t.name))
  JOIN pg_namespace n ON n.oid = c.relnamespace
 ORDER BY t.name
"""


def plan(connection, role: str) -> Plan:
    """What the app role should have on this database. Raises PrivilegeError if ``role`` does
    not exist."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            raise PrivilegeError(UNKNOWN_ROLE.format(role=role))
        cursor.execute("SELECT current_user, current_database()")
        user, database = cursor.fetchone()
        cursor.execute(_TABLES_SQL, [_django_tables(connection)])
        tables = [
            TableGrant(
                name=name,
                qualified=qualified,
                oid=oid,
                schema=schema,
                owner=owner,
                privileges=privileges_for(name),
                # A table the app only reads gets no sequence: it inserts nothing.
                sequences=tuple(sequences) if "INSERT" in privileges_for(name) else (),
            )
            for name, oid, schema, qualified, owner, sequences in cursor.fetchall()
        ]
        schemas = sorted({table.schema for table in tables})
        cursor.execute(
            "SELECT to_regprocedure(quote_ident(n.nspname) || '.' || quote_ident(p.proname) "
            "       || '()')::text"
            "  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
            " WHERE p.proname = %s AND n.nspname = ANY(%s) AND p.pronargs = 0",
            [APPEND_LOCK_FUNCTION, schemas],
        )
        found = cursor.fetchone()
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
            "   AND NOT c.oid = ANY(%s::oid[]) ORDER BY c.relname",
            [schemas, [table.oid for table in tables]],
        )
        unmanaged = [name for (name,) in cursor.fetchall()]
    return Plan(
        role=role,
        user=user,
        database=database,
        tables=tables,
        schemas=schemas,
        lock_function=found[0] if found else None,
        unmanaged=unmanaged,
    )


def check_roles(connection, plan: Plan) -> None:
    """Refuse a grant that would mean nothing: no tables yet, an app role that is a superuser or
    could act as the tables' owner, or a granting user who does not own them."""
    if not plan.tables:
        raise PrivilegeError(NO_TABLES.format(database=plan.database))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, rolcreaterole, rolreplication, rolbypassrls"
            "  FROM pg_roles WHERE rolname = %s",
            [plan.role],
        )
        superuser, *powers = cursor.fetchone()
        if superuser:
            raise PrivilegeError(ROLE_IS_SUPERUSER.format(role=plan.role))
        held = [
            name
            for name, has in zip(("CREATEROLE", "REPLICATION", "BYPASSRLS"), powers, strict=True)
            if has
        ]
        if held:
            raise PrivilegeError(
                ROLE_HAS_ROLE_POWERS.format(role=plan.role, powers=" and ".join(held))
            )
        for table in plan.tables:
            cursor.execute(
                "SELECT pg_has_role(%s, c.relowner, 'MEMBER'),"
                "       pg_has_role(current_user, c.relowner, 'USAGE')"
                "  FROM pg_class c WHERE c.oid = %s",
                [plan.role, table.oid],
            )
            role_can_own, user_owns = cursor.fetchone()
            if role_can_own:
                raise PrivilegeError(
                    ROLE_CAN_BE_OWNER.format(role=plan.role, table=table.name, owner=table.owner)
                )
            if not user_owns:
                raise PrivilegeError(
                    NOT_OWNER.format(user=plan.user, table=table.name, owner=table.owner)
                )


def statements(plan: Plan) -> list[str]:
    """The SQL that gives the app role exactly the plan's privileges, whatever it had."""
    role = _quote(plan.role)
    sql = []
    for schema in plan.schemas:
        sql.append(f"REVOKE CREATE ON SCHEMA {_quote(schema)} FROM {role}")
        sql.append(f"GRANT USAGE ON SCHEMA {_quote(schema)} TO {role}")
    for table in plan.tables:
        # Revoking table privileges also revokes the same privileges given per column.
        sql.append(f"REVOKE ALL PRIVILEGES ON TABLE {table.qualified} FROM PUBLIC, {role}")
        sql.append(f"GRANT {', '.join(table.privileges)} ON TABLE {table.qualified} TO {role}")
        for sequence in table.sequences:
            sql.append(f"REVOKE ALL PRIVILEGES ON SEQUENCE {sequence} FROM PUBLIC, {role}")
            sql.append(f"GRANT {', '.join(SEQUENCE_PRIVILEGES)} ON SEQUENCE {sequence} TO {role}")
    if plan.lock_function:
        sql.append(f"REVOKE ALL PRIVILEGES ON FUNCTION {plan.lock_function} FROM PUBLIC")
        sql.append(f"GRANT EXECUTE ON FUNCTION {plan.lock_function} TO {role}")
    return sql


def _schemas_public_may_create_in(connection, plan: Plan) -> list[str]:
    """The plan's schemas that PUBLIC may create objects in and the granting user owns."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s)"
            "   AND pg_has_role(current_user, nspowner, 'USAGE')"
            "   AND EXISTS (SELECT FROM aclexplode(nspacl) a"
            "                WHERE a.grantee = 0 AND a.privilege_type = 'CREATE')"
            " ORDER BY nspname",
            [plan.schemas],
        )
        return [name for (name,) in cursor.fetchall()]


def grant(connection, role: str) -> tuple[Plan, list[str]]:
    """Give ``role`` exactly the plan's privileges, in one transaction. Returns the plan and the
    statements run. Idempotent."""
    with transaction.atomic(using=connection.alias):
        the_plan = plan(connection, role)
        check_roles(connection, the_plan)
        sql = [
            # PostgreSQL 14 and earlier let PUBLIC create in schema public; roles.sql revokes
            # that, and so does this when the owner owns the schema.
            f"REVOKE CREATE ON SCHEMA {_quote(schema)} FROM PUBLIC"
            for schema in _schemas_public_may_create_in(connection, the_plan)
        ] + statements(the_plan)
        with connection.cursor() as cursor:
            for statement in sql:
                cursor.execute(statement)
    return the_plan, sql


_HELD_SQL = """
SELECT t.oid, p.privilege
  FROM unnest(%s::oid[]) AS t(oid)
 CROSS JOIN unnest(%s::text[]) AS p(privilege)
 WHERE CASE WHEN p.privilege = ANY(%s::text[])
            THEN has_any_column_privilege(%s::name, t.oid, p.privilege)
            ELSE has_table_privilege(%s::name, t.oid, p.privilege) END
"""


def _held(cursor, role: str, plan: Plan) -> dict[int, set[str]]:
    """The table privileges ``role`` holds, its own and PUBLIC's, by table oid."""
    cursor.execute(
        _HELD_SQL,
        [
            [table.oid for table in plan.tables],
            list(TABLE_PRIVILEGES),
            list(_COLUMN_PRIVILEGES),
            role,
            role,
        ],
    )
    held: dict[int, set[str]] = {table.oid: set() for table in plan.tables}
    for oid, privilege in cursor.fetchall():
        held[oid].add(privilege)
    return held


def _order(privileges) -> str:
    return ", ".join(p for p in (*TABLE_PRIVILEGES, "USAGE", "CREATE") if p in privileges)


def verify(connection, plan: Plan) -> Verification:
    """Compare what the app role can do with the plan: through its own grants, PUBLIC's, and
    those of every role it could SET ROLE to (NOINHERIT keeps those off until it does)."""
    problems: list[str] = []
    warnings: list[str] = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolname FROM pg_roles WHERE pg_has_role(%s, oid, 'MEMBER')"
            " ORDER BY rolname <> %s, rolname",
            [plan.role, plan.role],
        )
        roles = [name for (name,) in cursor.fetchall()]
        for role in roles:
            held = _held(cursor, role, plan)
            through = "" if role == plan.role else f" through role {role!r} (SET ROLE)"
            for table in plan.tables:
                extra = held[table.oid] - set(table.privileges)
                if extra:
                    problems.append(f"{plan.role} has {_order(extra)} on {table.name}{through}")
                missing = set(table.privileges) - held[table.oid]
                if role == plan.role and missing:
                    problems.append(f"{plan.role} lacks {_order(missing)} on {table.name}")
            for schema in plan.schemas:
                cursor.execute(
                    "SELECT has_schema_privilege(%s::name, %s, 'USAGE'),"
                    "       has_schema_privilege(%s::name, %s, 'CREATE')",
                    [role, schema, role, schema],
                )
                usage, create = cursor.fetchone()
                if create:
                    problems.append(f"{plan.role} may CREATE in schema {schema}{through}")
                if role == plan.role and not usage:
                    problems.append(f"{plan.role} lacks USAGE on schema {schema}")
            for sequence in plan.sequences:
                cursor.execute(
                    "SELECT has_sequence_privilege(%s::name, %s, 'USAGE'),"
                    "       has_sequence_privilege(%s::name, %s, 'SELECT'),"
                    "       has_sequence_privilege(%s::name, %s, 'UPDATE')",
                    [role, sequence] * 3,
                )
                usage, select, update = cursor.fetchone()
                if update:
                    problems.append(f"{plan.role} has UPDATE on sequence {sequence}{through}")
                if role == plan.role and not (usage and select):
                    problems.append(f"{plan.role} lacks USAGE, SELECT on sequence {sequence}")
        if plan.lock_function:
            cursor.execute(
                "SELECT has_function_privilege(%s::name, %s::regprocedure, 'EXECUTE')",
                [plan.role, plan.lock_function],
            )
            if not cursor.fetchone()[0]:
                problems.append(f"{plan.role} lacks EXECUTE on function {plan.lock_function}")
        else:
            warnings.append(NO_APPEND_LOCK.format(function=APPEND_LOCK_FUNCTION, role=plan.role))
        cursor.execute(
            "SELECT has_database_privilege(%s::name, current_database(), 'CONNECT'),"
            "       has_database_privilege(%s::name, current_database(), 'TEMPORARY')",
            [plan.role, plan.role],
        )
        connect, temporary = cursor.fetchone()
        if not connect:
            warnings.append(f"{plan.role} may not CONNECT to database {plan.database}")
        if not temporary:
            warnings.append(
                f"{plan.role} may not create TEMPORARY tables in database {plan.database}: "
                "verify_archive needs them"
            )
    return Verification(problems=problems, warnings=warnings)


def install_append_lock(connection) -> None:
    """Create ``APPEND_LOCK_FUNCTION``: LOCK TABLE on the event log in EXCLUSIVE mode, with the
    rights of the function's owner (the role running migrate), callable by no one until
    grant_app_privileges gives the app role EXECUTE. PostgreSQL only; for a migration."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT quote_ident(n.nspname), quote_ident(n.nspname) || '.' || quote_ident(c.relname)"
            "  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.oid = to_regclass(%s)",
            [EVENT_TABLE],
        )
        schema, table = cursor.fetchone()
        # A fixed search_path: a SECURITY DEFINER function must not resolve names through the
        # caller's. The lock lasts until the caller's transaction ends, as LOCK TABLE's does.
        cursor.execute(
            f"CREATE OR REPLACE FUNCTION {schema}.{APPEND_LOCK_FUNCTION}() RETURNS void"
            " LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp"
            f" AS $$ BEGIN LOCK TABLE {table} IN EXCLUSIVE MODE; END $$"
        )
        cursor.execute(f"REVOKE ALL ON FUNCTION {schema}.{APPEND_LOCK_FUNCTION}() FROM PUBLIC")


def uninstall_append_lock(connection) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP FUNCTION IF EXISTS {APPEND_LOCK_FUNCTION}()")
