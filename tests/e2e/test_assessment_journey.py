"""Journey (b): an assessor fills an assessment on a phone; a supervisor approves it; the participant is eligible."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from assessments.models import Assessment, Status
from participants.models import Participant
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import answer_every_question

pytestmark = pytest.mark.django_db(transaction=True)

SLUG = "luwu-utara"


def test_assessor_fills_on_a_phone_and_supervisor_approves(
    login, arrears_in_luwu_utara, regency_a, assessor_a, supervisor_a
):
    # --- the assessor, on a phone -------------------------------------------------
    phone = login(assessor_a, phone=True)
    phone.goto(f"/r/{SLUG}/assessments/")
    expect(phone.locator("h1")).to_have_text("Antrean asesmen")
    assert phone.evaluate("window.innerWidth") == 390
    assert_accessible(phone, "assessment queue (phone)")

    first = phone.locator("li[data-participant]").filter(has=phone.get_by_role("button", name="Mulai asesmen")).first
    public_id = first.get_attribute("data-participant")
    participant = Participant.objects.for_regency(regency_a).get(public_id=public_id)
    first.get_by_role("button", name="Mulai asesmen").tap()

    expect(phone).to_have_url(re.compile(rf"/r/{SLUG}/assessments/\d+/$"))
    expect(phone.locator("h1")).to_have_text(participant.name)
    expect(phone.locator("[data-status]").first).to_have_attribute("data-status", "draft")
    assert_accessible(phone, "assessment form (phone)")

    answer_every_question(phone, tap=True)
    # Autosave: every change is posted in the background; wait until the last one is stored.
    expect(phone.locator("#save-status")).to_contain_text("Tersimpan", timeout=10_000)
    assessment = Assessment.objects.for_regency(regency_a).get(participant=participant)
    for _attempt in range(50):
        assessment.refresh_from_db()
        if assessment.answers.get("consent") is True:
            break
        phone.wait_for_timeout(100)
    assert assessment.answers["consent"] is True
    assert assessment.answers["main_occupation"] == "farmer"
    assert assessment.answers["household_size"] == 4

    phone.get_by_role("button", name="Ajukan ke supervisor").tap()
    expect(phone).to_have_url(re.compile(rf"/r/{SLUG}/assessments/(\?.*)?$"))
    expect(phone.locator(".alert-success, .messages").first).to_contain_text("diajukan")
    assessment.refresh_from_db()
    assert assessment.status == Status.SUBMITTED

    # --- the supervisor, another browser ------------------------------------------------
    desk = login(supervisor_a)
    desk.goto(f"/r/{SLUG}/assessments/{assessment.pk}/")
    expect(desk.locator("[data-status]").first).to_have_attribute("data-status", "submitted")
    expect(desk.locator("[data-answer=main_occupation]")).to_have_text("Petani/pekebun")
    desk.select_option("select[name=action]", "approve")
    desk.fill("textarea[name=note]", "Sesuai kunjungan lapangan.")
    desk.get_by_role("button", name="Simpan keputusan").click()
    expect(desk.locator("[data-status]").first).to_have_attribute("data-status", "approved")
    assessment.refresh_from_db()
    assert assessment.status == Status.APPROVED
    assert assessment.decided_by == supervisor_a

    # The participant is now eligible, as the API (with the supervisor's session) says.
    response = desk.request.get(f"/api/v1/regencies/{SLUG}/participants/?eligibility=eligible")
    assert response.ok, response.text()
    results = response.json()["results"]
    assert [p["public_id"] for p in results] == [public_id]
    assert results[0]["eligibility"] == "eligible"
