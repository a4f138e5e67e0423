from django.core.management.base import BaseCommand, CommandError

from records.batch_projection import ProjectionFailed
from records.progress import event_progress
from records.replay import event_count, rebuild


class Command(BaseCommand):
    help = (
        "Replay the whole event log into empty read models, history included, in one "
        "transaction; appends wait until it ends. Exits non-zero naming the event a replay "
        "cannot project, changing nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    def handle(self, *args, no_progress, **options):
        try:
            with event_progress("Replaying", event_count(), enabled=not no_progress) as tick:
                replayed = rebuild(on_event=tick)
        except ProjectionFailed as failed:
            raise CommandError(
                f"Nothing was rebuilt (the read models are as they were): {failed}"
            ) from failed
        self.stdout.write(f"Rebuilt the read models from {replayed} events.")
