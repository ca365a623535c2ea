"""Phone (390 px) and desktop (1366 px) layouts of the work pages: the assessment queue, the
supervisor's review, the members page, the regency dashboard, an import report and a pledge's
journey. On each: nothing wider than the screen, no amount of money broken over two lines, step
numbers clear of the timestamps, and axe-core's serious/critical rules clean; plus what each page
promises on a phone (cards without bullets, members as cards, answers and reasons readable)."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)

SLUG = "luwu-utara"
DESKTOP = {"viewport": {"width": 1366, "height": 768}}
SIZES = {"phone": True, "desktop": False}

ANSWERS = {
    "household_size": 4, "dependants": 2, "main_occupation": "farmer", "income_band": "below_half",
    "assets": ["motorbike"], "housing": "own_simple", "arrears_reason": "cannot_afford",
    "recent_hospitalisation": False, "under_treatment": False, "keep_paying": "willing_able", "consent": True,
}

# Every "Rp…" amount in the page's text: a Range over just the amount tells whether its glyphs sit
# on more than one line (a block's getClientRects() is always one box, a text range's is per line).
WRAPPED_AMOUNTS_JS = """() => {
  const found = [], wrapped = [];
  const walker = document.createTreeWalker(document.querySelector("main") || document.body, NodeFilter.SHOW_TEXT);
  const pattern = /Rp\\s?\\d{1,3}(?:\\.\\d{3})*/g;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const match of node.data.matchAll(pattern)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
      if (lines.size === 0) continue;  // hidden
      found.push(match[0]);
      if (lines.size > 1) wrapped.push(match[0]);
    }
  }
  return {found, wrapped};
}"""

STEP_OVERLAPS_JS = """() => {
  const boxes = sel => [...document.querySelectorAll(sel)].map(e => e.getBoundingClientRect());
  const numbers = boxes(".steps .step-no"), times = boxes(".steps .step-at");
  const hit = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  let overlaps = 0;
  for (const n of numbers) for (const t of times) if (hit(n, t)) overlaps++;
  return {numbers: numbers.length, times: times.length, overlaps};
}"""


def _check_layout(page, name: str) -> dict:
    """The checks every page passes; returns the amounts found (for page-specific assertions)."""
    screen = 390 if "(phone)" in name else 1366
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    # A mobile browser widens its layout viewport to fit a page that is too wide (zoomed out), so
    # innerWidth is compared with the screen too, not only the page with innerWidth.
    assert width[1] == screen, f"{name}: the browser widened the page to {width[1]} px to fit it"
    assert width[0] <= screen, f"{name}: the page is {width[0]} px wide on a {screen} px screen"
    amounts = page.evaluate(WRAPPED_AMOUNTS_JS)
    assert not amounts["wrapped"], f"{name}: amounts broken over two lines: {amounts['wrapped']}"
    steps = page.evaluate(STEP_OVERLAPS_JS)
    assert steps["overlaps"] == 0, f"{name}: step numbers overlap timestamps: {steps}"
    assert_accessible(page, name)
    return {"amounts": amounts["found"], "steps": steps}


def _page(login, user, size: str):
    page = login(user, phone=SIZES[size])
    if size == "desktop":
        page.set_viewport_size(DESKTOP["viewport"])
    assert page.evaluate("window.innerWidth") == (390 if size == "phone" else 1366)
    return page


@pytest.fixture
def submitted(arrears_in_luwu_utara, regency_a, assessor_a):
    """One assessment the assessor has submitted: what the supervisor reviews."""
    from assessments import services

    participant = arrears_in_luwu_utara[0]
    assessment = services.assessment_start(regency=regency_a, actor=assessor_a, participant=participant)
    answers = {**ANSWERS, "visit_date": timezone.localdate(timezone=regency_a.tzinfo).isoformat()}
    assessment = services.assessment_save_answers(assessment=assessment, actor=assessor_a, answers=answers)
    return services.assessment_submit(assessment=assessment, actor=assessor_a)


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_assessment_queue(login, arrears_in_luwu_utara, assessor_a, size):
    page = _page(login, assessor_a, size)
    page.goto(f"/r/{SLUG}/assessments/")
    cards = page.locator("li[data-participant]")
    expect(cards).to_have_count(len(arrears_in_luwu_utara))
    found = _check_layout(page, f"assessment queue ({size})")
    assert len(found["amounts"]) >= len(arrears_in_luwu_utara)  # each card's arrears
    # No list bullets on the cards or the flags inside them.
    bullets = page.evaluate("""() => [...document.querySelectorAll("main li")]
        .filter(li => getComputedStyle(li).display === "list-item" && getComputedStyle(li).listStyleType !== "none")
        .length""")
    assert bullets == 0
    # Compact: a card stays short even on a phone, and its action is inside it.
    heights = page.evaluate("""() => [...document.querySelectorAll("li[data-participant]")]
        .map(li => li.getBoundingClientRect().height)""")
    assert max(heights) <= (260 if size == "phone" else 170), heights
    expect(cards.first.get_by_role("button", name="Mulai asesmen")).to_be_visible()


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_supervisor_review(login, submitted, supervisor_a, size):
    page = _page(login, supervisor_a, size)
    page.goto(f"/r/{SLUG}/assessments/{submitted.pk}/")
    expect(page.locator("[data-status]").first).to_have_attribute("data-status", "submitted")
    _check_layout(page, f"supervisor review ({size})")

    # The answers: a definition list; side by side on a desktop, question above answer on a phone.
    geometry = page.evaluate("""() => {
        const dl = document.querySelector("dl.answers"), dt = dl.querySelector("dt"), dd = dl.querySelector("dd");
        const main = document.querySelector("main").getBoundingClientRect();
        const a = dt.getBoundingClientRect(), b = dd.getBoundingClientRect();
        return {dlWidth: dl.getBoundingClientRect().width, mainWidth: main.width,
                sameLine: Math.abs(a.top - b.top) < 2, ddLeft: b.left, dtRight: a.right};
    }""")
    if size == "desktop":
        assert geometry["sameLine"] and geometry["ddLeft"] >= geometry["dtRight"], geometry
        assert geometry["dlWidth"] >= 0.5 * geometry["mainWidth"], geometry
    else:
        assert not geometry["sameLine"], geometry
        assert geometry["dlWidth"] >= 0.75 * geometry["mainWidth"], geometry

    # Every rejection reason shown in full: one radio each, its label not cut off.
    reasons = page.locator(".reason-choices label")
    expect(reasons).to_have_count(8)
    expect(page.get_by_label("Dirujuk ke REHAB BPJS (sanggup mencicil)")).to_be_visible()
    clipped = page.evaluate("""() => [...document.querySelectorAll(".reason-choices label")]
        .filter(l => l.scrollWidth > l.clientWidth + 1 || l.getBoundingClientRect().right > window.innerWidth)
        .map(l => l.textContent.trim())""")
    assert clipped == []


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_members_page(login, admin_a, staff_a, assessor_a, supervisor_a, size):
    page = _page(login, admin_a, size)
    page.goto(f"/r/{SLUG}/members/")
    rows = page.locator("table.table-cards").last.locator("tbody tr")
    expect(rows).to_have_count(4)
    _check_layout(page, f"members ({size})")
    # Each member's name (the first column) and actions are on the screen, not scrolled away.
    off_screen = page.evaluate("""() => [...document.querySelectorAll("table.table-cards tbody tr")]
        .flatMap(tr => [tr.querySelector("td"), ...tr.querySelectorAll("button, a")])
        .filter(e => e && (e.getBoundingClientRect().right > window.innerWidth || e.getBoundingClientRect().left < 0))
        .map(e => e.textContent.trim())""")
    assert off_screen == []
    if size == "phone":  # stacked as cards: each cell says what it is
        labels = page.evaluate("""() => [...document.querySelectorAll("table.table-cards td[data-label]")]
            .slice(0, 4).map(td => getComputedStyle(td, "::before").content)""")
        assert labels[0] == '"E-mail"', labels


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_regency_dashboard(login, arrears_in_luwu_utara, admin_a, size):
    page = _page(login, admin_a, size)
    page.goto(f"/r/{SLUG}/")
    expect(page.locator("h1")).to_be_visible()
    found = _check_layout(page, f"regency dashboard ({size})")
    assert found["amounts"], "the dashboard shows amounts"
    # Every stat's figure fits in its card.
    overflowing = page.evaluate("""() => [...document.querySelectorAll(".stat strong, .stat .stat-value")]
        .filter(s => s.getBoundingClientRect().right > s.closest(".stat").getBoundingClientRect().right + 1)
        .map(s => s.textContent.trim())""")
    assert overflowing == []


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_import_report(login, arrears_in_luwu_utara, bpjs_a, branch_a, size):
    from participants.models import ArrearsImport

    imp = ArrearsImport.objects.filter(branch=branch_a).latest("id")
    page = _page(login, bpjs_a, size)
    page.goto(f"/branches/{branch_a.code}/imports/{imp.pk}/")
    expect(page.locator("[data-status]").first).to_have_attribute("data-status", "applied")
    expect(page.locator("main")).not_to_contain_text("sedang diproses")
    _check_layout(page, f"import report ({size})")


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_pledge_timeline(login, tariffs, arrears_in_luwu_utara, approve_eligible, regency_a, admin_a, staff_a,
                         size):
    from donations.models import Audience, CampaignStatus, Kind
    from donations.services import campaign_create, pledge_confirm, pledge_reserve

    campaign = campaign_create(
        regency=regency_a, actor=admin_a, slug="lutra-asn", title="ASN Peduli JKN Luwu Utara",
        story="Setiap ASN menanggung tunggakan satu peserta mandiri.", audience=Audience.INTERNAL,
        kind=Kind.ONE_TO_ONE, status=CampaignStatus.ACTIVE, target_participants=100, hold_hours=72,
    )
    approve_eligible(arrears_in_luwu_utara[:1])
    pledge = pledge_reserve(campaign=campaign, participant=arrears_in_luwu_utara[0], donor=staff_a)
    pledge = pledge_confirm(pledge=pledge, actor=staff_a)
    page = _page(login, staff_a, size)
    page.goto(f"/me/pledges/{pledge.public_id}/")
    found = _check_layout(page, f"pledge timeline ({size})")
    assert found["steps"]["numbers"] >= 3 and found["steps"]["times"] >= 2, found["steps"]
