"""Smoke test in a real browser: an archivist logs into the admin and reads the seeded archive."""

import tomllib

from records.seeding import SEED_FILE


def _seed():
    return tomllib.loads(SEED_FILE.read_text(encoding="utf-8"))


def test_archivist_logs_in_and_reads_sources_and_subjects(seeded, admin_login, shot):
    page = admin_login(seeded.archivist)

    # The index: logged in (no login form), with a way to the sources.
    assert page.url.endswith("/admin/")
    assert page.locator("#login-form").count() == 0
    sources_link = page.locator('#content a[href$="/admin/records/source/"]').first
    sources_link.wait_for()
    shot("index")

    sources_link.click()
    page.wait_for_url("**/admin/records/source/")
    listing = page.locator("#result_list").inner_text()
    assert _seed()["source"]["title"] in listing
    shot("sources")

    # Subjects: the list shows each subject's label; its other names, in any script, are found by
    # the search box and shown on the subject's own page.
    seed_names = next(
        subject["names"]
        for subject in _seed()["subjects"]
        if subject["key"] == "zhejiang-jiangxi-campaign"
    )
    label = next(name["name"] for name in seed_names if name.get("primary"))
    simplified = next(name["name"] for name in seed_names if name["language"] == "zh-Hans")
    japanese = next(name["name"] for name in seed_names if name["language"] == "ja")

    page.goto("/admin/records/subject/")
    page.fill("#searchbar", simplified)
    page.press("#searchbar", "Enter")
    page.wait_for_url("**/admin/records/subject/?q=*")
    results = page.locator("#result_list")
    assert label in results.inner_text()
    assert page.locator("#result_list tbody tr").count() == 1
    shot("subjects-found-by-chinese-name")

    assert page.input_value("#searchbar") == simplified  # the query came back intact

    results.get_by_role("link", name=label).click()
    page.wait_for_url("**/admin/records/subject/*/**")
    # The names row shows them as text, or in a field when the user may edit them.
    names = page.locator(".field-names")
    shown = "\n".join(
        [
            names.inner_text(),
            *names.locator("textarea, input").evaluate_all("es => es.map(e => e.value)"),
        ]
    )
    assert simplified in shown
    assert japanese in shown
    shot("subject")


def test_the_api_docs_render_under_the_content_security_policy(page, shot):
    # Swagger UI starts from a script served by this site (no inline script, no CDN); the page
    # fixture fails the test if the policy blocked anything.
    page.goto("/api/docs/")
    page.locator(".swagger-ui .info .title").wait_for()
    assert "Strata public API" in page.locator(".swagger-ui .info .title").inner_text()
    page.locator(".opblock-summary-path", has_text="/api/v1/facts/").first.wait_for()
    shot("api-docs")
