"""Each role's day in a real browser, at 390 px (a phone) and at 1366 px (a desktop): from the home
page to the work waiting, and through it until it is done. Every page passed is checked
(tests/e2e/walk.py): no console error, no failed request, nothing serious or critical for axe-core,
and the page budget measured from what the browser received.

- assessor: the queue of their participants, one participant, the questionnaire submitted;
- supervisor: the decisions waiting, the one the assessor just submitted, approved (phone) or
  rejected with a reason (desktop);
- Pemda staff: their internal campaign, one participant, the pledge confirmed and shown;
- treasurer: money, a hand-over marked as transferred;
- BPJS branch admin: the list awaiting confirmation, confirmed (queued for the worker);
- regency admin: the regency's dashboard, one click from home;
- donor: an open public campaign from home, a pledge, and the pledge on /me/.

One world (tests/role_world.py) for the module's one test; the roles walk one after the other at
each width, and every problem found is listed at the end, not only the first.
"""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from assessments.models import Assessment, Status
from donations.models import Handover, HandoverStatus, Pledge, PledgeStatus
from participants.models import ArrearsImport, ImportStatus
from participants.pseudonym import pseudonym
from tests.e2e.conftest import answer_every_question
from tests.e2e.walk import PageChecks
from tests.page_budget import weights_table

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = {"390px": True, "1366px": False}  # label: phone?
R = "/r/luwu-utara"


@pytest.fixture
def queued_imports(monkeypatch):
    """A confirmed list waits for the worker (no worker runs in these tests: the list of the world
    is a stand-in without rows); the ids that would have been sent to it."""
    sent: list[int] = []
    monkeypatch.setattr("participants.services._enqueue", sent.append)
    return sent


@pytest.fixture
def walk_world(world, tariffs, approve_eligible, district_a, village_a, bpjs_a, donor_user):
    """The world with full pages (its work 20 times over: lists of a page or more) and twice what a
    walk uses up: a second hand-over and list awaiting confirmation, and four eligible participants
    (two for the staff member, two for the donor)."""
    from tests.factories import ArrearsImportFactory
    from tests.role_world import screen

    world.add(18)
    Handover.objects.create(regency=world.regency, campaign=world.collected, number="H-E2E-2",
                            created_by=world.treasurer)
    ArrearsImportFactory(branch=world.branch, status=ImportStatus.AWAITING_CONFIRMATION,
                         as_of=timezone.localdate(), rows=40,
                         preview={"would_clear": 3, "would_clear_by_regency": {world.regency.code: 3},
                                  "pledges_released": 0, "participants": 43, "threshold_percent": 5})
    approve_eligible([screen(world.regency, district=district_a, village=village_a) for _ in range(4)])
    return world


def _first_work(checks: PageChecks, url: str, name: str):
    """Home, then its first work link: the page at `url` (a pattern), checked as `name`."""
    page = checks.page
    checks.check("home")
    page.locator("main a.work-link").first.click()
    expect(page).to_have_url(re.compile(url))
    checks.check(name)
    return page


def _assessor(checks: PageChecks, regency) -> Assessment:
    page = _first_work(checks, r"/assessments/\?status=todo&mine=1$", "queue (mine, to assess)")
    card = page.locator("li[data-participant]").filter(has=page.get_by_role("button", name="Mulai asesmen")).first
    public_id = card.get_attribute("data-participant")
    card.get_by_role("button", name="Mulai asesmen").click()
    expect(page).to_have_url(re.compile(r"/assessments/\d+/$"))
    checks.check("questionnaire (draft)")
    answer_every_question(page, tap=checks.phone)
    expect(page.locator("#save-status")).to_contain_text("Tersimpan", timeout=10_000)
    page.get_by_role("button", name="Ajukan ke supervisor").click()
    expect(page.locator(".messages").first).to_contain_text("diajukan")
    checks.check("queue after submitting")
    assessment = Assessment.objects.for_regency(regency).get(participant__public_id=public_id)
    assert assessment.status == Status.SUBMITTED, f"{checks.who}: the assessment is {assessment.status}"
    return assessment


