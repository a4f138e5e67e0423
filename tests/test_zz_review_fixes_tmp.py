import uuid
from decimal import Decimal
from base64 import b64encode
from urllib.parse import urlencode

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from records import commands, workflow
from records.models import Claim, PublishedClaim, PublishedSource, StoredEvent
from records.replay import check_replay, rebuild
from records.seeding import load_seeds
from tests import factories as f
from tests.conftest import make_user
from records.workflow import ARCHIVIST, REVIEWER


def world(a, r):
    return f.published_world(a, r)


def out(*args):
    print("PROBE:", *args)


# ---- fix 3 -----------------------------------------------------------------------------------

def test_p3a_quote_unchecked_when_working_source_text_empty(archivist, reviewer):
    w = world(archivist, reviewer)
    src = w["source"]
    commands.revise_source(
        source_id=src.pk, expected_version=src.version, title=src.title, full_text="",
        licence=src.licence, reason="drop text", actor=archivist,
    )
    claim = f.deaths_claim(archivist, subject_record=w["subject"], prop=w["deaths"], src=src,
                           quote="Fabricated: 9 million died.")
    out("offsets", claim.quote_start, claim.quote_end)
    commands.submit_for_review(record_type="claim", record_id=claim.pk, actor=archivist)
    try:
        commands.approve_revision(record_type="claim", record_id=claim.pk, revision=1, actor=reviewer)
        pc = PublishedClaim.objects.get(pk=claim.pk)
        out("APPROVED claim quote", repr(pc.quote), "in published text?",
            pc.quote in PublishedSource.objects.get(pk=src.pk).full_text)
    except Exception as e:
        out("refused", type(e).__name__, e)


def test_p3b_source_revised_after_claim_approval(archivist, reviewer, other_reviewer):
    w = world(archivist, reviewer)
    src = w["source"]
    claim = f.deaths_claim(archivist, subject_record=w["subject"], prop=w["deaths"], src=src)
    f.publish(claim, "claim", author=archivist, reviewer=reviewer)
    src = commands.revise_source(
        source_id=src.pk, expected_version=src.version, title=src.title,
        full_text="Totally different text.", licence=src.licence, reason="rewrite",
        actor=archivist,
    )
    try:
        f.publish(src, "source", author=archivist, reviewer=other_reviewer)
        pc = PublishedClaim.objects.get(pk=claim.pk)
        text = PublishedSource.objects.get(pk=src.pk).full_text
        out("source approved; claim quote at offsets?", text[pc.quote_start:pc.quote_end] == pc.quote)
    except Exception as e:
        out("refused", type(e).__name__, e)


# ---- fix 7 -----------------------------------------------------------------------------------

def test_p7a_retry_uppercase_string_id(archivist, reviewer):
    w = world(archivist, reviewer)
    claim = f.deaths_claim(archivist, subject_record=w["subject"], prop=w["deaths"], src=w["source"])
    eid = uuid.uuid4()
    rid = str(claim.pk).upper()
    commands.submit_for_review(record_type="claim", record_id=rid, actor=archivist, event_id=eid)
    out("first ok")
    try:
        commands.submit_for_review(record_type="claim", record_id=rid, actor=archivist, event_id=eid)
        out("uppercase retry accepted")
    except Exception as e:
        out("uppercase identical retry refused", type(e).__name__, e)
    try:
        commands.submit_for_review(record_type="claim", record_id=claim.pk, actor=archivist, event_id=eid)
        out("uuid retry after uppercase accepted")
    except Exception as e:
        out("uuid retry after uppercase refused", type(e).__name__, e)


def test_p7b_retry_equivalent_forms(archivist, reviewer):
    w = world(archivist, reviewer)
    src = w["source"]
    for first, second in [(250000, "250000"), (250000, Decimal("250000")), (250000, 250000.0),
                          (str(src.pk), src.pk)]:
        eid = uuid.uuid4()
        def reg(best, sid):
            return commands.register_claim(
                subject_id=w["subject"].pk, property_id=w["deaths"].pk,
                value={"original": "250,000", "best": best},
                citation={"source_id": sid, "locator": "p", "quote": "Chinese estimates put the death toll at 250,000 civilians."},
                actor=archivist, event_id=eid,
            )
        if isinstance(second, uuid.UUID):
            reg(250000, first); args2 = (250000, second)
        else:
            reg(first, src.pk); args2 = (second, src.pk)
        try:
            reg(*args2)
            out("retry accepted", repr(first), repr(second))
        except Exception as e:
            out("retry refused", repr(first), repr(second), type(e).__name__, e)


def test_p7c_seeds_twice_other_archivist(archivist, reviewer, other_archivist, other_reviewer):
    load_seeds(archivist=archivist, reviewer=reviewer)
    n = StoredEvent.objects.count()
    load_seeds(archivist=archivist, reviewer=reviewer)
    out("same actors second run appended", StoredEvent.objects.count() - n)
    try:
        load_seeds(archivist=other_archivist, reviewer=other_reviewer)
        out("other actors accepted")
    except Exception as e:
        out("other actors refused", type(e).__name__, e)


