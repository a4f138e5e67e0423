"""The staff admin: every save and button goes through a command, and its answers show on the
page. Driven through Django's test client; tests/browser drives the same pages in Chromium."""

import re
import uuid

import pytest
from django.contrib.auth import get_user_model

from records import commands, staff
from records.admin.command_form import ALREADY_SAVED, CLASHES, CONFLICT, NO_VERSION, TAKEN
from records.admin.forms import names_as_text
from records.event_store import read_stream
from records.models import Claim, Fact, ReviewComment, Source, StoredEvent, Subject
from records.models.projections import Status
from records.seeding import load_seeds, seed_id
from records.values import QUOTE_NOT_IN_TEXT
from records.workflow import OWN_WORK
from tests.conftest import make_user

SEED_SOURCE = "wikipedia-doolittle-zhejiang-jiangxi"
QUOTE = "Chinese estimates put the death toll at 250,000 civilians."


@pytest.fixture
def seeded(archivist, reviewer):
    load_seeds(archivist=archivist, reviewer=reviewer)


@pytest.fixture
def superuser_client(client, seeded):
    admin = get_user_model().objects.create_superuser("root", password=None)
    client.force_login(admin)
    return client


@pytest.fixture
def archivist_client(client, seeded, other_archivist):
    client.force_login(other_archivist)
    return client


def revise_seed_source(actor, reason: str, **changes) -> Source:
    """A revision of the seeded source through its command, changing only ``changes``."""
    source = Source.objects.get(pk=seed_id("source", SEED_SOURCE))
    fields = {name: getattr(source, name) for name in Source.CONTENT_FIELDS}
    return commands.revise_source(
        source_id=source.pk,
        expected_version=source.version,
        **{**fields, **changes},
        reason=reason,
        actor=actor,
    )


def login(client, user):
    client.force_login(user)
    return client


def source_form(**overrides) -> dict:
    data = {
        "title": "Diary of a missionary in Nanchang",
        "author": "",
        "publisher": "",
        "published": "1943",
        "url": "",
        "archive_reference": "",
        "accessed": "",
        "licence": "CC BY 4.0",
        "attribution": "",
        "full_text": "The missionary counted 12,000 dead in the city alone.",
        "reason": "",
        "event_id": str(uuid.uuid4()),
    }
    data.update(overrides)
    return data


def form_errors(response) -> dict:
    return {
        name: list(errors) for name, errors in response.context["adminform"].form.errors.items()
    }


@pytest.mark.parametrize(
    "model", ["storedevent", "source", "subject", "property", "fact", "claim", "reviewcomment"]
)
def test_every_record_list_renders(superuser_client, model):
    response = superuser_client.get(f"/admin/records/{model}/")
    assert response.status_code == 200


@pytest.mark.parametrize("model", ["source", "subject", "property", "claim"])
def test_every_add_form_renders_for_an_archivist(archivist_client, model):
    assert archivist_client.get(f"/admin/records/{model}/add/").status_code == 200


def test_an_archivist_registers_a_source_through_the_command(archivist_client, other_archivist):
    events = StoredEvent.objects.count()
    response = archivist_client.post("/admin/records/source/add/", source_form())
    assert response.status_code == 302, form_errors(response)
    source = Source.objects.get(title="Diary of a missionary in Nanchang")
    [event] = StoredEvent.objects.filter(position__gt=events)
    assert (event.event_type, event.stream_id) == ("SourceRegistered", source.pk)
    assert event.metadata["actor"] == other_archivist.username
    assert source.status == Status.DRAFT and source.registered_by == other_archivist


def test_a_double_submitted_form_saves_once(archivist_client):
    data = source_form()
    archivist_client.post("/admin/records/source/add/", data)
    archivist_client.post("/admin/records/source/add/", data)
    assert Source.objects.filter(title=data["title"]).count() == 1