def _supervisor(checks: PageChecks, regency, assessment: Assessment, *, approve: bool) -> None:
    page = _first_work(checks, r"/assessments/\?status=submitted$", "queue (decisions waiting)")
    card = page.locator(f"li[data-participant='{assessment.participant.public_id}']")
    card.get_by_role("link", name="Tinjau").click()
    expect(page).to_have_url(re.compile(rf"/assessments/{assessment.pk}/$"))
    checks.check("review")
    if approve:
        page.select_option("select[name=action]", "approve")
        page.fill("textarea[name=note]", "Sesuai kunjungan lapangan.")
    else:
        page.select_option("select[name=action]", "reject")
        page.locator(".reason-choices label").first.click()
        page.fill("textarea[name=note]", "Penghasilan keluarga di atas batas.")
    page.get_by_role("button", name="Simpan keputusan").click()
    decided = "approved" if approve else "rejected"
    expect(page.locator("[data-status]").first).to_have_attribute("data-status", decided)
    checks.check(f"review ({decided})")
    assessment.refresh_from_db()
    assert assessment.status == decided, f"{checks.who}: the assessment is {assessment.status}"
    if not approve:
        assert assessment.reason_code, f"{checks.who}: rejected without a reason"


def _pledge_one(checks: PageChecks, campaign) -> Pledge:
    """From the campaign's page: choose the first participant offered, reserve, confirm."""
    page = checks.page
    expect(page.locator("h1")).to_have_text(campaign.title)
    page.get_by_role("link", name="Pilih satu peserta").click()
    checks.check("participants offered")
    card = page.locator("article.card").first
    public_id = card.locator("input[name=participant]").get_attribute("value")
    card.get_by_role("button", name="Bantu peserta ini").click()
    expect(page.locator("h1 .badge")).to_have_text("Dipesan")
    checks.check("pledge (reserved)")
    page.get_by_role("button", name="Konfirmasi janji").click()
    expect(page.locator("h1 .badge")).to_have_text("Dijanjikan")
    checks.check("pledge (confirmed)")
    pledge = Pledge.objects.for_regency(campaign.regency).get(participant__public_id=public_id,
                                                                campaign=campaign)
    assert pledge.status == PledgeStatus.PLEDGED, f"{checks.who}: the pledge is {pledge.status}"
    return pledge


def _staff(checks: PageChecks, world) -> None:
    _first_work(checks, rf"/c/{world.internal.slug}/$", "campaign")
    pledge = _pledge_one(checks, world.internal)
    assert pledge.donor == world.staff


def _treasurer(checks: PageChecks, world) -> None:
    page = _first_work(checks, rf"{R}/money/$", "money")
    handover = Handover.objects.for_regency(world.regency).filter(status=HandoverStatus.DRAFT).earliest("pk")
    page.get_by_role("link", name=handover.number, exact=True).click()
    expect(page).to_have_url(re.compile(rf"/money/handovers/{handover.pk}/$"))
    checks.check("hand-over")
    page.fill("input[name=reference]", f"TRF-{handover.number}")
    page.fill("input[name=transferred_at]", timezone.localdate(timezone=world.regency.tzinfo).isoformat())
    page.locator("input[name=confirm]").check()
    page.get_by_role("button", name="Tandai sudah ditransfer").click()
    expect(page.locator("main")).to_contain_text("Sudah ditransfer")
    checks.check("hand-over (transferred)")
    handover.refresh_from_db()
    assert handover.status == HandoverStatus.TRANSFERRED, f"{checks.who}: the hand-over is {handover.status}"


