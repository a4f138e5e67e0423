"""The three roles, as groups with the permissions the commands and the admin check."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

READ_MODELS = [
    "source",
    "publishedsource",
    "subject",
    "publishedsubject",
    "property",
    "fact",
    "claim",
    "publishedclaim",
    "reviewcomment",
    "storedevent",
]
ROLES = {
    "Archivist": ["author_records", "comment_records"],
    "Reviewer": ["review_records", "comment_records"],
    "Administrator": ["author_records", "review_records", "comment_records"],
}
# Administrators also manage accounts.
ACCOUNT_PERMISSIONS = [
    ("auth", codename)
    for codename in ("add_user", "change_user", "view_user", "view_group", "change_group")
]


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations; make them now so that the groups
    # can be given them on a fresh database.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    viewing = [f"view_{model}" for model in READ_MODELS]
    for role, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        permissions = list(
            Permission.objects.filter(
                content_type__app_label="records", codename__in=codenames + viewing
            )
        )
        if role == "Administrator":
            for app_label, codename in ACCOUNT_PERMISSIONS:
                permissions.append(
                    Permission.objects.get(content_type__app_label=app_label, codename=codename)
                )
        group.permissions.set(permissions)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0002_append_only_triggers"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