def test_refusals_appear_next_to_their_field_and_store_nothing(archivist_client):
    events = StoredEvent.objects.count()
    response = archivist_client.post(
        "/admin/records/claim/add/",
        {
            "subject": seed_id("subject", "zhejiang-jiangxi-campaign"),
            "property": seed_id("property", "civilian-deaths"),
            "original": "about 12,000",
            "best": "twelve thousand",
            "source": seed_id("source", SEED_SOURCE),
            "quote": "A passage that is not in the source.",
            "event_id": str(uuid.uuid4()),
        },
    )
    assert response.status_code == 200
    errors = form_errors(response)
    assert "best" in errors and "quote" in errors, errors
    page = response.content.decode()
    assert 'value="twelve thousand"' in page  # what was typed is kept
    assert StoredEvent.objects.count() == events


def as_posted(form) -> dict:
    """What the browser would send back for a rendered form."""
    return {name: "" if form[name].value() is None else form[name].value() for name in form.fields}


def test_a_stale_form_merges_a_colleagues_changes_and_keeps_the_input(
    client, seeded, archivist, other_archivist
):
    source = Source.objects.get(pk=seed_id("source", SEED_SOURCE))
    login(client, other_archivist)
    url = f"/admin/records/source/{source.pk}/change/"
    data = as_posted(client.get(url).context["adminform"].form)
    assert data["expected_version"] == source.version
    # Meanwhile a colleague revises the same source: attribution, and the publisher too.
    revise_seed_source(
        archivist,
        "Attribution added",
        attribution="Colleague's attribution",
        publisher="Their publisher",
    )
    mine = {**data, "publisher": "My publisher, typed with care", "reason": "Publisher added"}
    response = client.post(url, mine)
    assert response.status_code == 200
    current = Source.objects.get(pk=source.pk)
    page = response.content.decode()
    for part in (
        CONFLICT.format(kind="source", loaded=source.version, current=current.version),
        TAKEN.format(fields="attribution"),
        CLASHES.format(fields="publisher"),
    ):
        assert part in page
    assert current.publisher == "Their publisher"
    # The form now holds their attribution (a field the user left alone) and the user's
    # publisher and reason; saving it again records the revision over the colleague's.
    resend = as_posted(response.context["adminform"].form)
    assert resend["expected_version"] == current.version
    assert (resend["attribution"], resend["publisher"], resend["reason"]) == (
        "Colleague's attribution",
        "My publisher, typed with care",
        "Publisher added",
    )
    assert client.post(url, resend).status_code == 302
    saved = Source.objects.get(pk=source.pk)
    assert (saved.publisher, saved.attribution) == (
        "My publisher, typed with care",
        "Colleague's attribution",
    )


def new_claim(archivist, **overrides):
    fields = {
        "subject_id": seed_id("subject", "zhejiang-jiangxi-campaign"),
        "property_id": seed_id("property", "civilian-deaths"),
        "value": {"original": "about 200,000", "best": 200000, "approximate": True},
        "citation": {"source_id": seed_id("source", SEED_SOURCE), "quote": QUOTE},
        "actor": archivist,
    }
    fields.update(overrides)
    return commands.register_claim(**fields)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def review(client, record, action, **fields):
    return client.post(
        f"/admin/records/claim/{record.pk}/review/",
        {"action": action, "revision": record.revision, **fields},
        follow=True,
    )


def test_the_author_cannot_approve_and_is_told_why_on_the_page(client, seeded):
    author = make_user("author-and-reviewer", "Administrator")
    claim = new_claim(author)
    login(client, author)
    assert "Submitted" in messages_of(review(client, claim, "submit"))[0]
    claim.refresh_from_db()
    response = review(client, claim, "approve")
    assert messages_of(response) == [OWN_WORK.format(kind="claim", revision=1)] or any(
        "wrote part of" in message for message in messages_of(response)
    )
    assert Claim.objects.get(pk=claim.pk).status == Status.IN_REVIEW


