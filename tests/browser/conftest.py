"""Real-browser tests of the admin: Debian's Chromium, driven by Playwright, against a live server.

Fixtures:

- ``browser`` (session): a headless Chromium from ``/usr/bin/chromium``. Nothing is downloaded:
  never run ``playwright install``. Without Chromium the browser tests skip, or fail under CI.
- ``live_site`` (function): pytest-django's live server over committed transactions, on the
  database of this run (SQLite or PostgreSQL). Use it rather than ``live_server`` (see below).
- ``page`` (function): a fresh browser context and page whose relative URLs go to ``live_site``.
- ``admin_login(user, password=...)``: gives ``user`` a usable password and logs in through the
  admin's login form; returns the page, on the admin index.
- ``seeded``: the seed archive, loaded by an archivist and a reviewer (``seeded.archivist``...).
- ``shot(name)``: a full-page screenshot into
  ``test-artifacts/screenshots/<test name>/<NN>-<name>.png``. A failing test gets one too.

The database: every test here runs on committed transactions (``committed_db``), since the live
server answers from its own thread and connection. Its flush at teardown has to lift the event
log's append-only triggers, and ``_append_only_restored`` has to be set up *before* Django's
transactional fixture so that it puts them back *after* the flush. pytest-django starts
``transactional_db`` early, from an autouse helper, for any test that names ``live_server``:
that would put the triggers back before the flush, and the flush would fail. So the database comes
from the autouse ``_browser_database`` below, and ``live_site`` asks for ``live_server`` only
once that is in place; the shared ``archivist``/``reviewer`` fixtures are safe to use after it.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu"]
# Long enough for a cold admin page on a busy CI machine, short enough that a wrong selector
# fails in seconds rather than after Playwright's default 30.
TIMEOUT_MS = 10_000
PASSWORD = "browser-test-password-4815"
BROWSER_DIR = Path(__file__).resolve().parent


def _under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _unavailable(reason: str):
    """Skip on a developer's machine; fail under CI, where the browser must be there."""
    if _under_ci():
        pytest.fail(f"{reason} (CI=true: browser tests must run, not skip)", pytrace=False)
    pytest.skip(reason)


def _is_browser_test(item: pytest.Item) -> bool:
    return BROWSER_DIR in Path(item.path).resolve().parents


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the browser tests last: while the browser is open (see ``browser``) Django's
    async-unsafe check is off and the test thread sees an asyncio loop running; running them last
    keeps every other test free of both."""
    items.sort(key=_is_browser_test)  # stable: every other order is kept


@pytest.fixture(scope="session")
def _serialized_contents(django_db_setup):
    """What the migrations stored (the roles), as Django serialized it for
    ``serialized_rollback``, taken from the test thread's connections before the browser opens."""
    from django.db import connections

    return {
        alias: connections[alias]._test_serialized_contents
        for alias in connections
        if hasattr(connections[alias], "_test_serialized_contents")
    }