def test_p7d_wrong_record_type_retry(archivist, reviewer):
    w = world(archivist, reviewer)
    claim = f.deaths_claim(archivist, subject_record=w["subject"], prop=w["deaths"], src=w["source"])
    eid = uuid.uuid4()
    commands.add_review_comment(record_type="claim", record_id=claim.pk, text="hi", actor=reviewer, event_id=eid)
    # a different-command reuse of a derived id (approval with comment uses uuid5(eid,"1"))
    try:
        commands.add_review_comment(record_type="claim", record_id=claim.pk, text="hi", actor=reviewer, event_id=eid)
        out("comment retry ok")
    except Exception as e:
        out("comment retry refused", e)


# ---- fix 5 -----------------------------------------------------------------------------------

def _published_claims(a, r, n):
    w = world(a, r)
    claims = []
    for i in range(n):
        c = f.deaths_claim(a, subject_record=w["subject"], prop=w["deaths"], src=w["source"])
        claims.append(f.publish(c, "claim", author=a, reviewer=r))
    return w, claims


def test_p5a_rank_sequences_replay(archivist, reviewer, other_reviewer):
    w, (a, b, c) = _published_claims(archivist, reviewer, 3)
    rk = lambda cl, rank: commands.rank_claim(claim_id=cl.pk, rank=rank, reason="r", actor=reviewer)
    rk(a, "preferred")
    a = Claim.objects.get(pk=a.pk)
    a = commands.revise_claim(claim_id=a.pk, expected_version=a.version, value={"original": "250,000", "best": 250001},
                              citation={"source_id": w["source"].pk, "locator": "p", "quote": "Chinese estimates put the death toll at 250,000 civilians."},
                              reason="x", actor=archivist)
    rk(b, "preferred")  # while a's revision is a draft
    f.publish(a, "claim", author=archivist, reviewer=other_reviewer)
    rk(a, "preferred")
    commands.retract_claim(claim_id=a.pk, reason="bad", actor=reviewer)
    rk(c, "preferred")
    rk(b, "deprecated")
    rk(b, "preferred")
    out("preferred working", list(Claim.objects.filter(rank="preferred").values_list("id", "status")))
    rep = check_replay()
    out("replay ok", rep.ok)
    rebuild()
    out("rebuild ok")


# ---- API -------------------------------------------------------------------------------------

@pytest.fixture
def seeded(archivist, reviewer):
    load_seeds(archivist=archivist, reviewer=reviewer)


@pytest.mark.parametrize("path,params", [
    ("claims", {"as_of": "99999999999999999999"}),
    ("claims", {"as_of": "9223372036854775808"}),
    ("facts", {"as_of": "99999999999999999999"}),
    ("changes", {"after": "99999999999999999999"}),
    ("changes", {"as_of": "99999999999999999999"}),
    ("claims", {"as_of": "9999-12-31"}),
    ("claims", {"as_of": "0001-01-01"}),
    ("claims", {"as_of": "0001-01-01T00:00:00"}),
    ("claims", {"as_of": "2026-01-01T00:00:00+99:00"}),
    ("claims", {"as_of": "2026-01-01T25:00:00"}),
    ("claims", {"as_of": "2026-W01"}),
    ("claims", {"as_of": "20260101"}),
    ("claims", {"as_of": "2026-01-01\x00"}),
    ("claims", {"ordering": "original_wording,published_at"}),
    ("claims", {"ordering": "published_at,quantity_best"}),
    ("claims", {"ordering": "-id"}),
    ("claims", {"date_from": "0001-01-01"}),
    ("claims", {"date_from": "99999-01-01"}),
    ("claims", {"subject": "x"}),
    ("subjects", {"q": "a\x00"}),
    ("sources", {"q": "a\x00"}),
    ("claims", {"limit": "0"}),
])
def test_papi_params(seeded, path, params):
    api = APIClient()
    r = api.get(f"/api/v1/{path}/?" + urlencode(params))
    out(path, params, r.status_code, r.content[:160])


def _cursor(**tokens):
    return b64encode(urlencode(tokens).encode()).decode()


@pytest.mark.parametrize("path,ordering,pos", [
    ("subjects", "label", "a\x00b"),
    ("subjects", "published_at", "2026-01-01T00:00:00+00:00"),
    ("properties", "key", "zz"),
    ("sources", "title", "x" * 100000),
    ("claims", "original_wording", "\ud800"),
    ("claims", "published_at", "9999-12-31T23:59:59.999999+00:00"),
    ("claims", "published_at", "0001-01-01T00:00:00-00:30"),
    ("facts", "id", "00000000-0000-0000-0000-000000000000"),
])
def test_pcursor(seeded, path, ordering, pos):
    api = APIClient()
    r = api.get(f"/api/v1/{path}/", {"ordering": ordering, "cursor": _cursor(p=pos)})
    out(path, ordering, repr(pos)[:30], r.status_code, r.content[:160])
    r = api.get(f"/api/v1/{path}/", {"ordering": ordering, "cursor": _cursor(p=pos, o="99999999999999999999")})
    out(" big o", r.status_code, r.content[:120])
    r = api.get(f"/api/v1/{path}/", {"ordering": ordering, "cursor": _cursor(p=pos, r="1")})
    out(" reverse", r.status_code, r.content[:120])
