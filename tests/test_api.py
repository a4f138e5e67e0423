"""The public API: read-only, open, polite, and never a leak."""

import csv
import io
import json
from base64 import b64decode, b64encode
from types import SimpleNamespace
from unittest.mock import patch
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.core.exceptions import ObjectDoesNotExist as DjangoObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers as drf_serializers
from rest_framework.test import APIClient

from records import commands, selectors
from records.api import related, serializers
from records.api.errors import exception_handler
from records.api.pagination import BAD_CURSOR
from records.hashing import verify_feed
from records.models import Claim, PublishedClaim, StoredEvent, Subject
from records.seeding import load_seeds, seed_id
from tests import factories
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

LISTS = ["subjects", "properties", "facts", "claims", "sources"]


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def seeded(archivist, reviewer):
    load_seeds(archivist=archivist, reviewer=reviewer)


def get(api, path, **params):
    response = api.get(path, params)
    return response


def body(response) -> str:
    return response.content.decode("utf-8")


def excerpt(response) -> str:
    return body(response)[:300]


def test_every_list_answers_anonymously_with_json_and_a_cursor(api, seeded):
    for name in LISTS:
        response = api.get(f"/api/v1/{name}/")
        assert response.status_code == 200, (name, excerpt(response))
        data = response.json()
        assert set(data) == {"next", "previous", "results"} and data["results"], name


def test_a_fact_shows_its_claims_side_by_side_with_the_summary(api, seeded):
    fact_id = None
    for fact in api.get("/api/v1/facts/", {"limit": 200}).json()["results"]:
        if fact["property"]["key"] == "end-date":
            fact_id = fact["id"]
    fact = api.get(f"/api/v1/facts/{fact_id}/").json()
    assert {c["original_wording"] for c in fact["claims"]} == {
        "early September, 1942",
        "mid-August",
    }
    assert fact["summary"] == {
        "claims": 2,
        "sources": 1,
        "lowest": "1942-08-11",
        "highest": "1942-09-10",
        "preferred_claim": None,
        "disputed": True,
    }


def test_a_claim_carries_its_value_wording_citation_and_attribution(api, seeded):
    claim_id = seed_id("claim", "civilian-deaths-chinese-estimates")
    claim = api.get(f"/api/v1/claims/{claim_id}/").json()
    assert claim["value"]["best"] == "250000" and claim["value"]["approximate"] is True
    assert claim["original_wording"] == "250,000"
    assert claim["attributed_to"] == "Chinese estimates"
    assert (
        claim["citation"]["quote"] == "Chinese estimates put the death toll at 250,000 civilians."
    )
    assert claim["citation"]["locator"] == "paragraph 6"
    assert (claim["rank"], claim["status"], claim["revision"]) == ("normal", "published", 1)


def test_a_source_lists_the_claims_that_cite_it_and_its_text(api, seeded):
    source_id = seed_id("source", "wikipedia-doolittle-zhejiang-jiangxi")
    source = api.get(f"/api/v1/sources/{source_id}/").json()
    assert len(source["claims"]) == 19
    assert source["licence"] == "CC BY-SA 4.0" and "Wikipedia" in source["attribution"]
    assert len(source["full_text"]) == 2265
    listed = api.get("/api/v1/sources/").json()["results"][0]
    assert "full_text" not in listed


# --- filters and search ---


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "浙赣战役"}, 11),  # every claim about the campaign, found by its Chinese name
        ({"q": "zheganzhanyi"}, 11),
        ({"subject_kind": "person"}, 1),
        ({"status": "retracted"}, 0),
        ({"disputed": "true"}, 2),
        ({"date_from": "1942-09-01", "date_to": "1942-12-31"}, 1),
        ({"date_from": "1942-04-01", "date_to": "1942-04-30"}, 1),
    ],
)
def test_claim_filters(api, seeded, params, expected):
    response = api.get("/api/v1/claims/", {**params, "limit": 200})
    assert response.status_code == 200, excerpt(response)
    assert len(response.json()["results"]) == expected


def test_filters_by_subject_property_and_source(api, seeded):
    raid = seed_id("subject", "doolittle-raid")
    captured = seed_id("property", "airmen-captured")
    claims = api.get("/api/v1/claims/", {"subject": raid, "property": captured}).json()["results"]
    assert {c["original_wording"] for c in claims} == {"8 men", "eight"}
    source = seed_id("source", "wikipedia-doolittle-zhejiang-jiangxi")
    assert len(api.get("/api/v1/claims/", {"source": source, "limit": 50}).json()["results"]) == 19
    facts = api.get("/api/v1/facts/", {"subject": raid}).json()["results"]
    assert len(facts) == 5


