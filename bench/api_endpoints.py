"""The API requests the benchmark makes: real URLs, chosen from the archive's published data.

Needs Django set up against the benchmark database.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count

from records import selectors

FACT_DETAILS = 20  # distinct facts to cycle through, so no single row stays hot in every cache
FILTERED_PROPERTIES = 10


@dataclass(frozen=True)
class Endpoint:
    name: str
    key: str  # names the baseline that builds the same page (bench.api_baseline.PAGES)
    paths: list[str]
    arguments: list  # per path, what the baseline needs to select the same rows


def _spread(items: list, count: int) -> list:
    """``count`` items evenly spaced through ``items`` (all of them if there are fewer)."""
    if len(items) <= count:
        return items
    return [items[index * len(items) // count] for index in range(count)]


def choose() -> list[Endpoint]:
    fact_ids = list(selectors.published_facts().order_by("id").values_list("id", flat=True))
    if not fact_ids:
        raise RuntimeError("the benchmark database has no published facts")
    facts = _spread(fact_ids, FACT_DETAILS)
    # The properties with the most published claims: full pages, as a reader browsing them gets.
    properties = list(
        selectors.published_claims()
        .values("property_id")
        .annotate(claims=Count("id"))
        .order_by("-claims", "property_id")
        .values_list("property_id", flat=True)[:FILTERED_PROPERTIES]
    )
    return [
        Endpoint("fact list", "fact_list", ["/api/v1/facts/"], [None]),
        Endpoint("fact detail", "fact_detail", [f"/api/v1/facts/{id}/" for id in facts], facts),
        Endpoint(
            "claim list, filtered by property",
            "claim_list",
            [f"/api/v1/claims/?property={id}" for id in properties],
            properties,
        ),
        Endpoint("change feed, first page", "change_feed", ["/api/v1/changes/?after=0"], [None]),
    ]
