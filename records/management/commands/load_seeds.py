from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from records.seeding import load_seeds
from records.workflow import WorkflowError


def _account(username: str):
    actor = get_user_model().objects.filter(username=username, is_active=True).first()
    if actor is None:
        raise CommandError(
            f"No active account {username!r}: create it first "
            "(manage.py create_demo_accounts makes the demo ones)."
        )
    return actor


class Command(BaseCommand):
    help = (
        "Register the seed document and the claims it supports, and publish them through "
        "review. Safe to run again: a second run appends nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--archivist",
            default="archivist",
            help="account that registers and submits the seeds (default: archivist)",
        )
        parser.add_argument(
            "--reviewer",
            default="reviewer",
            help="account that approves them; not the archivist (default: reviewer)",
        )

    def handle(self, *args, archivist, reviewer, **options):
        try:
            report = load_seeds(archivist=_account(archivist), reviewer=_account(reviewer))
        except ValidationError as error:
            raise CommandError(f"The seed file is invalid: {error.message_dict}") from error
        except WorkflowError as error:
            raise CommandError(f"The seeds could not be published: {error.message}") from error
        self.stdout.write(
            f"Seeds: {report.sources} source, {report.subjects} subjects, "
            f"{report.properties} properties, {report.claims} claims; "
            f"{report.events_appended} new events."
        )