def test_subjects_are_found_by_any_name_in_any_script(api, seeded):
    for name in ("浙贛作戦", "浙赣戰役", "Jiangxi", "zhegan"):
        results = api.get("/api/v1/subjects/", {"q": name}).json()["results"]
        assert [s["label"] for s in results] == ["Zhejiang-Jiangxi Campaign"], name


def test_ordering_and_cursor_pagination_walk_every_claim_once(api, seeded):
    seen, url = [], "/api/v1/claims/?limit=4&ordering=-published_at"
    while url:
        page = api.get(url).json()
        seen += [c["id"] for c in page["results"]]
        url = page["next"]
    assert len(seen) == len(set(seen)) == 19


def _cursor_tokens(url: str) -> dict:
    cursor = parse_qs(urlsplit(url).query)["cursor"][0]
    return parse_qs(b64decode(cursor).decode("ascii"), keep_blank_values=True)


def test_facts_page_by_id_so_cursors_carry_no_draft_timing(api, seeded):
    """A fact's registered_at is when its first claim was drafted, perhaps long before anything
    was published: neither the order nor a cursor may reveal it."""
    seen, url = [], "/api/v1/facts/?limit=4"
    while url:
        page = api.get(url).json()
        ids = [fact["id"] for fact in page["results"]]
        seen += ids
        url = page["next"]
        if url:
            assert _cursor_tokens(url)["p"] == [ids[-1]]
    published = set(PublishedClaim.objects.values_list("fact_id", flat=True))
    assert seen == sorted(seen) == sorted(str(fact_id) for fact_id in published)


@pytest.mark.parametrize(
    ("path", "field"),
    [("claims", "quantity_best"), ("claims", "date_earliest"), ("facts", "registered_at")],
)
def test_orderings_that_would_drop_or_leak_records_are_refused(api, seeded, path, field):
    """Cursor pagination skips rows whose first ordering field is NULL, and registered_at is
    draft timing: neither is an ordering."""
    for ordering in (field, f"-{field}"):
        response = api.get(f"/api/v1/{path}/", {"ordering": ordering})
        assert response.status_code == 400, excerpt(response)
        [message] = response.json()["ordering"]
        assert message.startswith("Order by one of: ") and field not in message
    schema = api.get("/api/schema/", {"format": "json"}).json()
    parameters = schema["paths"][f"/api/v1/{path}/"]["get"]["parameters"]
    [parameter] = [p for p in parameters if p["name"] == "ordering"]
    assert parameter["schema"]["enum"] and field not in json.dumps(parameter)


@pytest.mark.parametrize("name", LISTS)
def test_the_api_own_cursors_walk_forward_and_back_as_of_a_position(
    api, seeded, archivist, reviewer, name
):
    """The checks on a cursor's position take every cursor the API gives, as of a moment too
    (when the rows are history rows)."""
    second = factories.source(archivist, title="A second source")
    factories.publish(second, "source", author=archivist, reviewer=reviewer)
    as_of = StoredEvent.objects.order_by("-position").first().position
    forward, url = [], f"/api/v1/{name}/?limit=1&as_of={as_of}"
    while url:
        page = api.get(url).json()
        last_page = [record["id"] for record in page["results"]]
        forward += last_page
        url, back = page["next"], page["previous"]
    backward = []
    while back:
        page = api.get(back).json()
        backward = [record["id"] for record in page["results"]] + backward
        back = page["previous"]
    assert len(forward) > 1 and backward + last_page == forward


def _forged(**tokens) -> str:
    return b64encode(urlencode(tokens).encode("ascii")).decode("ascii")


@pytest.mark.parametrize(
    ("path", "cursor"),
    [
        ("claims", _forged(o=0, p="notadate")),
        ("claims", _forged(p="2026-01-01T00:00:00")),  # the API's times carry their offset
        ("claims", _forged(r=1, p="2026-02-30T00:00:00+00:00")),
        ("claims", _forged(p="")),
        ("claims", _forged(p="0001-01-01T00:00:00+01:00")),  # before year 1 in UTC
        ("claims", _forged(p="9999-12-31T23:59:59-01:00")),  # after year 9999 in UTC
        ("facts", _forged(p="not-a-uuid")),
        ("subjects", _forged(p="\x00")),  # PostgreSQL text cannot hold NUL
        ("claims", _forged(o="-1")),
        ("claims", _forged(r="sideways")),
        ("claims", "bm90IGJhc2U2NA"),
    ],
    ids=[
        "not-a-date",
        "naive-time",
        "no-such-day",
        "empty",
        "before-year-1-in-utc",
        "after-year-9999-in-utc",
        "not-a-uuid",
        "nul",
        "negative-offset",
        "bad-reverse",
        "not-base64",
    ],
)
def test_a_forged_cursor_is_a_400_naming_it(api, seeded, path, cursor):
    response = api.get(f"/api/v1/{path}/", {"cursor": cursor})
    assert response.status_code == 400, excerpt(response)
    assert response.json() == {"cursor": [BAD_CURSOR]}


