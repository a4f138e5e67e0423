from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from records import db_privileges

NOT_POSTGRES = (
    "Database roles do not apply on {vendor}: the append-only triggers guard the event log "
    "there, and there is nothing to grant."
)


class Command(BaseCommand):
    help = (
        "Give the application's PostgreSQL role exactly what the app needs: SELECT and INSERT "
        "on the event log and nothing else on it, read and write on the read models, no "
        "TRUNCATE anywhere. Run it as the owner role after every migrate; it is idempotent. "
        "See docs/database-roles.md."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--role", required=True, help="the app role, e.g. strata_app (it must exist)"
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="grant nothing: check that the role has exactly the privileges it should",
        )
        parser.add_argument(
            "--database",
            default=DEFAULT_DB_ALIAS,
            help='the database alias to work on (default: "default")',
        )

    def handle(self, *args, role, check, database, **options):
        connection = connections[database]
        if connection.vendor != "postgresql":
            self.stdout.write(NOT_POSTGRES.format(vendor=connection.display_name))
            return
        try:
            if check:
                plan, statements = db_privileges.plan(connection, role), []
                db_privileges.check_roles(connection, plan)
            else:
                plan, statements = db_privileges.grant(connection, role)
        except db_privileges.PrivilegeError as error:
            raise CommandError(str(error)) from error
        if options["verbosity"] >= 2:
            for statement in statements:
                self.stdout.write(f"  {statement};")
        if not check:
            self._describe(plan)
        verification = db_privileges.verify(connection, plan)
        for warning in verification.warnings:
            self.stderr.write(self.style.WARNING(f"Warning: {warning}"))
        if not verification.ok:
            raise CommandError(
                f"Role {role!r} does not have exactly the privileges it should:\n  "
                + "\n  ".join(verification.problems)
            )
        self.stdout.write(
            f"Checked: {role} has exactly these privileges on database {plan.database}, "
            "counting PUBLIC's and every role it could SET ROLE to; no TRUNCATE anywhere."
        )

    def _describe(self, plan) -> None:
        write = self.stdout.write
        write(f"Granted to {plan.role} on database {plan.database} (as {plan.user}):")
        for schema in plan.schemas:
            write(f"  schema {schema}: USAGE (no CREATE)")
        width = max(len(table.name) for table in plan.tables)
        for table in plan.tables:
            line = f"  {table.name:<{width}}  {', '.join(table.privileges)}"
            if table.name == db_privileges.EVENT_TABLE:
                line += f"  (revoked: {', '.join(table.revoked())})"
            write(line)
        sequences = plan.sequences
        write(
            f"  sequences: {', '.join(db_privileges.SEQUENCE_PRIVILEGES)} on {len(sequences)} "
            "(those of the tables the app inserts into)"
        )
        if plan.lock_function:
            write(f"  function {plan.lock_function}: EXECUTE")
        if plan.unmanaged:
            write(f"  left alone, no installed app's table: {', '.join(plan.unmanaged)}")
