"""The browser enforces the app's Content-Security-Policy, and the browser tests notice when it
refuses something: every e2e test fails on a violation (tests/e2e/conftest.py), so the journeys
prove that no page of the app carries inline script or style."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect


@pytest.mark.django_db(transaction=True)
def test_the_browser_refuses_inline_script_and_style_and_the_tests_see_it(new_context, csp_violations):
    page = new_context().new_page()
    response = page.goto("/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert csp_violations == []

    ran = page.evaluate("""() => {
        window.__inlineRan = false;
        const script = document.createElement("script");
        script.textContent = "window.__inlineRan = true;";
        document.body.appendChild(script);
        const box = document.createElement("div");
        box.setAttribute("style", "width: 123px");
        document.body.appendChild(box);
        return {ran: window.__inlineRan, styled: box.getBoundingClientRect().width === 123};
    }""")
    page.wait_for_timeout(200)

    assert ran == {"ran": False, "styled": False}
    assert any("inline script" in v for v in csp_violations), csp_violations
    assert any("inline style" in v for v in csp_violations), csp_violations
    csp_violations.clear()  # seen: this test passes


@pytest.mark.django_db(transaction=True)
def test_htmx_runs_under_the_policy_without_injecting_styles(new_context, csp_violations):
    page = new_context().new_page()
    page.goto("/")
    assert page.evaluate("() => typeof window.htmx") == "object"
    assert page.evaluate("() => document.querySelectorAll('style').length") == 0
    assert csp_violations == []


@pytest.mark.django_db(transaction=True)
def test_charts_progress_bars_and_page_scripts_work_under_the_policy(
    signed_in, csp_violations, arrears_in_luwu_utara, admin_a, bpjs_a, branch_a, regency_a
):
    from donations.models import Audience, Campaign, CampaignStatus, Kind
    from participants.models import ArrearsImport

    Campaign.objects.create(regency=regency_a, slug="lutra-peduli", title="Luwu Utara Peduli",
                            audience=Audience.PUBLIC, kind=Kind.BOTH, status=CampaignStatus.ACTIVE,
                            target_participants=4)
    page = signed_in(admin_a)  # the session from the test client: this test is about what pages load

    page.goto("/r/luwu-utara/")
    # The trend is a table, and a server-rendered SVG from two monthly lists on: no chart script.
    expect(page.locator("#trend-table table")).to_be_visible()
    assert page.evaluate("() => typeof window.Chart") == "undefined"

    participant = arrears_in_luwu_utara[0]
    page.goto(f"/r/luwu-utara/participants/{participant.public_id}/")
    expect(page.locator(".history-chart svg")).to_be_visible()
    assert page.locator(".history-chart svg").bounding_box()["width"] <= 320

    page.goto("/c/lutra-peduli/")
    expect(page.locator(".progress > span").first).to_be_attached()

    bpjs = signed_in(bpjs_a)
    imp = ArrearsImport.objects.filter(branch=branch_a).latest("pk")
    bpjs.goto(f"/branches/{branch_a.code}/imports/{imp.pk}/")
    bar = bpjs.locator("#import-report .progress")
    expect(bar).to_be_visible()
    full = bar.bounding_box()["width"]
    filled = bar.locator("span").bounding_box()["width"]
    assert imp.progress == 100 and filled >= full - 4  # .pct-100: the whole bar

    bpjs.goto(f"/branches/{branch_a.code}/imports/")
    bpjs.set_input_files("input[type=file][data-max-bytes]", files=[
        {"name": "tunggakan.csv", "mimeType": "text/csv", "buffer": b"no_kartu\n0001\n"}])
    expect(bpjs.locator("#file-size-hint")).to_contain_text("MB")  # static/js/file-size.js ran

    assert csp_violations == []
