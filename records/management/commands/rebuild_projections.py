from django.core.management.base import BaseCommand

from records.progress import event_progress
from records.replay import event_count, rebuild


class Command(BaseCommand):
    help = "Replay the whole event log into empty read models, history included."

    def add_arguments(self, parser):
        parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    def handle(self, *args, no_progress, **options):
        with event_progress("Replaying", event_count(), enabled=not no_progress) as tick:
            replayed = rebuild(on_event=tick)
        self.stdout.write(f"Rebuilt the read models from {replayed} events.")
