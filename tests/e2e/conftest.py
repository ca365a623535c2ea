"""Real-browser tests: Playwright (sync API) driving Debian's Chromium against pytest-django's live server.

- Chromium is the system one (`/usr/bin/chromium`, or `SATU_CHROMIUM`); `make test`
  installs it when it is missing (scripts/browser.py). Playwright's own browser
  download is never used.
- The live server runs in a thread of this process on the test database
  (`transactional_db`: every test's data is committed so the server thread sees it,
  and the tables are emptied afterwards).
- Background work: the test settings run Celery tasks eagerly (in the request).
  Journey (a) instead keeps the upload queued (`participants.services._enqueue`
  patched to record the id) and then runs the real task `import_run_task` from the
  test, standing in for the worker, while the browser sits on the report page: the
  progress bar is seen at 0 %, htmx polls, and it reaches 100 % / "Diterapkan"
  without a reload. No worker process is started (quicker, and nothing outlives the
  test database).
- Every test is marked `e2e`; a failing test leaves a full-page screenshot of each of
  its open pages in tests/e2e/artifacts/ (gitignored).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from scripts.browser import CHROMIUM_ARGS, chromium_path
from tests.e2e.axe import AXE_RESULTS

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": ("Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
                   "Chrome/156.0.0.0 Mobile Safari/537.36"),
}
# Playwright's default wait is 30 s; a page of this app that takes 15 s is a failure.
TIMEOUT_MS = 15_000


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="package")
def playwright_driver():
    """Playwright's sync API runs an event loop in the main thread while it is started;
    Django then refuses ORM calls from that thread (the tests' fixtures and assertions)
    unless DJANGO_ALLOW_ASYNC_UNSAFE says that this is fine, which it is: the loop is
    Playwright's. Both live only while the tests of this folder run: the tests after
    them (and `manage.py check --deploy` in a subprocess) see neither."""
    from playwright.sync_api import sync_playwright

    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as driver:
            yield driver
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture(scope="package")
def browser(playwright_driver):
    browser = playwright_driver.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def open_contexts(request):
    """Every browser context a test opens; closed afterwards (screenshots are taken first)."""
    contexts: list = []
    request.node.stash[_CONTEXTS] = contexts
    yield contexts
    for context in contexts:
        context.close()


_CONTEXTS = pytest.StashKey[list]()


@pytest.fixture
def new_context(browser, live_server, open_contexts):
    """`new_context(phone=False)`: a fresh browser (own cookies) pointed at the live server."""

    def make(*, phone: bool = False, **options):
        settings = {**(PHONE if phone else {"viewport": {"width": 1280, "height": 900}}), **options}
        context = browser.new_context(base_url=live_server.url, locale="id-ID",
                                      timezone_id="Asia/Makassar", **settings)
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        open_contexts.append(context)
        return context

    return make


@pytest.fixture
def login(new_context, password):
    """`login(user, phone=False)`: a page signed in as `user` through the real login form."""

    def sign_in(user, *, phone: bool = False):
        page = new_context(phone=phone).new_page()
        page.goto("/accounts/login/")
        page.fill("input[name=login]", user.email)
        page.fill("input[name=password]", password)
        with page.expect_navigation():
            page.click("form:has(input[name=login]) button[type=submit]")
        assert "/accounts/login/" not in page.url, (
            f"login as {user.email} failed: {page.locator('main').inner_text()[:500]}"
        )
        return page

    return sign_in


@pytest.fixture
def arrears_in_luwu_utara(tmp_path, branch_a, regency_a, district_a, village_a):
    """Five participants of Luwu Utara in arrears, through a real (small) import, so screening
    has put them in the assessment queue."""
    import zoneinfo

    from django.utils import timezone

    from participants.models import Participant
    from tests.participants.importing import line, run_import

    today = timezone.localdate(timezone=zoneinfo.ZoneInfo(branch_a.timezone))
    imp = run_import(branch_a, tmp_path, [line(n, months=4 + n) for n in range(1, 6)], as_of=today)
    assert imp.status == "applied", imp.message
    return list(Participant.objects.for_regency(regency_a).order_by("pk"))


# --- accessibility (helpers in tests/e2e/axe.py) ---


def pytest_terminal_summary(terminalreporter):
    if AXE_RESULTS:
        terminalreporter.write_sep("-", f"axe-core on {len(AXE_RESULTS)} pages")
        for name, info in sorted(AXE_RESULTS.items()):
            minor = ", ".join(info["minor_or_moderate"]) or "-"
            terminalreporter.write_line(
                f"{name}: {info['serious_or_critical']} serious/critical, other: {minor}"
            )


# --- screenshots on failure -------------------------------------------------------------


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed and report.when in {"setup", "call"}:
        contexts = item.stash.get(_CONTEXTS, [])
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid.split("::", 1)[-1])[:120]
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        saved = []
        for c, context in enumerate(contexts):
            for p, page in enumerate(context.pages):
                path = ARTIFACTS / f"{name}-{c}-{p}.png"
                try:
                    page.screenshot(path=str(path), full_page=True)
                except Exception as exc:
                    report.sections.append(("screenshot", f"{path.name}: not saved ({exc})"))
                    continue
                saved.append(str(path.relative_to(ARTIFACTS.parents[2])))
        if saved:
            report.sections.append(("screenshots", "\n".join(saved)))
    return report