def _bpjs(checks: PageChecks, world, queued_imports: list[int]) -> None:
    page = _first_work(checks, r"/branches/palopo/imports/\d+/$", "list awaiting confirmation")
    import_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    assert ArrearsImport.objects.get(pk=import_id).status == ImportStatus.AWAITING_CONFIRMATION
    page.locator("input[name=understood]").check()
    page.get_by_role("button", name="Terapkan").click()
    expect(page.locator(".messages").first).to_contain_text("Dikonfirmasi")
    checks.check("list confirmed")
    status = ArrearsImport.objects.get(pk=import_id).status
    assert status in (ImportStatus.QUEUED, ImportStatus.APPLIED), f"{checks.who}: the list is {status}"
    assert queued_imports[-1:] == [import_id], f"{checks.who}: the list was not sent to the worker"


def _admin(checks: PageChecks, world) -> None:
    page = checks.page
    checks.check("home")
    page.get_by_role("link", name=f"Dasbor {world.regency.name}").click()
    expect(page).to_have_url(re.compile(rf"{R}/$"))
    expect(page.locator("main h1").first).to_contain_text(world.regency.name)
    checks.check("regency dashboard")


def _donor(checks: PageChecks, world) -> None:
    page = checks.page
    checks.check("home")
    page.locator("[data-role=public_campaigns]").get_by_role("link", name=world.collected.title).click()
    expect(page).to_have_url(re.compile(rf"/c/{world.collected.slug}/$"))
    checks.check("campaign")
    pledge = _pledge_one(checks, world.collected)
    page.goto("/me/")
    expect(page.locator("article.card").filter(has_text=pseudonym(pledge.participant))).to_have_count(1)
    checks.check("my pledges")


def test_each_role_walks_from_home_to_done(signed_in, walk_world, queued_imports, request, record_property):
    world = walk_world
    walked: list[PageChecks] = []

    def start(fixture: str, width: str, phone: bool) -> PageChecks:
        """The role's browser at this width, on the home page (its pages close with the test)."""
        page = signed_in(request.getfixturevalue(fixture), phone=phone)
        checks = PageChecks(page, f"{fixture} at {width}", phone=phone)
        page.goto("/")
        walked.append(checks)
        return checks

    for width, phone in WIDTHS.items():
        assessment = _assessor(start("assessor_a", width, phone), world.regency)
        _supervisor(start("supervisor_a", width, phone), world.regency, assessment, approve=phone)
        _staff(start("staff_a", width, phone), world)
        _treasurer(start("treasurer_a", width, phone), world)
        _bpjs(start("bpjs_a", width, phone), world, queued_imports)
        _admin(start("admin_a", width, phone), world)
        _donor(start("donor_user", width, phone), world)

    weights = [w for checks in walked for w in checks.weights]
    problems = [p for checks in walked for p in checks.problems]
    table = weights_table(weights)
    print("\n" + table)
    record_property("pages_checked", len(weights))
    assert len(weights) == 2 * 28, f"{len(weights)} pages checked"
    assert not problems, "\n".join(problems) + "\n\n" + table


def test_the_checks_find_what_they_should(new_context):
    """The checks are real: a page that logs an error, loads a missing static file, has an unlabelled
    image and weighs 40 KB of incompressible HTML fails each of them."""
    import secrets

    page = new_context().new_page()
    checks = PageChecks(page, "probe", phone=False)
    html = ('<!doctype html><html lang="id"><head><title>t</title><script src="/static/no-such-file.js"></script>'
            '</head><body><main><img src="/static/css/satu.css"><p>' + secrets.token_hex(40 * 1024)
            + '</p><script>console.error("boom")</script></main></body></html>')
    page.route("**/probe/", lambda route: route.fulfill(body=html, content_type="text/html"))
    page.goto("/probe/")
    weight = checks.check("probe page")
    assert weight.html_gz > 30 * 1024 and not weight.within_budget
    assert weight.assets == ("/static/css/satu.css",)  # what loaded; the missing file weighs nothing
    found = "\n".join(checks.problems)
    assert "404 " in found and "/static/no-such-file.js" in found, found
    assert "console errors" in found and "boom" in found, found
    assert "over the page budget: HTML" in found, found
    assert "image-alt" in found, found
