"""Each role, on a phone (390 px) and a desktop (1366 px): the home page shows that role's work
first, its first work link opens the page of that work, the navigation is one row on the desktop
and collapsed behind the "Menu" button on the phone, and both pages pass the checks of every page
a walk passes (tests/e2e/walk.py: no console error or failed request, nothing serious or critical
for axe-core, within the page budget)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.walk import PageChecks

ROLES = ("assessor_a", "supervisor_a", "staff_a", "treasurer_a", "admin_a", "bpjs_a", "donor_user")
# The first work link of each role's home page (tests/reporting/test_home_pages.py checks the counts).
FIRST_WORK = {
    "assessor_a": "/r/luwu-utara/assessments/?status=todo&mine=1",
    "supervisor_a": "/r/luwu-utara/assessments/?status=submitted",
    "staff_a": "/c/{internal}/",
    "treasurer_a": "/r/luwu-utara/money/",
    "admin_a": "/r/luwu-utara/assessments/?status=submitted",
    "bpjs_a": "/branches/palopo/imports/{awaiting}/",
    "donor_user": "/me/",
}
NAV_ROW_MAX_PX = 60


def _check_navigation(page, *, phone: bool, where: str) -> None:
    header = page.locator(".site-header")
    toggle = page.locator(".nav-toggle")
    nav = page.get_by_role("navigation", name="Navigasi utama")
    width = page.evaluate("() => window.innerWidth")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width, f"{where}: sideways scroll"
    if phone:
        # Collapsed: the brand and the menu button in one row; the links only once it is opened.
        assert header.bounding_box()["height"] <= NAV_ROW_MAX_PX, f"{where}: header {header.bounding_box()}"
        expect(toggle).to_be_visible()
        expect(toggle).to_have_attribute("aria-expanded", "false")
        expect(nav).to_be_hidden()
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(nav).to_be_visible()
        expect(nav.get_by_role("link", name="Beranda")).to_be_visible()
        toggle.click()
        expect(nav).to_be_hidden()
    else:
        expect(toggle).to_be_hidden()
        expect(nav).to_be_visible()
        assert header.bounding_box()["height"] <= NAV_ROW_MAX_PX, f"{where}: header {header.bounding_box()}"
        tops = page.evaluate(
            "() => Array.from(document.querySelectorAll('.site-nav > ul > li, .site-brand, .lang-switch'))"
            ".map(e => Math.round(e.getBoundingClientRect().top + e.getBoundingClientRect().height / 2))"
        )
        assert max(tops) - min(tops) <= 4, f"{where}: the navigation is not one row: {tops}"
        # The "Akun" drop-down opens over the page and holds the sign-out button.
        nav.locator(".nav-account summary").click()
        expect(nav.get_by_role("button", name="Keluar")).to_be_visible()
        page.keyboard.press("Escape")
        expect(nav.get_by_role("button", name="Keluar")).to_be_hidden()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("phone", [True, False], ids=["390px", "1366px"])
def test_each_role_finds_its_work_from_home(signed_in, request, world, donor_user, phone):
    from participants.models import ArrearsImport, ImportStatus

    awaiting = ArrearsImport.objects.get(branch=world.branch, status=ImportStatus.AWAITING_CONFIRMATION)
    size = "390" if phone else "1366"
    walked: list[PageChecks] = []
    for who in ROLES:
        user = request.getfixturevalue(who)
        page = signed_in(user, phone=phone)
        checks = PageChecks(page, f"{who} at {size} px", phone=phone)
        walked.append(checks)
        page.goto("/")
        expect(page.locator("h1")).to_have_text("Pekerjaan Anda")
        checks.check("home")
        _check_navigation(page, phone=phone, where=f"home of {who} at {size} px")

        first = page.locator("main a.work-link").first
        expected = FIRST_WORK[who].format(internal=world.internal.slug, awaiting=awaiting.pk)
        assert first.get_attribute("href").replace("&amp;", "&") == expected, who
        expect(first).to_be_visible()
        with page.expect_navigation() as nav_info:
            first.click()
        assert nav_info.value.status == 200, (who, page.url)
        assert page.url.endswith(expected), (who, page.url)
        expect(page.locator("main h1").first).to_be_visible()
        checks.check("first work")
        _check_navigation(page, phone=phone, where=f"{page.url} as {who} at {size} px")
        page.context.close()
    problems = [p for checks in walked for p in checks.problems]
    assert not problems, "\n".join(problems)
