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
def csp_violations(request):
    """What the browser refused under the app's Content-Security-Policy in this test (its console
    messages naming the policy). Any left at the end of a test fail it (pytest_runtest_call)."""
    violations: list[str] = []
    request.node.stash[_CSP_VIOLATIONS] = violations
    return violations


_CSP_VIOLATIONS = pytest.StashKey[list]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield
    violations = item.stash.get(_CSP_VIOLATIONS, [])
    if violations:
        pytest.fail("Content-Security-Policy violations (inline script/style or a foreign source):\n"
                    + "\n".join(violations), pytrace=False)
    return result


@pytest.fixture
def new_context(browser, live_server, open_contexts, csp_violations):
    """`new_context(phone=False)`: a fresh browser (own cookies) pointed at the live server.
    Every page of it reports what the Content-Security-Policy refused (`csp_violations`)."""

    def make(*, phone: bool = False, **options):
        settings = {**(PHONE if phone else {"viewport": {"width": 1280, "height": 900}}), **options}
        context = browser.new_context(base_url=live_server.url, locale="id-ID",
                                      timezone_id="Asia/Makassar", **settings)
        context.on("console", lambda message: (
            csp_violations.append(f"{message.page.url if message.page else '?'}: {message.text}")
            if "Content Security Policy" in message.text else None
        ))
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        open_contexts.append(context)
        return context

    return make


@pytest.fixture
def login(new_context, password):
    """`login(user, phone=False)`: a page signed in as `user` through the real login form; a
    user with MFA (every role: tests.factories enrols TOTP_SECRET) then types the current
    TOTP code on allauth's MFA page, as a person would."""

    def sign_in(user, *, phone: bool = False):
        page = new_context(phone=phone).new_page()
        submit_password(page, user.email, password)
        assert "/accounts/login/" not in page.url, (
            f"login as {user.email} failed: {page.locator('main').inner_text()[:500]}"
        )
        if "/accounts/2fa/authenticate/" in page.url:
            enter_totp_code(page)
        return page

    return sign_in


def submit_password(page, email: str, password: str) -> None:
    """The login form's first step: the e-mail address and the password, submitted."""
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("form:has(input[name=login]) button[type=submit]")


def enter_totp_code(page, secret: str | None = None) -> None:
    """Type the current TOTP code on allauth's MFA page. A code is accepted once: when this
    user's current one was already used in this test, wait for the next 30 s period."""
    import time

    from tests.factories import TOTP_SECRET, totp_code

    for attempt in range(2):
        page.fill("input[name=code]", totp_code(secret or TOTP_SECRET))
        with page.expect_navigation():
            page.press("input[name=code]", "Enter")  # the form's own submit, not "Cancel"
        if "/accounts/2fa/authenticate/" not in page.url:
            return
        if attempt == 0:
            time.sleep(30 - time.time() % 30 + 0.5)
    raise AssertionError(f"the TOTP code was refused: {page.locator('main').inner_text()[:500]}")


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


@pytest.fixture
def signed_in(new_context):
    """`signed_in(user, phone=False)`: a page with `user`'s session, at 390 px (a phone) or 1366 px
    (a desktop), made by the test client: the login journey itself is the `login` fixture's."""
    from django.test import Client

    def open_page(user, *, phone: bool = False):
        client = Client()
        client.force_login(user)
        context = new_context(phone=True) if phone else new_context(viewport={"width": 1366, "height": 900})
        page = context.new_page()
        page.goto("/")
        context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": page.url}])
        return page

    return open_page


def answer_every_question(page, *, tap: bool = False) -> None:
    """The questionnaire of assessments/questionnaire.py, the way an assessor fills it in: tapped
    on a phone, clicked on a desktop."""
    from django.utils import timezone

    page.fill("#q-visit_date-input", timezone.localdate().isoformat())
    page.fill("#q-household_size-input", "4")
    page.fill("#q-dependants-input", "2")
    for choice in (
        "main_occupation-farmer",
        "income_band-below_half",
        "assets-motorbike",
        "housing-own_simple",
        "arrears_reason-cannot_afford",
        "recent_hospitalisation-false",
        "under_treatment-false",
        "keep_paying-willing_able",
        "consent-yes",  # the label is the tap target on a phone
    ):
        label = page.locator(f"label[for=q-{choice}]")
        label.tap() if tap else label.click()
    page.fill("#q-notes-input", "Kunjungan rumah; keluarga petani kakao.")


# --- each role's work (tests/role_world.py) ------------------------------------------------


@pytest.fixture
def world(regency_a, branch_a, assessor_a, supervisor_a, staff_a, treasurer_a, admin_a):
    """Luwu Utara with every role's work waiting (two of each)."""
    from tests.role_world import world_with_work

    users = {"assessor": assessor_a, "supervisor": supervisor_a, "staff": staff_a, "treasurer": treasurer_a,
             "admin": admin_a}
    return world_with_work(regency_a, branch_a, **users)