@pytest.mark.parametrize("as_of", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
@pytest.mark.parametrize("path", ["claims", "facts", "subjects", "changes"])
def test_an_as_of_outside_the_calendar_in_utc_is_a_400(api, seeded, path, as_of):
    response = api.get(f"/api/v1/{path}/", {"as_of": as_of})
    assert response.status_code == 400, excerpt(response)
    assert list(response.json()) == ["as_of"]


def test_a_django_validation_error_without_fields_is_a_400():
    """Django raises list-style errors too (a field's to_python): one must not become a 500."""
    response = exception_handler(DjangoValidationError("Not a date."), {})
    assert response.status_code == 400
    assert response.data == {"non_field_errors": ["Not a date."]}


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        ("claims", {"colour": "red"}, "colour"),
        ("claims", {"as_of": "yesterday"}, "as_of"),
        ("claims", {"as_of": "¹"}, "as_of"),
        ("claims", {"limit": "²"}, "limit"),
        ("changes", {"after": "³"}, "after"),
        ("claims", {"limit": "0"}, "limit"),
        ("claims", {"limit": "lots"}, "limit"),
        ("claims", {"cursor": "not-a-cursor"}, "cursor"),
        ("claims", {"ordering": "password"}, "ordering"),
        ("claims", {"format": "xml"}, "format"),
        ("claims", {"subject": "not-a-uuid"}, "subject"),
        ("claims", {"status": "draft"}, "status"),
        ("claims", {"date_from": "early 1942"}, "date_from"),
        ("claims", {"disputed": "perhaps"}, "disputed"),
        ("facts", {"subject_kind": "planet"}, "subject_kind"),
        ("subjects", {"kind": "planet"}, "kind"),
        ("changes", {"after": "-1"}, "after"),
        ("changes", {"limit": "5000"}, "limit"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(api, seeded, path, params, parameter):
    response = api.get(f"/api/v1/{path}/", params)
    assert response.status_code == 400, excerpt(response)
    errors = response.json()
    assert parameter in errors and errors[parameter], errors


# --- read-only, open, polite ----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_writes_are_405_for_everyone(api, seeded, reviewer, method):
    claim = seed_id("claim", "raid-date")
    api.force_authenticate(reviewer)
    for path in ("/api/v1/claims/", f"/api/v1/claims/{claim}/", "/api/v1/changes/"):
        response = getattr(api, method)(path, {"note": "x"}, format="json")
        assert response.status_code == 405, (method, path)
    assert StoredEvent.objects.filter(event_type="ClaimRevised").count() == 0


def test_throttling_answers_429_with_retry_after(api, seeded, monkeypatch):
    from rest_framework.throttling import AnonRateThrottle

    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "3/minute"})
    from django.core.cache import cache

    cache.clear()
    codes = [api.get("/api/v1/properties/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = api.get("/api/v1/properties/")
    assert int(response["Retry-After"]) > 0
    cache.clear()


def test_cors_allows_get_from_anywhere(api, seeded):
    response = api.get("/api/v1/claims/", HTTP_ORIGIN="https://mirror.example.org")
    assert response["Access-Control-Allow-Origin"] == "*"
    preflight = api.options(
        "/api/v1/claims/",
        HTTP_ORIGIN="https://mirror.example.org",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
    )
    assert "GET" in preflight["Access-Control-Allow-Methods"]
    assert "POST" not in preflight["Access-Control-Allow-Methods"]


@pytest.mark.parametrize(
    "path",
    [f"/api/v1/{name}/" for name in LISTS] + ["/api/v1/changes/", "/api/schema/"],
)
def test_etag_cache_control_and_304(api, seeded, path):
    first = api.get(path)
    assert first.status_code == 200 and first["ETag"]
    if path.startswith("/api/v1/"):
        assert "max-age" in first["Cache-Control"] and "public" in first["Cache-Control"]
    again = api.get(path, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""


def test_a_staff_browser_revalidates_every_page_and_no_shared_cache_keeps_it(api, seeded):
    # Staff read their own writes: their browser must not reuse a page for a minute, and a
    # proxy must not hand their copy to anyone.
    api.cookies["sessionid"] = "a staff session"
    control = api.get("/api/v1/facts/")["Cache-Control"]
    assert "private" in control and "no-cache" in control
    assert "public" not in control and "max-age" not in control


# --- formats ---


def test_claims_and_facts_as_csv(api, seeded):
    response = api.get("/api/v1/claims/", {"format": "csv", "limit": 200})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body(response))))
    assert len(rows) == 19
    toll = next(r for r in rows if r["attributed_to"] == "Chinese estimates")
    assert (toll["best"], toll["original_wording"], toll["unit"]) == (
        "250000",
        "250,000",
        "persons",
    )
    facts = list(csv.DictReader(io.StringIO(body(api.get("/api/v1/facts/?format=csv&limit=50")))))
    assert {f["disputed"] for f in facts} == {"True", "False"}