def test_a_reviewer_approves_requests_changes_and_comments_from_the_page(
    client, seeded, other_archivist, other_reviewer
):
    claim = new_claim(other_archivist)
    login(client, other_archivist)
    review(client, claim, "submit")
    login(client, other_reviewer)
    claim.refresh_from_db()
    response = review(client, claim, "request_changes")
    assert "comment" in messages_of(response)[0]  # a reason is required, and said so
    response = review(client, claim, "request_changes", comment="Cite the page.")
    assert Claim.objects.get(pk=claim.pk).status == Status.CHANGES_REQUESTED
    page = client.get(f"/admin/records/claim/{claim.pk}/change/").content.decode()
    assert "Cite the page." in page and "ChangesRequested" in page  # comment and event shown
    # The archivist revises the claim in its form, then submits the new revision.
    login(client, other_archivist)
    data = as_posted(
        client.get(f"/admin/records/claim/{claim.pk}/change/").context["adminform"].form
    )
    data.update(locator="paragraph 6", reason="Page given.")
    response = client.post(f"/admin/records/claim/{claim.pk}/change/", data)
    assert response.status_code == 302, form_errors(response)
    claim.refresh_from_db()
    assert (claim.revision, claim.locator, claim.status) == (2, "paragraph 6", Status.DRAFT)
    review(client, claim, "submit")
    login(client, other_reviewer)
    review(client, claim, "approve", comment="Checked.")
    assert Claim.objects.get(pk=claim.pk).status == Status.PUBLISHED


def test_the_review_queue_shows_others_work_with_its_changes(
    client, seeded, archivist, other_archivist, reviewer
):
    claim = new_claim(other_archivist)
    commands.submit_for_review(record_type="claim", record_id=claim.pk, actor=other_archivist)
    login(client, reviewer)
    queue = client.get("/admin/review-queue/")
    assert [item.record.pk for item in queue.context["pending"]] == [claim.pk]
    page = queue.content.decode()
    assert "about 200,000" in page and "original wording" in page
    index = client.get("/admin/")
    assert index.context["queue_count"] == 1
    # The author does not see their own revision in a queue.
    reviewer_author = make_user("reviewing-author", "Administrator")
    mine = new_claim(
        reviewer_author,
        citation={"source_id": seed_id("source", SEED_SOURCE), "quote": QUOTE, "locator": "lead"},
    )
    commands.submit_for_review(record_type="claim", record_id=mine.pk, actor=reviewer_author)
    login(client, reviewer_author)
    assert [item.record.pk for item in client.get("/admin/review-queue/").context["pending"]] == [
        claim.pk
    ]


def test_the_index_shows_an_archivists_drafts_and_changes_requested(
    client, seeded, other_archivist, reviewer
):
    draft = new_claim(other_archivist)
    sent_back = new_claim(
        other_archivist,
        citation={"source_id": seed_id("source", SEED_SOURCE), "quote": QUOTE, "locator": "x"},
    )
    commands.submit_for_review(record_type="claim", record_id=sent_back.pk, actor=other_archivist)
    commands.request_changes(
        record_type="claim",
        record_id=sent_back.pk,
        revision=1,
        comment="Which page?",
        actor=reviewer,
    )
    login(client, other_archivist)
    index = client.get("/admin/")
    assert [record.pk for _, record in index.context["my_drafts"]] == [draft.pk]
    assert [record.pk for _, record in index.context["my_changes_requested"]] == [sent_back.pk]
    assert "Which page?" in index.content.decode()


