import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection

from records import append_only
from records.workflow import ARCHIVIST, REVIEWER


def make_user(username: str, role: str | None = None, **extra):
    """An account with one role (a group made by the roles migration), or none."""
    user = get_user_model().objects.create_user(
        username=username, password=None, is_staff=True, **extra
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def archivist(db):
    return make_user("archivist", ARCHIVIST)


@pytest.fixture
def other_archivist(db):
    return make_user("archivist2", ARCHIVIST)


@pytest.fixture
def reviewer(db):
    return make_user("reviewer", REVIEWER)


@pytest.fixture
def other_reviewer(db):
    return make_user("reviewer2", REVIEWER)


@pytest.fixture
def _append_only_restored(django_db_setup, django_db_blocker):
    """Set up before ``transactional_db``, so torn down after its flush: puts the append-only
    triggers back once the flush has emptied the log."""
    yield
    with django_db_blocker.unblock():
        append_only.install(connection)


@pytest.fixture
def committed_db(_append_only_restored, django_db_serialized_rollback, transactional_db):
    """Real, committed transactions, for tests that use several threads (each thread has its own
    connection and would not see an uncommitted test transaction). What the migrations stored
    (the roles) is restored before the test, since an earlier one's flush removed it.

    Afterwards Django's flush empties the database. Removing events needs the append-only
    triggers lifted: only this clean-up does that, and ``_append_only_restored`` puts them back."""
    yield
    append_only.uninstall(connection)


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://...")


@pytest.fixture(autouse=True)
def _empty_api_page_cache():
    """Each test's pages are its own (records/api/page_cache.py keys them by the log's head,
    so a leftover page could only be served for an identical log; emptied all the same)."""
    from django.core.cache import caches

    caches["api_pages"].clear()
