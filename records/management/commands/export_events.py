import os
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from records.event_export import ExportFailed, export_log, log_head
from records.progress import event_progress


class Command(BaseCommand):
    help = (
        "Write the whole event log as JSON Lines (docs/backup-restore.md): a header, one line "
        "per event in position order with every stored field, and a trailer. Read in pages: "
        "memory stays flat however long the log."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            "-o",
            default="-",
            help="the file to write (default, or -: standard output); written under a temporary "
            "name and renamed when complete",
        )
        parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    def handle(self, *args, output, no_progress, **options):
        head = log_head()
        with event_progress("Exporting events", head.events, enabled=not no_progress) as tick:
            try:
                if output == "-":
                    summary = export_log(self._stdout_writer(), head=head, on_event=tick)
                    report = self.stderr
                else:
                    summary = self._to_file(Path(output), head, tick)
                    report = self.stdout
            except ExportFailed as error:
                kept = "what was written is incomplete" if output == "-" else "no file written"
                raise CommandError(f"Export failed ({kept}): {error}.") from error
        last = "no events" if head.last_position is None else f"last position {head.last_position}"
        report.write(
            f"Exported {head.events} events ({last}, last hash {head.last_hash}) to "
            f"{'standard output' if output == '-' else output}; sha256 of the lines before "
            f"the trailer {summary.sha256}."
        )

    def _stdout_writer(self):
        out = self.stdout._out
        binary = getattr(out, "buffer", None)
        if binary is not None:
            return binary.write
        return lambda line: out.write(line.decode("utf-8"))

    @staticmethod
    def _to_file(path: Path, head, tick):
        # A partial file never takes the backup's name: written beside it, renamed when whole.
        try:
            handle, partial = tempfile.mkstemp(
                prefix=f".{path.name}.", suffix=".partial", dir=path.parent or "."
            )
        except OSError as error:
            raise CommandError(f"Cannot write {path}: {error.strerror}.") from error
        try:
            with os.fdopen(handle, "wb") as out:
                summary = export_log(out.write, head=head, on_event=tick)
                out.flush()
                os.fsync(out.fileno())
            os.replace(partial, path)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
        return summary
