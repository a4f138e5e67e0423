"""Related records for one page of results, fetched together and as of the same moment.

A serializer never follows a foreign key on its own: that would cost a query per row and could
show a related record as it is now rather than as it was at ``as_of``. Views gather what a page
needs here, in a fixed number of queries, and hand it to serializers in their context.
"""

from collections import defaultdict

from records import selectors
from records.models import PublishedClaim


def _by_id(queryset, ids, *fields) -> dict:
    """The records with those ids, each as a row of ``fields`` (id first), by id. Only what a
    serializer shows of a related record: a source's full text and a subject's names would
    cost the page most of its time to read and decode (a source's other columns too). Rows of
    values, not ``.only()``: a historical "as of" queryset builds each record from all its
    fields, and would fetch every deferred one with a query of its own."""
    rows = queryset.filter(id__in=set(ids)).values_list("id", *fields, named=True)
    return {row.id: row for row in rows}


# What the serializers show of each related record (records.api.serializers), and what a fact's
# summary reads of its property (records.selectors.summarise).
SUBJECT_FIELDS = ("label", "kind")
SOURCE_FIELDS = ("title",)
PROPERTY_FIELDS = ("key", "label", "value_type", "unit", "multivalued")


def for_claims(claims, when, *, subject_ids=(), property_ids=()) -> dict:
    """The subjects, sources and properties the claims name, one query each; ``subject_ids``
    and ``property_ids`` add others the page names (a fact's own), in the same queries."""
    subject_ids = (
        {c.subject_id for c in claims}
        | {c.subject_value_id for c in claims if c.subject_value_id}
        | set(subject_ids)
    )
    property_ids = {c.property_id for c in claims} | set(property_ids)
    return {
        "subjects": _by_id(selectors.published_subjects(as_of=when), subject_ids, *SUBJECT_FIELDS),
        "sources": _by_id(
            selectors.published_sources(as_of=when), {c.source_id for c in claims}, *SOURCE_FIELDS
        ),
        "properties": _by_id(
            selectors.published_properties(as_of=when), property_ids, *PROPERTY_FIELDS
        ),
    }


def claims_grouped(claims, key: str) -> dict:
    grouped = defaultdict(list)
    for claim in claims:
        grouped[getattr(claim, key)].append(claim)
    return grouped


def _columns(model) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


def for_facts(facts, when) -> dict:
    # Every column of each claim, as rows of values: a fact page shows 150 claims or so, and
    # building a model instance for each cost as much as reading them.
    claims = list(
        selectors.published_claims(as_of=when)
        .filter(fact_id__in={fact.id for fact in facts})
        .order_by("published_at", "id")
        .values_list(*_columns(PublishedClaim), named=True)
    )
    context = for_claims(
        claims,
        when,
        subject_ids={fact.subject_id for fact in facts},
        property_ids={fact.property_id for fact in facts},
    )
    context["claims_by_fact"] = claims_grouped(claims, "fact_id")
    return context


def for_sources(sources, when) -> dict:
    claims = (
        selectors.published_claims(as_of=when)
        .filter(source_id__in={source.id for source in sources})
        .order_by("published_at", "id")
        .values_list("id", "source_id", "original_wording", "status", named=True)
    )
    return {"claims_by_source": claims_grouped(claims, "source_id")}