@pytest.fixture
def donor_user(world):
    """A community donor with one pledge to pay in the world's public (collected) campaign."""
    from donations.services import donor_profile_ensure
    from tests.factories import UserFactory
    from tests.role_world import pledge

    user = UserFactory(email="donatur.e2e@example.test")
    donor_profile_ensure(user=user)
    pledge(world.collected, user)
    return user


# --- donations (journeys c and d) ---------------------------------------------------------


@pytest.fixture
def tariffs(transactional_db):
    """The contribution tariffs (Perpres 64/2020) that a donations migration seeds. These tests
    are transactional: the flush after an earlier one empties every table, seeded rows
    included, so they are put back (pledge amounts are quoted from them)."""
    from importlib import import_module

    from donations.models import Tariff

    seed = import_module("donations.migrations.0003_seed_tariffs")
    for care_class, amount, effective_from, note in seed.TARIFFS:
        Tariff.objects.get_or_create(care_class=care_class, effective_from=effective_from,
                                     defaults={"amount": amount, "note": note})


@pytest.fixture
def import_arrears(tmp_path, branch_a):
    """`import_arrears(rows, as_of=, mode="full")`: an arrears list of KC Palopo through the real
    pipeline (import_create, then import_run as the worker runs it), so whatever listens to
    `arrears_import_applied` (screening, reconciliation) runs as in production (Celery eager)."""
    import zoneinfo

    from django.utils import timezone

    from participants.models import ArrearsImport
    from participants.services import import_create
    from participants.tasks import import_run_task
    from tests.participants.importing import write_file

    def run(rows, *, as_of=None, mode: str = "full", name: str | None = None):
        day = as_of or timezone.localdate(timezone=zoneinfo.ZoneInfo(branch_a.timezone))
        path = write_file(tmp_path, rows, name or f"tunggakan-{day.isoformat()}-{mode}-{len(rows)}.csv")
        arrears_import, duplicate = import_create(branch=branch_a, actor=None, uploaded_file=path, as_of=day,
                                                  mode=mode, enqueue=False)
        assert not duplicate
        import_run_task(arrears_import.pk)
        arrears_import = ArrearsImport.objects.get(pk=arrears_import.pk)
        assert arrears_import.status == "applied", arrears_import.message
        return arrears_import

    return run


@pytest.fixture
def import_named(import_arrears, regency_a, district_a, village_a):
    """`import_named(names, skip=(), name=None)`: a list of KC Palopo with one participant of Luwu
    Utara per name (card numbers 00023000000001 on; the n-th has 2 + n months in arrears), without
    the 1-based positions in `skip`; returns the import and the participants by card number."""
    from participants.models import Participant
    from tests.participants.importing import line

    def run(names, *, skip=frozenset(), **options):
        rows = [line(n, name=name, months=2 + n, card_number=f"00023{n:08d}")
                for n, name in enumerate(names, 1) if n not in skip]
        arrears_import = import_arrears(rows, **options)
        return arrears_import, list(Participant.objects.for_regency(regency_a).order_by("card_number"))

    return run


@pytest.fixture
def open_campaign(tariffs, regency_a, admin_a):
    """`open_campaign(slug, title, story, audience, target)`: an active one-to-one campaign of Luwu
    Utara made by its admin, holding a reservation 72 hours."""
    from donations.models import CampaignStatus, Kind
    from donations.services import campaign_create

    def make(slug: str, title: str, story: str, audience, target: int):
        return campaign_create(regency=regency_a, actor=admin_a, slug=slug, title=title, story=story,
                               audience=audience, kind=Kind.ONE_TO_ONE, status=CampaignStatus.ACTIVE,
                               target_participants=target, hold_hours=72)

    return make


@pytest.fixture
def approve_eligible(regency_a, assessor_a, supervisor_a):
    """`approve_eligible(participants)`: each through the assessment workflow's services: the
    assessor starts, answers and submits; the supervisor (another user: four eyes) approves."""
    from django.utils import timezone

    from assessments import services

    answers = {
        "visit_date": timezone.localdate(timezone=regency_a.tzinfo).isoformat(), "household_size": 4,
        "dependants": 2, "main_occupation": "farmer", "income_band": "below_half", "assets": ["motorbike"],
        "housing": "own_simple", "arrears_reason": "cannot_afford", "recent_hospitalisation": False,
        "under_treatment": False, "keep_paying": "willing_able", "consent": True,
    }

    def approve(participants) -> None:
        for participant in participants:
            assessment = services.assessment_start(regency=regency_a, actor=assessor_a, participant=participant)
            assessment = services.assessment_save_answers(assessment=assessment, actor=assessor_a, answers=answers)
            assessment = services.assessment_submit(assessment=assessment, actor=assessor_a)
            approved = services.assessment_approve(assessment=assessment, actor=supervisor_a,
                                                   note="Sesuai kunjungan lapangan.")
            assert approved.status == "approved"

    return approve


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
