import sys
from functools import partial

from django.core.management.base import BaseCommand, CommandError

from records.event_import import RestoreRefused, check_export, restore
from records.progress import event_progress


class Command(BaseCommand):
    help = (
        "Restore the event log from an export_events file into an empty database (migrated, "
        "no events), then rebuild the read models. The file is checked as it is read (fields, "
        "positions, the hash chain, the trailer); any problem stores nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the export, or - for standard input")
        parser.add_argument(
            "--check",
            action="store_true",
            help="check the file only, without the database; store nothing",
        )
        parser.add_argument(
            "--last-hash",
            default=None,
            help="refuse the file unless its log ends at this hash (the one export_events "
            "printed): a forged file can be rehashed throughout, but not to end here",
        )
        parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")

    def handle(self, *args, file, check, last_hash, no_progress, **options):
        progress = partial(event_progress, enabled=not no_progress)
        run = check_export if check else restore
        try:
            with self._open(file) as lines:
                report = run(lines, progress=progress, expected_last_hash=last_hash)
        except RestoreRefused as refused:
            raise CommandError(f"Nothing was imported: {refused}.") from refused
        header = report.header
        if check:
            self.stdout.write(
                f"The file is a complete export of {report.events} events, every hash intact, "
                f"ending at hash {header.last_hash}."
            )
            return
        self.stdout.write(
            f"Restored {report.events} events (last hash {header.last_hash}, exported "
            f"{header.exported_at}); rebuilt the read models from {report.replayed} events."
        )
        if report.missing_accounts:
            ids = ", ".join(str(pk) for pk in report.missing_accounts)
            self.stderr.write(
                f"Warning: events name account ids that this database lacks ({ids}): the "
                "history rows and review decisions they made have no user. Restore the "
                "accounts first (docs/backup-restore.md), into another empty database."
            )

    @staticmethod
    def _open(file: str):
        if file == "-":
            return _Unclosed(sys.stdin.buffer)
        try:
            return open(file, "rb")  # noqa: SIM115 - closed by the with in handle
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from error


class _Unclosed:
    """Standard input, in a with block that leaves it open."""

    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        return self.stream

    def __exit__(self, *exc):
        return False