@pytest.fixture(scope="session")
def browser(_serialized_contents):
    """Headless Chromium, for the session.

    Playwright's sync API runs an asyncio event loop in the test thread from ``start()`` to
    ``stop()``: a greenlet runs it, and the test's code runs beside it, in the same thread, while
    asyncio still counts it as running. Two consequences for Django, for as long as the browser is
    open:

    - Django refuses every ORM call from a thread with a running loop (SynchronousOnlyOperation),
      taking it for async code. The calls here are plain synchronous ones (the loop only runs
      while Playwright waits on the browser), so ``DJANGO_ALLOW_ASYNC_UNSAFE`` lifts the check,
      from launch to close and no longer; the browser tests run last (above).
    - Django's connections are thread-local, but asgiref keeps them per context instead when a
      loop runs: the test thread gets fresh connection objects, to the same test database, that
      lack what Django serialized for ``serialized_rollback`` (so an earlier test's flush would
      leave the roles missing). ``_browser_connections`` hands that over; the connections are
      closed here, before the loop stops, or they would stay open (and PostgreSQL would refuse
      to drop the test database at the end).
    """
    if not os.path.exists(CHROMIUM):
        _unavailable(
            f"no Chromium at {CHROMIUM}: install Debian's package "
            "(sudo apt-get install chromium) to run the browser tests"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed: pip install -e '.[dev]'")
    from django.db import connections

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        playwright = sync_playwright().start()
        try:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Exception as error:
            playwright.stop()
            _unavailable(f"Chromium at {CHROMIUM} did not start: {error}")
        try:
            yield chromium
        finally:
            connections.close_all()  # the ones made while the loop ran (see above)
            chromium.close()
            playwright.stop()


@pytest.fixture
def _browser_connections(browser, _serialized_contents):
    """The test thread's connections while the browser is open, with what serialized rollback
    restores (see ``browser``)."""
    from django.db import connections

    for alias, contents in _serialized_contents.items():
        connections[alias]._test_serialized_contents = contents


@pytest.fixture(autouse=True)
def _browser_database(_browser_connections, committed_db, request):
    """Committed transactions for every browser test, set up before anything else touches the
    database (see the module's docstring), and after the browser, so that a missing Chromium
    skips the test before any database work of its own."""
    if "live_server" in request.fixturenames:
        pytest.fail(
            "browser tests use the live_site fixture, not live_server: naming live_server makes "
            "pytest-django flush the database before the append-only triggers are lifted",
            pytrace=False,
        )


@pytest.fixture
def live_site(_browser_database, request, settings):
    """pytest-django's live server (started once per session), for this test's database."""
    server = request.getfixturevalue("live_server")
    # What pytest-django's helper does for a test that names live_server: serve its host.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, server.thread.host]
    return server


@pytest.fixture
def page(browser, live_site, request):
    """A page in a fresh context (no cookies), whose relative URLs go to ``live_site``. The test's
    screenshot folder is emptied first."""
    shutil.rmtree(_shot_dir(request), ignore_errors=True)
    context = browser.new_context(
        base_url=live_site.url, viewport={"width": 1280, "height": 800}, locale="en-US"
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    # Chromium reports what the Content-Security-Policy blocked on the console: any such report
    # means a page needs something the policy forbids (an inline script, a foreign asset).
    blocked: list[str] = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield page
    report = getattr(request.node, "_browser_call_report", None)
    if report is not None and report.failed:
        try:
            _save(page, _shot_dir(request), "failure")
        except Exception as error:  # noqa: BLE001 - a failed screenshot must not hide the failure
            print(f"could not save the failure screenshot: {error}")
    context.close()
    assert not blocked, f"the Content-Security-Policy blocked part of a page: {blocked}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Keep the test's own outcome on the item, for ``page`` to screenshot a failure."""
    report = yield
    if report.when == "call" and _is_browser_test(item):
        item._browser_call_report = report
    return report


def _shot_dir(request: pytest.FixtureRequest) -> Path:
    name = re.sub(r"[^\w.\-\[\]]+", "_", request.node.name)
    return Path(request.config.rootpath) / "test-artifacts" / "screenshots" / name


def _save(page, folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    number = len(list(folder.glob("*.png"))) + 1
    safe_name = re.sub(r"[^\w.\-]+", "_", name)
    path = folder / f"{number:02d}-{safe_name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def shot(page, request):
    """``shot("sources")`` saves the whole page as
    test-artifacts/screenshots/<test>/01-sources.png (then 02-..., 03-...), and returns the path."""
    folder = _shot_dir(request)

    def take(name: str) -> Path:
        return _save(page, folder, name)

    return take


@pytest.fixture
def admin_login(page, settings):
    """``admin_login(user)`` logs ``user`` in through the admin's login form and returns the page,
    on the admin index. The user gets ``password`` as a usable password first (accounts made by
    ``tests.conftest.make_user`` have none)."""

    # The default hasher takes about half a second a hash, twice a login: the tests would spend
    # their time hashing. The live server runs in this process, so it hashes the same way.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    def login(user, password: str = PASSWORD):
        user.set_password(password)
        user.save(update_fields=["password"])
        page.goto("/admin/login/?next=/admin/")
        page.fill("#id_username", user.get_username())
        page.fill("#id_password", password)
        with page.expect_navigation():
            page.click("#login-form [type=submit]")
        if "/admin/login/" in page.url:
            errors = page.locator(".errornote, .errorlist").all_inner_texts()
            raise AssertionError(f"admin login of {user.get_username()!r} failed: {errors}")
        return page

    return login


@pytest.fixture
def seeded(archivist, reviewer):
    """The seed archive, registered by ``archivist`` and published by ``reviewer``."""
    from records.seeding import load_seeds

    report = load_seeds(archivist=archivist, reviewer=reviewer)
    return SimpleNamespace(archivist=archivist, reviewer=reviewer, report=report)