def test_claims_and_sources_as_json_ld_with_prov_o(api, seeded, archivist, reviewer):
    claim_id = seed_id("claim", "civilian-deaths-chinese-estimates")
    claim = commands.revise_claim(
        claim_id=claim_id,
        expected_version=Claim.objects.get(pk=claim_id).version,
        value={"original": "250,000", "best": 250000},
        citation={
            "source_id": seed_id("source", "wikipedia-doolittle-zhejiang-jiangxi"),
            "quote": "Chinese estimates put the death toll at 250,000 civilians.",
        },
        attributed_to="Chinese estimates",
        reason="Not marked approximate in the text.",
        actor=archivist,
    )
    factories.publish(claim, "claim", author=archivist, reviewer=reviewer)
    node = json.loads(body(api.get(f"/api/v1/claims/{claim_id}/", {"format": "jsonld"})))
    assert node["@context"]["prov"] == "http://www.w3.org/ns/prov#"
    assert node["@type"] == "prov:Entity"
    assert node["prov:wasDerivedFrom"]["@id"].endswith(
        f"/api/v1/sources/{seed_id('source', 'wikipedia-doolittle-zhejiang-jiangxi')}/"
    )
    assert node["prov:wasAttributedTo"]["rdfs:label"] == "Chinese estimates"
    assert node["prov:wasRevisionOf"]["@id"].endswith(f"/claims/{claim_id}/history/#revision-1")
    assert "prov:generatedAtTime" in node
    sources = json.loads(body(api.get("/api/v1/sources/", {"format": "jsonld"})))
    assert sources["@graph"][0]["dcterms:license"] == "CC BY-SA 4.0"
    assert len(sources["@graph"][0]["strata:cited_by"]) == 19


# --- history, as of, and the change feed ---


def test_history_lists_published_revisions(api, seeded, archivist, reviewer):
    claim_id = seed_id("claim", "raid-date")
    commands.rank_claim(claim_id=claim_id, rank="preferred", reason="Exact date", actor=reviewer)
    history = api.get(f"/api/v1/claims/{claim_id}/history/").json()["results"]
    assert [(h["revision"], h["record"]["rank"]) for h in history] == [
        (1, "normal"),
        (1, "preferred"),
    ]
    assert history[1]["change"] == "ClaimRanked: Exact date"


def test_as_of_on_every_read_endpoint(api, archivist, reviewer):
    load_seeds(archivist=archivist, reviewer=reviewer)
    first_claim_approval = (
        StoredEvent.objects.filter(event_type="RevisionApproved", stream_type="claim")
        .order_by("position")
        .first()
        .position
    )
    before_claims = first_claim_approval - 1
    assert api.get("/api/v1/claims/", {"as_of": before_claims}).json()["results"] == []
    assert len(api.get("/api/v1/claims/", {"as_of": first_claim_approval}).json()["results"]) == 1
    assert api.get("/api/v1/facts/", {"as_of": before_claims}).json()["results"] == []
    assert len(api.get("/api/v1/subjects/", {"as_of": before_claims}).json()["results"]) == 9
    assert api.get("/api/v1/subjects/", {"as_of": 1}).json()["results"] == []
    assert api.get("/api/v1/sources/", {"as_of": 1}).json()["results"] == []
    claim_id = api.get("/api/v1/claims/").json()["results"][0]["id"]
    assert api.get(f"/api/v1/claims/{claim_id}/", {"as_of": before_claims}).status_code == 404
    assert api.get(f"/api/v1/claims/{claim_id}/history/", {"as_of": 1}).status_code == 404
    feed = api.get("/api/v1/changes/", {"as_of": 5}).json()["results"]
    assert [e["position"] for e in feed] == [1, 2, 3, 4, 5]