def test_the_fact_page_sets_conflicting_claims_side_by_side(client, seeded, other_archivist):
    claim = new_claim(other_archivist)
    login(client, other_archivist)
    page = client.get(f"/admin/records/fact/{claim.fact_id}/change/")
    assert page.status_code == 200
    bars = page.context["bars"]
    fact = Fact.objects.get(pk=claim.fact_id)
    assert {bar.claim.pk for bar in bars} == set(fact.claims.values_list("pk", flat=True))
    assert len(bars) >= 2
    for bar in bars:
        assert 0 <= bar.left <= 100 and bar.left + bar.width <= 100.6
    html = page.content.decode()
    assert "about 200,000" in html and "strata-range" in html
    add = re.search(r'id="add-estimate" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    form = client.get(add).context["adminform"].form
    assert str(form["subject"].value()) == str(fact.subject_id)
    assert str(form["property"].value()) == str(fact.property_id)


def test_the_citation_helper_finds_checks_and_explains(archivist_client):
    url = "/admin/records/claim/check-quote/"
    source = Source.objects.get(pk=seed_id("source", SEED_SOURCE))
    found = archivist_client.get(url, {"source": source.pk, "quote": QUOTE}).json()
    assert source.full_text[found["start"] : found["end"]] == QUOTE == found["match"]
    assert (
        found["errors"] is None and found["before"] and source.full_text.find(found["before"]) >= 0
    )
    missing = archivist_client.get(url, {"source": source.pk, "quote": "Not in it at all."}).json()
    assert missing["errors"] == {"citation.quote": [QUOTE_NOT_IN_TEXT]}
    wrong = archivist_client.get(
        url, {"source": source.pk, "quote": QUOTE, "start": "0", "end": str(len(QUOTE))}
    ).json()
    assert wrong["errors"] and wrong["start"] is None


def test_a_reviewer_reads_records_but_cannot_edit_them(client, seeded, reviewer):
    login(client, reviewer)
    source = Source.objects.get(pk=seed_id("source", SEED_SOURCE))
    assert client.get(f"/admin/records/source/{source.pk}/change/").status_code == 200
    assert (
        client.post(f"/admin/records/source/{source.pk}/change/", source_form()).status_code == 403
    )
    assert client.get("/admin/records/source/add/").status_code == 403


def test_nothing_is_deleted_and_properties_are_never_changed(superuser_client):
    source = Source.objects.get(pk=seed_id("source", SEED_SOURCE))
    prop = seed_id("property", "civilian-deaths")
    assert (
        superuser_client.post(
            f"/admin/records/source/{source.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert superuser_client.post(f"/admin/records/property/{prop}/change/", {}).status_code == 403
    assert Source.objects.filter(pk=source.pk).exists()


def test_the_event_log_is_read_only_even_for_superusers(superuser_client):
    event = StoredEvent.objects.first()
    count = StoredEvent.objects.count()
    assert superuser_client.get("/admin/records/storedevent/add/").status_code == 403
    url = f"/admin/records/storedevent/{event.pk}/change/"
    assert superuser_client.get(url).status_code == 200
    assert superuser_client.post(url, {}).status_code == 403
    delete = f"/admin/records/storedevent/{event.pk}/delete/"
    assert superuser_client.post(delete, {"post": "yes"}).status_code == 403
    assert StoredEvent.objects.count() == count


def test_history_is_shown_and_never_reverted(superuser_client):
    claim = Claim.objects.get(pk=seed_id("claim", "campaign-start-mid-may"))
    history = superuser_client.get(f"/admin/records/claim/{claim.pk}/history/")
    assert history.status_code == 200 and "ClaimRegistered" in history.content.decode()
    first = claim.history.earliest()
    rows = claim.history.count()
    superuser_client.post(f"/admin/records/claim/{claim.pk}/history/{first.history_id}/", {})
    assert Claim.objects.get(pk=claim.pk).version == claim.version
    assert claim.history.count() == rows
    page = superuser_client.get(f"/admin/records/claim/{claim.pk}/change/").content.decode()
    assert page.count("<tr><td>") >= len(read_stream(claim.pk))  # the record's own events


def test_subjects_are_found_by_an_alias_in_any_script(superuser_client):
    response = superuser_client.get("/admin/records/subject/", {"q": "浙赣战役"})
    assert "Zhejiang-Jiangxi Campaign" in response.content.decode()
    assert Subject.objects.filter(search_text__contains="浙赣战役").exists()


def test_autocomplete_finds_subjects_by_an_alias_in_any_script(archivist_client):
    response = archivist_client.get(
        "/admin/autocomplete/",
        {"app_label": "records", "model_name": "claim", "field_name": "subject", "term": "浙赣"},
    )
    assert response.status_code == 200
    labels = [result["text"] for result in response.json()["results"]]
    assert labels == ["Zhejiang-Jiangxi Campaign"]


def test_the_history_page_shows_what_each_revision_changed(
    client, seeded, archivist, other_archivist
):
    source = Source.objects.get(pk=seed_id("source", SEED_SOURCE))
    revise_seed_source(other_archivist, "Publisher named", publisher="Wikimedia Foundation")
    login(client, other_archivist)
    page = client.get(f"/admin/records/source/{source.pk}/history/").content.decode()
    assert "SourceRevised: Publisher named" in page
    assert "Wikimedia Foundation" in page and "publisher" in page.lower()


def test_line_breaks_sent_by_a_browser_do_not_move_quoted_passages(client, seeded, other_archivist):
    """Browsers send a textarea's line breaks as CRLF. Read back as LF, an untouched source text
    is unchanged, so the offsets its claims quote at still hold."""
    source = Source.objects.get(pk=seed_id("source", SEED_SOURCE))
    assert "\n" in source.full_text
    login(client, other_archivist)
    url = f"/admin/records/source/{source.pk}/change/"
    data = as_posted(client.get(url).context["adminform"].form)
    data.update(
        full_text=data["full_text"].replace("\n", "\r\n"),
        publisher="Wikimedia Foundation",
        reason="Publisher named",
    )
    response = client.post(url, data)
    assert response.status_code == 302, form_errors(response)
    assert Source.objects.get(pk=source.pk).full_text == source.full_text


def test_a_pending_revision_shows_only_what_it_changes(seeded, other_archivist):
    source = Source.objects.get(pk=seed_id("source", SEED_SOURCE))
    added = "A later survey counted 260,000 dead."
    revised = revise_seed_source(
        other_archivist,
        "Publisher and a new paragraph",
        publisher="Wikimedia",
        full_text=source.full_text + "\n" + added,
    )
    changes = {change.field: change for change in staff.changes_from_published("source", revised)}
    assert set(changes) == {"publisher", "full text"}
    assert (changes["publisher"].before, changes["publisher"].after) == (
        source.publisher,
        "Wikimedia",
    )
    # A long text shows as the lines that changed, not twice in full.
    assert f"+{added}" in changes["full text"].diff
    assert len(changes["full text"].diff) < len(source.full_text) / 2


def test_a_reviewer_ranks_and_retracts_a_published_claim_from_its_page(client, seeded, reviewer):
    claim = Claim.objects.get(pk=seed_id("claim", "civilian-deaths-chinese-estimates"))
    login(client, reviewer)
    page = client.get(f"/admin/records/claim/{claim.pk}/change/").content.decode()
    assert 'value="rank"' in page and 'value="retract"' in page
    response = review(client, claim, "rank", rank="preferred", reason="Best sourced")
    assert messages_of(response) == ["Rank set."]
    response = review(client, claim, "retract")
    assert "reason" in messages_of(response)[0]  # a retraction needs a reason, and says so
    review(client, claim, "retract", reason="Misread passage.")
    claim.refresh_from_db()
    assert (claim.rank, claim.status) == ("preferred", Status.RETRACTED)
    page = client.get(f"/admin/records/claim/{claim.pk}/change/").content.decode()
    assert 'value="retract"' not in page  # final: no more buttons


# --- refusals and edge cases found in review -------------------------------------------------


def test_staff_without_a_role_see_no_drafts(client, seeded, other_archivist):
    claim = new_claim(other_archivist)
    nobody = make_user("staff-without-role")
    login(client, nobody)
    assert client.get(f"/admin/records/fact/{claim.fact_id}/change/").status_code == 403
    assert client.get("/admin/review-queue/").status_code == 403
    check = client.get(
        "/admin/records/claim/check-quote/",
        {"source": seed_id("source", SEED_SOURCE), "quote": QUOTE},
    )
    assert check.status_code == 403


def test_garbled_ids_are_not_found(archivist_client):
    assert archivist_client.get("/admin/records/fact/not-a-uuid/change/").status_code == 404
    check = archivist_client.get("/admin/records/claim/check-quote/", {"source": "abc"})
    assert check.status_code == 404


def test_a_valid_revert_from_history_is_refused(client, seeded, other_archivist):
    source = Source.objects.get(pk=seed_id("source", SEED_SOURCE))
    revise_seed_source(other_archivist, "Retitled", title="A new title")
    login(client, other_archivist)
    first = Source.history.filter(id=source.pk).earliest()
    url = f"/admin/records/source/{source.pk}/history/{first.history_id}/"
    page = client.get(url)
    assert page.status_code == 200
    data = as_posted(page.context["adminform"].form)
    data.update(expected_version=Source.objects.get(pk=source.pk).version, reason="Revert")
    events = StoredEvent.objects.count()
    assert client.post(url, data).status_code == 403
    assert Source.objects.get(pk=source.pk).title == "A new title"
    assert StoredEvent.objects.count() == events


def test_a_form_without_a_version_or_with_a_used_event_id_says_so_above_it(
    archivist_client,
):
    source = Source.objects.get(pk=seed_id("source", SEED_SOURCE))
    url = f"/admin/records/source/{source.pk}/change/"
    data = as_posted(archivist_client.get(url).context["adminform"].form)
    data["reason"] = "Publisher named"
    for version in ("", "99"):
        response = archivist_client.post(
            url, {**data, "publisher": "X", "expected_version": version}
        )
        assert response.status_code == 200
        shown = response.context["adminform"].form.non_field_errors()
        assert shown == [NO_VERSION] if version == "" else "version 99" in shown[0]
    saved = archivist_client.post(url, {**data, "publisher": "First"})
    assert saved.status_code == 302
    # The Back button, an edit, and the same form sent again: its event id is spent.
    again = archivist_client.post(url, {**data, "publisher": "Second"})
    assert again.context["adminform"].form.non_field_errors() == [ALREADY_SAVED]
    assert ALREADY_SAVED in again.content.decode()
    assert Source.objects.get(pk=source.pk).publisher == "First"


def test_changing_only_the_best_estimate_keeps_implied_bounds_out_of_the_way(
    client, seeded, other_archivist
):
    claim = new_claim(other_archivist, value={"original": "200,000", "best": 200000})
    login(client, other_archivist)
    url = f"/admin/records/claim/{claim.pk}/change/"
    data = as_posted(client.get(url).context["adminform"].form)
    assert (data["lower"], data["upper"]) == ("", "")
    data.update(original="210,000", best="210000", reason="Corrected figure")
    response = client.post(url, data)
    assert response.status_code == 302, form_errors(response)
    assert Claim.objects.get(pk=claim.pk).quantity_best == 210000


def test_subject_names_round_trip_through_the_names_box(client, seeded, other_archivist):
    band = commands.register_subject(
        kind="organisation",
        names=[{"name": "Boy band", "language": "en"}, {"name": "*NSYNC", "language": "en"}],
        actor=other_archivist,
    )
    login(client, other_archivist)
    url = f"/admin/records/subject/{band.pk}/change/"
    data = as_posted(client.get(url).context["adminform"].form)
    assert data["names"] == "Boy band | en\n*NSYNC | en"
    data.update(subject_kind="object", reason="Kind corrected")
    assert client.post(url, data).status_code == 302
    band.refresh_from_db()
    assert (band.kind, band.label, band.names) == (
        "object",
        "Boy band",
        [
            {"name": "Boy band", "language": "en", "primary": True},
            {"name": "*NSYNC", "language": "en", "primary": False},
        ],
    )
    # "* " (a star and a space) makes a name the label.
    data = as_posted(client.get(url).context["adminform"].form)
    data.update(names="Boy band | en\n* *NSYNC | en", reason="Label")
    assert client.post(url, data).status_code == 302
    band.refresh_from_db()
    assert band.label == "*NSYNC"


def test_a_subject_conflict_does_not_invent_a_names_clash(
    client, seeded, archivist, other_archivist
):
    subject = Subject.objects.get(pk=seed_id("subject", "zhejiang-jiangxi-campaign"))
    login(client, other_archivist)
    url = f"/admin/records/subject/{subject.pk}/change/"
    data = as_posted(client.get(url).context["adminform"].form)
    commands.revise_subject(
        subject_id=subject.pk,
        expected_version=subject.version,
        kind="object",
        names=subject.names,
        reason="Kind",
        actor=archivist,
    )
    extra = subject.names + [{"name": "Sei-Kan sakusen", "language": "ja-Latn"}]
    data.update(names=names_as_text(extra), reason="Romanised Japanese name")
    response = client.post(url, data)
    message = response.context["adminform"].form.non_field_errors()[0]
    assert TAKEN.format(fields="kind") in message and "both changed" not in message
    resend = as_posted(response.context["adminform"].form)
    assert resend["subject_kind"] == "object" and "Sei-Kan sakusen" in resend["names"]


def test_a_change_of_label_shows_in_the_review_diff(seeded, other_archivist):
    subject = Subject.objects.get(pk=seed_id("subject", "zhejiang-jiangxi-campaign"))
    names = [{**name, "primary": name["language"] == "zh-Hans"} for name in subject.names]
    revised = commands.revise_subject(
        subject_id=subject.pk,
        expected_version=subject.version,
        kind=subject.kind,
        names=names,
        reason="Chinese name first",
        actor=other_archivist,
    )
    changes = {change.field: change for change in staff.changes_from_published("subject", revised)}
    assert (changes["label"].before, changes["label"].after) == (
        "Zhejiang-Jiangxi Campaign",
        "浙赣战役",
    )
    assert "浙赣战役 (zh-Hans) [label]" in changes["names"].after


def test_a_review_button_pressed_twice_acts_once(client, seeded, other_archivist):
    claim = new_claim(other_archivist)
    login(client, other_archivist)
    form = {"action": "comment", "comment": "Is this the final toll?", "event_id": uuid.uuid4()}
    for _ in range(2):
        client.post(f"/admin/records/claim/{claim.pk}/review/", form)
    assert ReviewComment.objects.filter(record_id=claim.pk).count() == 1


def test_bars_place_ranges_that_touch_zero_correctly(archivist, reviewer):
    from tests import factories

    world = factories.published_world(archivist, reviewer)
    change = factories.quantity_property(archivist, key="change", count=False, unit="km")
    for lower, best, upper in ((-10, -5, 0), (0, 5, 10)):
        claim = factories.deaths_claim(
            archivist, subject_record=world["subject"], prop=change, src=world["source"], best=best
        )
        commands.revise_claim(
            claim_id=claim.pk,
            expected_version=claim.version,
            value={"original": str(best), "best": best, "lower": lower, "upper": upper},
            citation={"source_id": world["source"].pk, "quote": claim.quote},
            reason="bounds",
            actor=archivist,
        )
    fact = Fact.objects.get(property=change)
    bars = [(bar.left, bar.width, bar.point) for bar in staff.claims_side_by_side(fact)]
    assert bars == [(0.0, 50.0, 25.0), (50.0, 50.0, 75.0)]
