"""The archivists' and reviewers' day, in Chromium: a conflicting estimate from a new source goes
from the forms through review to the public API; four eyes and version conflicts show on screen.
Screenshots of every step land in test-artifacts/screenshots/<test>/."""

import json

from records import commands
from records.models import Claim, Source, Subject
from records.models.projections import Status, fact_id_for
from records.seeding import seed_id
from records.workflow import OWN_WORK
from tests.conftest import make_user

DIARY = "Diary of a missionary in Nanchang"
PASSAGE = "By the end of the summer the mission had buried 12,000 civilians from the villages."
SEED_SOURCE = "wikipedia-doolittle-zhejiang-jiangxi"
DEATHS = fact_id_for(
    seed_id("subject", "zhejiang-jiangxi-campaign"), seed_id("property", "civilian-deaths")
)


def pick(page, field: str, typed: str, option: str) -> None:
    """Choose in an admin autocomplete (select2): open it, type, click the option."""
    page.locator(f".field-{field} .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill(typed)
    page.locator(".select2-results__option", has_text=option).click()


def logout(page) -> None:
    page.locator("#logout-form button").click()
    page.wait_for_url("**/admin/logout/")


def test_a_conflicting_estimate_goes_from_the_archivist_through_review_to_the_public(
    seeded, admin_login, page, shot
):
    # The archivist registers the source the new estimate comes from.
    page = admin_login(seeded.archivist)
    page.goto("/admin/records/source/add/")
    page.fill("#id_title", DIARY)
    page.fill("#id_licence", "Public domain")
    page.fill("#id_full_text", f"Nanchang, 1942.\n{PASSAGE}\nThe rains came late.")
    shot("source-form")
    page.click("input[name=_continue]")
    page.locator(".messagelist .success").wait_for()
    page.click("button[name=submit-for-review]")
    assert "Submitted for review" in page.locator(".messagelist").inner_text()
    shot("source-submitted")

    # On the fact's page, the seeded estimates stand side by side; add another one.
    page.goto("/admin/records/fact/?q=civilian")
    page.get_by_role("link", name="civilian deaths").first.click()
    assert page.locator(".strata-claim").count() == 2
    assert page.locator(".strata-range").count() == 2
    shot("fact-page-before")
    page.click("#add-estimate")
    assert "Zhejiang-Jiangxi Campaign" in page.locator(".field-subject").inner_text()
    assert page.locator("#id_property option:checked").inner_text() == "civilian deaths"
    page.fill("#id_original", "12,000")
    page.fill("#id_best", "12000")
    pick(page, "source", "Nanchang", DIARY)
    page.fill("#id_quote", "the mission had buried 12,000 civilians")
    page.fill("#id_locator", "entry of 1 September")
    # The citation helper finds the quote in the source and highlights it.
    highlight = page.locator("#quote-check mark")
    highlight.wait_for()
    assert highlight.inner_text() == "the mission had buried 12,000 civilians"
    shot("claim-form-with-citation-helper")
    page.click("input[name=_continue]")
    page.locator(".messagelist .success").wait_for()
    page.click("button[name=submit-for-review]")
    assert "Submitted for review" in page.locator(".messagelist").inner_text()
    shot("claim-submitted")
    claim = Claim.objects.get(original_wording="12,000")
    source = Source.objects.get(title=DIARY)
    assert claim.status == source.status == Status.IN_REVIEW
    logout(page)

    # The reviewer finds both in the queue, with what they change, and approves them.
    admin_login(seeded.reviewer)
    assert page.locator("#queue-count").inner_text() == "2"
    page.click("text=Review queue")
    assert page.locator(".strata-pending").count() == 2
    shot("review-queue")
    for record in (source, claim):
        section = page.locator(f'.strata-pending[data-record="{record.pk}"]')
        section.locator("textarea[name=comment]").fill("Checked against the diary.")
        section.locator("button[value=approve]").click()
        assert "Approved" in page.locator(".messagelist").inner_text()
    assert page.locator(".strata-pending").count() == 0
    shot("queue-empty")

    # The public API now shows the new estimate beside the seeded ones, and the dispute.
    page.goto(f"/api/v1/facts/{DEATHS}/?format=json")
    fact = json.loads(page.locator("body").inner_text())
    wordings = sorted(claim["original_wording"] for claim in fact["claims"])
    assert wordings == ["12,000", "250,000", "around 250,000"]
    assert fact["summary"]["disputed"] is True
    shot("public-api")


def test_the_authors_own_approval_is_refused_on_screen(seeded, admin_login, page, shot):
    both_roles = make_user("archivist-and-reviewer", "Administrator")
    claim = commands.register_claim(
        subject_id=seed_id("subject", "zhejiang-jiangxi-campaign"),
        property_id=seed_id("property", "civilian-deaths"),
        value={"original": "about 250,000", "best": 250000, "approximate": True},
        citation={
            "source_id": seed_id("source", SEED_SOURCE),
            "quote": "Chinese estimates put the death toll at 250,000 civilians.",
            "locator": "paragraph 6",
        },
        actor=both_roles,
    )
    commands.submit_for_review(record_type="claim", record_id=claim.pk, actor=both_roles)

    admin_login(both_roles)
    page.goto(f"/admin/records/claim/{claim.pk}/change/")
    shot("own-claim-in-review")
    page.locator("#review-panel button[value=approve]").click()
    error = page.locator(".messagelist .error")
    assert error.inner_text() == OWN_WORK.format(revision=1, kind="claim")
    assert page.locator("#review-panel [data-status]").get_attribute("data-status") == "in_review"
    shot("refused")
    assert Claim.objects.get(pk=claim.pk).status == Status.IN_REVIEW


def test_a_stale_form_shows_its_conflict_and_keeps_the_input(
    seeded, admin_login, page, shot, other_archivist
):
    source = Source.objects.get(pk=seed_id("source", SEED_SOURCE))
    page = admin_login(seeded.archivist)
    page.goto(f"/admin/records/source/{source.pk}/change/")
    page.fill("#id_publisher", "Wikimedia Foundation")
    page.fill("#id_reason", "Publisher named")
    shot("editing")

    # Meanwhile a colleague saves a revision of the same source.
    fields = {name: getattr(source, name) for name in Source.CONTENT_FIELDS}
    commands.revise_source(
        source_id=source.pk,
        expected_version=source.version,
        **{**fields, "attribution": "Wikipedia contributors"},
        reason="Attribution added",
        actor=other_archivist,
    )

    page.click("input[name=_continue]")
    conflict = page.locator(".errornote + ul.errorlist, ul.errorlist.nonfield").first
    assert "Someone saved this source after you opened it" in conflict.inner_text()
    assert page.input_value("#id_publisher") == "Wikimedia Foundation"
    assert page.input_value("#id_reason") == "Publisher named"
    # The colleague's change to a field this archivist left alone is merged into the form.
    assert page.input_value("#id_attribution") == "Wikipedia contributors"
    shot("conflict")
    assert Source.objects.get(pk=source.pk).publisher != "Wikimedia Foundation"

    # Having looked, the archivist saves again: the revision goes over the colleague's.
    page.click("input[name=_continue]")
    page.locator(".messagelist .success").wait_for()
    shot("saved-after-conflict")
    saved = Source.objects.get(pk=source.pk)
    assert (saved.publisher, saved.attribution) == (
        "Wikimedia Foundation",
        "Wikipedia contributors",
    )


# Families that hold Chinese and Japanese glyphs (Debian's fonts-wqy-microhei, Noto CJK, ...).
CJK_FAMILIES = ("WenQuanYi", "Noto Sans CJK", "Noto Serif CJK", "Source Han", "Droid Sans Fallback")


def test_chinese_and_japanese_names_render_with_real_glyphs(seeded, admin_login, page, shot):
    """Asks Chromium which fonts drew the names: a CJK family must draw the Han and kana, or the
    reader would see empty boxes."""
    subject = Subject.objects.get(pk=seed_id("subject", "zhejiang-jiangxi-campaign"))
    admin_login(seeded.reviewer)  # a reviewer sees the names as text, not in a form field
    page.goto(f"/admin/records/subject/{subject.pk}/change/")
    names = page.locator(".field-every_name .readonly")
    for name in ("浙贛作戦", "浙赣战役", "浙赣戰役"):
        assert name in names.inner_text()
    shot("subject-names")

    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    spans = cdp.send("DOM.querySelectorAll", {"nodeId": root, "selector": ".field-every_name span"})
    han = 0
    for node in spans["nodeIds"]:
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        han += sum(
            font["glyphCount"]
            for font in fonts
            if any(family in font["familyName"] for family in CJK_FAMILIES)
        )
    cjk_characters = sum(1 for name in subject.names for char in name["name"] if ord(char) > 0x2E80)
    assert han >= cjk_characters > 0