def test_related_records_on_a_page_are_shown_as_of_the_same_moment(api, archivist, reviewer):
    """A claim's citation and subject are read beside it, as of the same moment: an as_of
    before their renames shows the title and label then published, not today's."""
    world = factories.published_world(archivist, reviewer)
    claim = factories.deaths_claim(
        archivist, subject_record=world["subject"], prop=world["deaths"], src=world["source"]
    )
    factories.publish(claim, "claim", author=archivist, reviewer=reviewer)
    before_renames = StoredEvent.objects.order_by("-position").first().position
    src, subj = world["source"], world["subject"]
    src = commands.revise_source(
        source_id=src.pk,
        expected_version=src.version,
        title="Renamed source",
        full_text=factories.TEXT,
        licence="CC BY-SA 4.0",
        reason="Fuller title",
        actor=archivist,
    )
    factories.publish(src, "source", author=archivist, reviewer=reviewer)
    subj = commands.revise_subject(
        subject_id=subj.pk,
        expected_version=subj.version,
        kind="event",
        names=[{"name": "Renamed campaign", "language": "en"}],
        reason="Usual name",
        actor=archivist,
    )
    factories.publish(subj, "subject", author=archivist, reviewer=reviewer)

    def shown(path, as_of=None):
        params = {} if as_of is None else {"as_of": as_of}
        [record] = api.get(path, params).json()["results"]
        claim_shown = record["claims"][0] if "claims" in record else record
        return (
            record["subject"]["label"],
            claim_shown["subject"]["label"],
            claim_shown["citation"]["source"]["title"],
        )

    after_renames = StoredEvent.objects.order_by("-position").first().position
    renamed = ("Renamed campaign", "Renamed campaign", "Renamed source")
    for path in ("/api/v1/facts/", "/api/v1/claims/"):
        assert shown(path, before_renames) == (
            "Zhejiang-Jiangxi Campaign",
            "Zhejiang-Jiangxi Campaign",
            "Test source",
        ), path
        # As of the end, each related record has two published states: the later one shows.
        assert shown(path, after_renames) == renamed, path
        assert shown(path) == renamed, path


def test_a_fact_page_as_of_a_moment_makes_no_more_queries(
    api, seeded, django_assert_max_num_queries
):
    """Related records as of a moment come from the history, still in one query each: a
    history row built into a record never fetches a column the page left out."""
    as_of = StoredEvent.objects.order_by("-position").first().position
    with django_assert_max_num_queries(7):  # 6, and the position's time
        response = api.get("/api/v1/facts/", {"as_of": as_of, "limit": 200})
    assert response.status_code == 200 and response.json()["results"]


def _written_both_ways(serializer, records) -> tuple[list, list]:
    """What a FlatSerializer writes of each record, and what DRF's own lookup writes."""
    flat = [serializer.to_representation(record) for record in records]
    generic = drf_serializers.Serializer.to_representation
    with patch.object(serializers.FlatSerializer, "to_representation", generic):
        return flat, [serializer.to_representation(record) for record in records]


@pytest.mark.parametrize("as_of", ["now", "the last position", "before the last approval"])
def test_flat_serializers_write_what_drf_generic_serializing_writes(seeded, as_of):
    """The API's serializers skip DRF's generic lookup per field (FlatSerializer); for every
    published record of the seeds (now, or from the history as of a position: the last, or one
    at which the last record approved was not yet public), as a model instance and as the rows
    of values a fact page reads, they must write exactly what DRF's own
    Serializer.to_representation writes, and rows what instances give."""
    log = StoredEvent.objects.order_by("-position")
    when = None
    if as_of == "the last position":
        when = selectors.resolve_as_of(log[0].position)
    elif as_of == "before the last approval":
        last_approval = log.filter(event_type="RevisionApproved")[0].position
        when = selectors.resolve_as_of(last_approval - 1)
    facts = list(selectors.published_facts(as_of=when))
    context = related.for_facts(facts, when)
    claim_rows = [claim for claims in context["claims_by_fact"].values() for claim in claims]
    claims = sorted(selectors.published_claims(as_of=when), key=lambda claim: claim.id)
    sources = list(selectors.published_sources(as_of=when))
    claim_serializer = serializers.ClaimSerializer(
        context={**context, **related.for_claims(claims, when)}
    )
    cases = [
        (serializers.FactSerializer(context=context), facts),
        (claim_serializer, claims),
        (claim_serializer, claim_rows),
        (serializers.SubjectSerializer(), list(selectors.published_subjects(as_of=when))),
        (serializers.PropertySerializer(), list(selectors.published_properties(as_of=when))),
        (serializers.SourceSerializer(context=related.for_sources(sources, when)), sources),
    ]
    for serializer, records in cases:
        assert records, type(serializer).__name__
        flat, generic = _written_both_ways(serializer, records)
        assert flat == generic, type(serializer).__name__
    from_rows = sorted(_written_both_ways(claim_serializer, claim_rows)[0], key=lambda c: c["id"])
    assert from_rows == _written_both_ways(claim_serializer, claims)[0]


