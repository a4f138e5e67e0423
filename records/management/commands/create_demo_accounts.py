import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

# The demo setup's accounts: (username, is_staff, is_superuser). Only `make run` creates them.
DEMO_ACCOUNTS = [
    ("archivist", True, False),
    ("reviewer", True, False),
    ("admin", True, True),
]


class Command(BaseCommand):
    help = "Create (or reset) the demo accounts archivist, reviewer and admin; print passwords."

    def handle(self, *args, **options):
        users = get_user_model()
        for username, is_staff, is_superuser in DEMO_ACCOUNTS:
            user, _ = users.objects.get_or_create(username=username)
            password = secrets.token_urlsafe(12)
            user.is_staff, user.is_superuser, user.is_active = is_staff, is_superuser, True
            user.set_password(password)
            user.save()
            self.stdout.write(f"  {username:<10} password: {password}")
