from django.core.management.base import BaseCommand, CommandError

from records.batch_projection import ProjectionFailed
from records.chain_check import ChainCheckFailed, check_log_chain
from records.progress import event_progress
from records.replay import check_replay, event_count


class Command(BaseCommand):
    help = (
        "Check the event log's hash chain and that replaying it gives exactly the live read "
        "models. Exits non-zero naming the first position that fails."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    def handle(self, *args, no_progress, **options):
        total = event_count()
        try:
            with event_progress("Checking the chain", total, enabled=not no_progress) as tick:
                chain = check_log_chain(on_row=tick)
        except ChainCheckFailed as failed:
            raise CommandError(f"The hash chain could not be checked: {failed}") from failed
        if not chain.ok:
            raise CommandError(
                f"Hash chain broken at position {chain.first_bad_position}: {chain.problem} "
                f"({chain.checked} events before it are intact)."
            )
        self.stdout.write(f"Hash chain intact over {chain.checked} events.")
        try:
            with event_progress("Replaying", total, enabled=not no_progress) as tick:
                replay = check_replay(on_event=tick)
        except ProjectionFailed as failed:
            raise CommandError(f"A replay of the log fails: {failed}") from failed
        if not replay.ok:
            raise CommandError(
                "A replay of the log does not give the live read models:\n  "
                + "\n  ".join(replay.differences)
            )
        self.stdout.write(f"A replay of {replay.events} events gives exactly the live state.")