class _Odd(serializers.FlatSerializer):
    """Fields whose value FlatSerializer must leave to DRF's own lookup."""

    plain = drf_serializers.CharField()
    nullable = drf_serializers.CharField(allow_null=True)
    defaulted = drf_serializers.CharField(default="the default")
    optional = drf_serializers.CharField(required=False)
    called = drf_serializers.CharField()
    dotted = drf_serializers.CharField(source="inner.name")
    method = drf_serializers.SerializerMethodField()

    def get_method(self, record) -> str:
        return f"method of a {type(record).__name__}"


class _Raising(SimpleNamespace):
    """A record whose attributes raise what DRF's lookup answers for with None or a default."""

    @property
    def nullable(self):
        raise DjangoObjectDoesNotExist("no related record")

    @property
    def defaulted(self):
        raise KeyError("defaulted")


@pytest.mark.parametrize(
    "record",
    [
        SimpleNamespace(
            plain="p",
            nullable=None,
            defaulted="d",
            optional="o",
            called=lambda: "from a call",
            inner=SimpleNamespace(name="n"),
        ),
        SimpleNamespace(plain="p", called=lambda: "from a call", inner=SimpleNamespace(name="n")),
        _Raising(plain="p", called=lambda: "from a call", inner=SimpleNamespace(name="n")),
        {"plain": "p", "called": "c", "inner": {"name": "n"}},
    ],
    ids=["every attribute", "absent attributes", "attributes that raise", "a mapping"],
)
def test_a_flat_serializer_leaves_what_is_not_a_plain_attribute_to_drf(record):
    flat, generic = _written_both_ways(_Odd(), [record])
    assert flat == generic
    assert (
        flat[0]["called"] in ("from a call", "c")
        and flat[0]["method"] == f"method of a {type(record).__name__}"
    )


def _feed_pages(api, url: str, most: int = 200) -> list[dict]:
    """The feed's pages from ``url``, following next to the end: as a mirror reads it. A feed
    that still links on after ``most`` pages fails the test rather than loop."""
    pages = []
    for _ in range(most):
        page = api.get(url).json()
        pages.append(page)
        url = page["next"]
        if url is None:
            return pages
    raise AssertionError(f"the feed still had a next page after {most}: {url}")


def _follow_the_feed(api, url: str) -> list[int]:
    return [e["position"] for page in _feed_pages(api, url) for e in page["results"]]


def test_a_mirror_follows_the_change_feed_without_gaps_and_verifies_it(api, seeded):
    pages = _feed_pages(api, "/api/v1/changes/?limit=7")
    entries = [entry for page in pages for entry in page["results"]]
    assert [e["position"] for e in entries] == list(
        StoredEvent.objects.order_by("position").values_list("position", flat=True)
    )
    assert verify_feed(entries).ok
    public = [e for e in entries if e["public"]]
    assert {e["event"]["event_type"] for e in public} == {"PropertyDefined", "RevisionApproved"}
    forged = json.loads(json.dumps(entries))
    target = public[3]
    index = entries.index(target)
    forged[index]["event"]["data"]["revision"] = 2
    report = verify_feed(forged)
    assert report.first_bad_position == target["position"]


def test_a_feed_page_ends_early_once_its_events_hold_the_page_bound(api, seeded, monkeypatch):
    """Every event's data is read to digest it, and a source may hold two million characters:
    a page also ends at records.log_pages.PAGE_BYTES of stored data, and says there is more."""
    from records import log_pages

    positions = list(StoredEvent.objects.order_by("position").values_list("position", flat=True))
    monkeypatch.setattr(log_pages, "PAGE_BYTES", 1)  # each page ends after its first event
    pages = _feed_pages(api, "/api/v1/changes/?limit=7")
    assert [[e["position"] for e in page["results"]] for page in pages] == [
        [position] for position in positions
    ]


def test_the_feeds_last_page_says_there_is_no_more(api, seeded):
    events = StoredEvent.objects.count()
    page = api.get("/api/v1/changes/", {"limit": events}).json()
    assert len(page["results"]) == events and page["next"] is None
    page = api.get("/api/v1/changes/", {"limit": events - 1}).json()
    assert page["next"].endswith(f"?after={events - 1}&limit={events - 1}")
    last = api.get(page["next"]).json()
    assert [e["position"] for e in last["results"]] == [events] and last["next"] is None


