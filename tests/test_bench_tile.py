"""The benchmark's tiled archive is a valid archive: the chain holds, a replay projects every
copy, and each copy's records have ids of their own."""

import pytest

from bench.tile import tile
from records.event_store import iter_log
from records.hashing import verify_chain
from records.models import Claim, PublishedClaim, StoredEvent
from records.replay import check_replay, rebuild
from records.seeding import load_seeds


@pytest.mark.django_db
def test_a_tiled_archive_verifies_and_replays(archivist, reviewer):
    load_seeds(archivist=archivist, reviewer=reviewer)
    base_events, base_claims = StoredEvent.objects.count(), Claim.objects.count()
    published = PublishedClaim.objects.count()
    target = 2 * base_events + base_events // 2  # two copies and part of a third

    appended = tile(target)

    assert appended == target - base_events
    assert StoredEvent.objects.count() == target
    chain = verify_chain(iter_log())
    assert chain.ok and chain.checked == target
    assert rebuild() == target
    # The seeds' claims are registered late in their log, so the partial copy may hold none.
    assert Claim.objects.count() >= 2 * base_claims
    assert PublishedClaim.objects.count() >= 2 * published
    assert len(set(Claim.objects.values_list("id", flat=True))) == Claim.objects.count()
    assert check_replay().ok


@pytest.mark.django_db
def test_tiling_an_empty_log_is_refused():
    with pytest.raises(ValueError, match="base archive"):
        tile(100)
