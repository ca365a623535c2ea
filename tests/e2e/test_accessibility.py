"""axe-core on the main pages that the journeys do not already check: no serious or critical violations.

The import list and report are checked in test_import_journey.py, the assessment
queue and form (on a phone) in test_assessment_journey.py. axe-core comes from
node_modules (npm, pinned in package.json) and is injected into the page; nothing
is loaded from another host.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)


def test_public_pages_are_accessible(new_context):
    page = new_context().new_page()
    for name, url in (("landing", "/"), ("login", "/accounts/login/"), ("signup", "/accounts/signup/")):
        response = page.goto(url)
        assert response.ok, f"{url}: {response.status}"
        assert_accessible(page, name)


def test_regency_pages_are_accessible(login, arrears_in_luwu_utara, admin_a):
    page = login(admin_a)
    page.goto("/r/luwu-utara/")
    expect(page.locator("h1")).to_be_visible()
    assert_accessible(page, "regency home")

    page.goto("/r/luwu-utara/participants/")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(len(arrears_in_luwu_utara))
    assert_accessible(page, "participant list")

    participant = arrears_in_luwu_utara[0]
    page.goto(f"/r/luwu-utara/participants/{participant.public_id}/")
    expect(page.locator("h1")).to_contain_text(participant.name)
    assert_accessible(page, "participant detail")


def test_the_check_finds_what_it_should(new_context):
    """The check is real: a page with an unlabeled image and button fails it."""
    from tests.e2e.axe import axe_check

    page = new_context().new_page()
    page.set_content('<html lang="id"><title>t</title><main><img src="/x.png"><button></button></main></html>')
    found = {v["id"] for v in axe_check(page, "deliberately broken page")}
    assert {"image-alt", "button-name"} <= found