def test_a_mirror_follows_the_feed_as_of_a_time(api, seeded):
    """The time's "+00:00" survives the next link (unencoded, its "+" would read as a space)."""
    from records.hashing import canonical_time

    fifth = StoredEvent.objects.get(position=5)
    as_of = canonical_time(fifth.recorded_at)
    assert "+00:00" in as_of
    url = f"/api/v1/changes/?{urlencode({'limit': 2, 'as_of': as_of})}"
    assert _follow_the_feed(api, url) == [1, 2, 3, 4, 5]


def test_the_feed_as_of_a_time_ends_in_a_log_whose_times_do_not_count_up(api, seeded):
    """A restored log may hold times out of order. A page whose events all fall outside as_of
    must still move the next page on, or a mirror would ask for it forever."""
    from datetime import timedelta

    from records import append_only

    fifth = StoredEvent.objects.get(position=5)
    later = fifth.recorded_at + timedelta(days=365)
    append_only.uninstall(connection)
    StoredEvent.objects.filter(position__in=[2, 3, 4]).update(recorded_at=later)
    append_only.install(connection)
    url = f"/api/v1/changes/?{urlencode({'limit': 3, 'as_of': 5, 'after': 1})}"
    assert _follow_the_feed(api, url) == [5]


# --- no leaks, endpoint by endpoint and format by format ---

SECRET = "LEAK-CANARY"


@pytest.fixture
def leaky_archive(seeded, archivist, reviewer):
    """Seeds plus everything that must never leave the gate, each marked with SECRET."""
    archivist.email = f"{SECRET.lower()}@example.org"
    archivist.save()
    world = {
        "source": seed_id("source", "wikipedia-doolittle-zhejiang-jiangxi"),
        "subject": seed_id("subject", "zhejiang-jiangxi-campaign"),
        "deaths": seed_id("property", "civilian-deaths"),
    }
    quote = "Chinese estimates put the death toll at 250,000 civilians."
    citation = {"source_id": world["source"], "quote": quote}

    def claim(note):
        return commands.register_claim(
            subject_id=world["subject"],
            property_id=world["deaths"],
            value={"original": "1", "best": 1},
            citation=citation,
            note=note,
            actor=archivist,
        )

    claim(f"{SECRET} draft claim")
    pending = claim(f"{SECRET} submitted claim")
    commands.submit_for_review(record_type="claim", record_id=pending.pk, actor=archivist)
    rejected = claim(f"{SECRET} rejected claim")
    commands.submit_for_review(record_type="claim", record_id=rejected.pk, actor=archivist)
    commands.reject_revision(
        record_type="claim",
        record_id=rejected.pk,
        revision=1,
        comment=f"{SECRET} no",
        actor=reviewer,
    )
    published_id = seed_id("claim", "raid-date")
    published = Claim.objects.get(pk=published_id)
    commands.revise_claim(
        claim_id=published_id,
        expected_version=published.version,
        value={"original": "April 18, 1942", "edtf": "1942-04-18"},
        citation={"source_id": world["source"], "quote": published.quote},
        note=f"{SECRET} pending revision",
        reason=f"{SECRET} reason",
        actor=archivist,
    )
    commands.add_review_comment(
        record_type="claim", record_id=published_id, text=f"{SECRET} comment", actor=reviewer
    )
    commands.revise_subject(
        subject_id=world["subject"],
        expected_version=Subject.objects.get(pk=world["subject"]).version,
        kind="event",
        names=[{"name": f"{SECRET} renamed", "language": "en"}],
        reason="draft rename",
        actor=archivist,
    )
    draft_source = factories.source(archivist, title=f"{SECRET} draft source")
    retracted = seed_id("claim", "airmen-shot-three")
    commands.retract_claim(claim_id=retracted, reason="Duplicate of paragraph 2.", actor=reviewer)
    make_user("bystander", email=f"{SECRET}@example.org")
    return {"draft_source": draft_source.pk, "retracted": retracted, "pending": pending.pk}


FORMATS = {
    "subjects": ["json"],
    "properties": ["json"],
    "facts": ["json", "csv"],
    "claims": ["json", "csv", "jsonld"],
    "sources": ["json", "jsonld"],
}
ENDPOINT_FORMATS = [(name, fmt) for name, formats in FORMATS.items() for fmt in formats]


def _urls(api, name: str, fmt: str) -> list[str]:
    """The list, every record's detail, and (JSON) every record's history, as the public sees."""
    urls = [f"/api/v1/{name}/?limit=200&format={fmt}"]
    for record in api.get(f"/api/v1/{name}/", {"limit": 200}).json()["results"]:
        urls.append(f"/api/v1/{name}/{record['id']}/?format={fmt}")
        if name in ("claims", "sources", "subjects") and fmt == "json":
            urls.append(f"/api/v1/{name}/{record['id']}/history/")
    return urls


