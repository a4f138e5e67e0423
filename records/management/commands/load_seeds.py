from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from records.seeding import load_seeds


class Command(BaseCommand):
    help = "Register the seed document and the claims it supports. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument(
            "--archivist",
            default="archivist",
            help="username of the account that registers the seeds (default: archivist)",
        )

    def handle(self, *args, archivist, **options):
        actor = get_user_model().objects.filter(username=archivist, is_active=True).first()
        if actor is None:
            raise CommandError(
                f"No active account {archivist!r}: create it first "
                "(manage.py create_demo_accounts makes the demo ones)."
            )
        try:
            report = load_seeds(actor=actor)
        except ValidationError as error:
            raise CommandError(f"The seed file is invalid: {error.message_dict}") from error
        self.stdout.write(
            f"Seeds: {report.sources} source, {report.subjects} subjects, "
            f"{report.properties} properties, {report.claims} claims; "
            f"{report.events_appended} new events."
        )
