import argparse
import sys
from functools import partial
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from records.bulk_import import ImportRefused, import_records
from records.progress import event_progress
from records.workflow import WorkflowError


class Command(BaseCommand):
    help = (
        "Import sources, subjects and claims from a JSON Lines file (docs/import.md) as drafts "
        "registered by --actor, in one transaction: any problem refuses the whole file. Lines "
        "imported before are acknowledged and skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the JSON Lines file, or - for standard input")
        parser.add_argument("--actor", required=True, help="the archivist's username")
        parser.add_argument(
            "--reason",
            default=None,
            help='reason recorded with each event without its own (default: "Imported from '
            '<file name>")',
        )
        parser.add_argument(
            "--check", action="store_true", help="check the file only; store nothing"
        )
        parser.add_argument(
            "--submit",
            action="store_true",
            help="also submit each imported record for review, as --actor",
        )
        parser.add_argument(
            "--max-errors",
            type=_at_least_one,
            default=50,
            help="problems to list, 1 or more (default: 50)",
        )
        parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")

    def handle(self, *args, file, actor, reason, check, submit, max_errors, no_progress, **options):
        account = get_user_model().objects.filter(username=actor).first()
        if account is None:
            raise CommandError(f"No account {actor!r}: the import needs an archivist's account.")
        raw_lines = self._read(file)
        if reason is None:
            reason = f"Imported from {'standard input' if file == '-' else Path(file).name}"
        progress = partial(event_progress, enabled=not no_progress)
        try:
            report = import_records(
                raw_lines,
                actor=account,
                reason=reason,
                check_only=check,
                submit=submit,
                progress=progress,
            )
        except ImportRefused as refused:
            raise CommandError(self._refusal(file, refused, max_errors)) from refused
        except ValidationError as error:
            reasons = "; ".join(
                f"{name}: {message}"
                for name, messages in error.message_dict.items()
                for message in messages
            )
            raise CommandError(f"Nothing was imported: {reasons}") from error
        except WorkflowError as error:
            raise CommandError(f"Nothing was imported: {error.message}") from error
        self._summarise(report, check, submit)

    def _read(self, file: str) -> list[bytes]:
        if file == "-":
            return sys.stdin.buffer.read().splitlines()
        try:
            return Path(file).read_bytes().splitlines()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from error

    @staticmethod
    def _refusal(file: str, refused: ImportRefused, limit: int) -> str:
        problems = refused.problems
        shown = "\n".join(f"  {problem}" for problem in problems[:limit])
        more = len(problems) - limit
        tail = f"\n  … and {more} more problem{'s' if more != 1 else ''}" if more > 0 else ""
        return f"Nothing was imported: {refused} in {file}:\n{shown}{tail}"

    def _summarise(self, report, check: bool, submit: bool) -> None:
        new = report.new
        counts = f"{new['source']} source(s), {new['subject']} subject(s), {new['claim']} claim(s)"
        skipped = f"{report.already_imported} line(s) imported before, skipped"
        if check:
            self.stdout.write(f"The file is fine. It would register {counts}; {skipped}.")
            return
        if not report.events:
            self.stdout.write(f"Nothing new to import: {skipped}.")
            return
        events = len(report.events)
        seconds = sum(report.timings.values())
        self.stdout.write(
            f"Registered {'and submitted for review' if submit else 'as drafts'}: {counts}; "
            f"{skipped}. {events} events in {seconds:.2f} s "
            f"({events / seconds:,.0f} events/s)."
        )
        steps = ", ".join(f"{step} {spent:.2f} s" for step, spent in report.timings.items())
        self.stdout.write(f"Time per step: {steps}.")


def _at_least_one(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, not {text!r}")
    return number