def _assert_no_secret(api, urls):
    for url in urls:
        response = api.get(url)
        assert response.status_code == 200, (url, excerpt(response))
        text = body(response)
        assert SECRET not in text and SECRET.lower() not in text, url
        assert "@example.org" not in text, url


@pytest.mark.parametrize(("name", "fmt"), ENDPOINT_FORMATS)
def test_nothing_private_leaks(api, leaky_archive, name, fmt):
    urls = _urls(api, name, fmt)
    assert len(urls) > 1
    _assert_no_secret(api, urls)


def test_nothing_private_leaks_from_the_change_feed_or_schema(api, leaky_archive):
    _assert_no_secret(api, ["/api/v1/changes/?limit=1000", "/api/schema/", "/api/docs/"])


def test_hidden_records_are_404_not_shown(api, leaky_archive):
    for name, record_id in (
        ("sources", leaky_archive["draft_source"]),
        ("claims", leaky_archive["pending"]),
    ):
        assert api.get(f"/api/v1/{name}/{record_id}/").status_code == 404


def test_a_retracted_claim_appears_as_retracted(api, leaky_archive):
    claim = api.get(f"/api/v1/claims/{leaky_archive['retracted']}/").json()
    assert claim["status"] == "retracted"
    assert claim["retraction_reason"] == "Duplicate of paragraph 2."
    assert claim["retracted_at"]
    rows = list(
        csv.DictReader(io.StringIO(body(api.get("/api/v1/claims/?format=csv&status=retracted"))))
    )
    assert [r["status"] for r in rows] == ["retracted"]


# --- efficiency ---


def test_a_claim_page_filtered_by_property_is_read_from_an_index_in_its_order(
    api, seeded, postgres_only
):
    """The page's own query, as the API makes it, can be served by reading an index in the
    list's order: no sort of every claim of the property, however many it holds. (The seeds are
    too few for the planner to prefer an index of its own accord, so scans are turned off.)"""
    property_id = PublishedClaim.objects.values_list("property_id", flat=True).first()
    with CaptureQueriesContext(connection) as captured:
        assert api.get("/api/v1/claims/", {"property": property_id}).status_code == 200
    [page_query] = [
        q["sql"] for q in captured.captured_queries if 'FROM "records_publishedclaim"' in q["sql"]
    ]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN {page_query}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "publishedclaim_by_property" in plan and "Sort" not in plan, plan


@pytest.mark.parametrize("name", LISTS + ["changes"])
def test_queries_per_list_do_not_grow_with_the_page_size(
    api, seeded, name, django_assert_max_num_queries
):
    with CaptureQueriesContext(connection) as one_row:
        assert api.get(f"/api/v1/{name}/", {"limit": 1}).status_code == 200
    # A page of every record may make no more queries than a page of one.
    with django_assert_max_num_queries(len(one_row)):
        response = api.get(f"/api/v1/{name}/", {"limit": 19})
    assert response.status_code == 200
    # The budget docs/performance.md holds every public request to.
    assert len(one_row) <= 6


def test_a_fact_page_makes_at_most_six_queries(api, seeded, django_assert_max_num_queries):
    fact_id = api.get("/api/v1/facts/", {"limit": 1}).json()["results"][0]["id"]
    with django_assert_max_num_queries(6):
        response = api.get(f"/api/v1/facts/{fact_id}/")
    assert response.status_code == 200


# --- schema and docs ---


def test_the_openapi_schema_documents_every_status(api):
    response = api.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            statuses = set(operation["responses"])
            assert {"200", "304", "400", "405", "429"} <= statuses, (path, method)
            if "{id}" in path:
                assert "404" in statuses, path
            if path.startswith("/api/v1/"):
                assert "as_of" in {p["name"] for p in operation["parameters"]}, path


def test_the_interactive_docs_load_nothing_from_elsewhere(api):
    response = api.get("/api/docs/")
    assert response.status_code == 200
    html = body(response)
    assert "swagger-ui" in html
    for attribute in ('src="http', "src='http", 'href="http'):
        assert attribute not in html


def test_errors_are_json_whatever_the_format_asked(api, seeded):
    response = api.get("/api/v1/claims/", {"format": "csv", "as_of": "soon"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert "as_of" in response.json()


@pytest.mark.parametrize(
    "path", ["/api/v1/claims/0.5/", "/api/v1/claims/0.5/history/", "/api/v1/nope/"]
)
def test_unknown_records_and_paths_are_json_404s(api, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
