"""Public pages are served again from the page cache until the log moves, and only to requests
that would get the very same page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from records import commands
from tests import factories
from tests.test_api import seeded  # noqa: F401  (the fixture)


@pytest.fixture
def api():
    return APIClient()


def _get(api, url, **extra):
    with CaptureQueriesContext(connection) as queries:
        response = api.get(url, **extra)
    assert response.status_code == 200
    return response, len(queries)


@pytest.mark.parametrize(
    "url", ["/api/v1/facts/", "/api/v1/claims/?format=csv", "/api/v1/changes/?limit=5"]
)
def test_a_page_asked_again_is_served_as_it_was_with_one_query(api, seeded, url):  # noqa: F811
    first, computed = _get(api, url)
    again, served = _get(api, url)
    assert served == 1  # the log's head, nothing else
    assert computed > 1
    assert again.content == first.content
    assert again["Content-Type"] == first["Content-Type"]
    assert again["Cache-Control"] == first["Cache-Control"]


def test_an_append_makes_the_page_anew(api, seeded, archivist, reviewer):  # noqa: F811
    url = "/api/v1/subjects/?limit=100"
    before, _ = _get(api, url)
    subject = factories.publish(
        factories.subject(archivist, name="Quzhou"), "subject", author=archivist, reviewer=reviewer
    )
    after, _ = _get(api, url)
    assert str(subject.pk) in after.content.decode()
    assert str(subject.pk) not in before.content.decode()


def test_a_draft_is_an_append_too_and_changes_nothing_public(api, seeded, archivist):  # noqa: F811
    url = "/api/v1/facts/"
    before, _ = _get(api, url)
    commands.register_subject(
        actor=archivist, kind="person", names=[{"name": "Nobody yet", "language": "en"}]
    )
    after, computed = _get(api, url)
    assert computed > 1  # the log moved: computed again
    assert after.content == before.content  # and the gate shows the same


def test_other_hosts_and_formats_get_pages_of_their_own(api, seeded):  # noqa: F811
    json_page, _ = _get(api, "/api/v1/facts/?limit=1")
    other_host, computed = _get(api, "/api/v1/facts/?limit=1", HTTP_HOST="127.0.0.1")
    assert computed > 1
    assert "http://127.0.0.1/" in other_host.content.decode()
    assert "http://127.0.0.1/" not in json_page.content.decode()
    csv_page, computed = _get(api, "/api/v1/facts/?limit=1&format=csv")
    assert computed > 1
    assert csv_page["Content-Type"].startswith("text/csv")


def test_no_page_cache_when_it_is_turned_off(api, seeded, settings):  # noqa: F811
    settings.API_PAGE_CACHE_ENTRIES = 0
    _get(api, "/api/v1/facts/")
    _, computed = _get(api, "/api/v1/facts/")
    assert computed > 1


def test_a_refused_request_is_never_served_from_the_cache(api, seeded):  # noqa: F811
    _get(api, "/api/v1/facts/")
    assert api.get("/api/v1/facts/", {"bogus": "1"}).status_code == 400
