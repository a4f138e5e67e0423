import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from records.workflow import ADMINISTRATOR, ARCHIVIST, REVIEWER

# The demo setup's accounts: (username, role, is_superuser). Only `make run` creates them.
DEMO_ACCOUNTS = [
    ("archivist", ARCHIVIST, False),
    ("reviewer", REVIEWER, False),
    ("admin", ADMINISTRATOR, True),
]


class Command(BaseCommand):
    help = "Create (or reset) the demo accounts archivist, reviewer and admin; print passwords."

    def handle(self, *args, **options):
        users = get_user_model()
        for username, role, is_superuser in DEMO_ACCOUNTS:
            user, _ = users.objects.get_or_create(username=username)
            password = secrets.token_urlsafe(12)
            user.is_staff, user.is_superuser, user.is_active = True, is_superuser, True
            user.set_password(password)
            user.save()
            user.groups.set([Group.objects.get(name=role)])
            self.stdout.write(f"  {username:<10} ({role.lower()}) password: {password}")
