"""Every form's errors inline: posted wrong by someone allowed to use it, the page shows each message
in the field's own box (`<auto_id>_error`, the id the input names in aria-describedby) and a summary
at the top whose link leads to the field (`#<auto_id>`) with the same message."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from donations.models import Anomaly, Handover, Payment, PaymentRoute, PledgeStatus
from donations.privacy import subject
from participants.models import ImportStatus
from regencies.roles import Role
from regencies.services import invitation_create
from tests import role_world
from tests.factories import PASSWORD, ArrearsImportFactory, ParticipantFactory, UserFactory


@dataclass
class Post:
    """Who posts what where, and the field whose error the page must show."""

    user: Any  # None: not signed in
    url: str
    data: dict[str, Any]
    auto_id: str
    files: dict[str, Any] = field(default_factory=dict)
    described: bool = True  # the input itself names the box (a radio group: its fieldset does)


Fixture = Callable[[str], Any]


def _r(name: str, regency, **kwargs) -> str:
    return reverse(name, kwargs={"regency_slug": regency.slug, **kwargs})


def api_token(fx: Fixture) -> Post:
    return Post(fx("admin_a"), reverse("api_tokens"), {"name": ""}, "id_name")


def login(fx: Fixture) -> Post:
    fx("db")
    return Post(None, reverse("account_login"), {"login": "", "password": "rahasia"}, "id_login")


def signup(fx: Fixture) -> Post:
    fx("db")
    return Post(None, reverse("account_signup"),
                {"email": "bukan-alamat", "password1": "Kuat-sekali-2026", "password2": "Kuat-sekali-2026"},
                "id_email")


def password_change(fx: Fixture) -> Post:
    return Post(fx("admin_a"), reverse("account_change_password"),
                {"oldpassword": "salah-sekali", "password1": "Kuat-sekali-2026", "password2": "Kuat-sekali-2026"},
                "id_oldpassword")


def password_reset(fx: Fixture) -> Post:
    fx("db")
    return Post(None, reverse("account_reset_password"), {"email": "bukan-alamat"}, "id_email")


def assessment_settings(fx: Fixture) -> Post:
    regency = fx("regency_a")
    return Post(fx("admin_a"), _r("assessment_settings", regency),
                {"cleared_min_months": "-3", "relapse_within_months": "6", "short_arrears_months": "3",
                 "validity_months": "12"}, "id_cleared_min_months")


def assessment_decision(fx: Fixture) -> Post:
    regency = fx("regency_a")
    assessment = role_world.assessment(regency, "submitted", by=fx("assessor_a"), submitted_by=fx("assessor_a"))
    return Post(fx("supervisor_a"), _r("assessment_decide", regency, assessment_id=assessment.pk),
                {"action": "reject", "note": ""}, "id_reason", described=False)


def assessment_evidence(fx: Fixture) -> Post:
    regency = fx("regency_a")
    assessor = fx("assessor_a")
    assessment = role_world.assessment(regency, "draft", by=assessor)
    return Post(assessor, _r("assessment_evidence_upload", regency, assessment_id=assessment.pk), {}, "id_file",
                files={"file": SimpleUploadedFile("catatan.txt", b"bukan foto", content_type="text/plain")})


def queue_assign_nobody(fx: Fixture) -> Post:
    regency = fx("regency_a")
    role_world.screen(regency)
    return Post(fx("supervisor_a"), _r("assessment_queue", regency) + "?status=all", {"assignee": ""},
                "participants", described=False)


def queue_assign_to_a_stranger(fx: Fixture) -> Post:
    regency = fx("regency_a")
    participant = role_world.screen(regency)
    return Post(fx("supervisor_a"), _r("assessment_queue", regency) + "?status=all",
                {"assignee": str(UserFactory().pk), "participants": [participant.pk]}, "assignee")


def donor_profile(fx: Fixture) -> Post:
    return Post(fx("staff_a"), reverse("donor_profile"),
                {"display_name": "x" * 300, "phone": "", "organisation": ""}, "id_display_name")


def campaign_create(fx: Fixture) -> Post:
    regency = fx("regency_a")
    return Post(fx("admin_a"), _r("campaign_create", regency), {"title": ""}, "id_title")


def campaign_give(fx: Fixture) -> Post:
    campaign = role_world.campaign(fx("regency_a"))
    return Post(fx("staff_a"), reverse("campaign_give", kwargs={"campaign_slug": campaign.slug}),
                {"amount": "5", "reference": "TRF-1"}, "id_amount")


def pledge_payment(fx: Fixture) -> Post:
    staff = fx("staff_a")
    pledge = role_world.pledge(role_world.campaign(fx("regency_a")), staff, PledgeStatus.PLEDGED)
    return Post(staff, reverse("pledge_pay", kwargs={"pledge_id": pledge.public_id}),
                {"amount": "", "reference": "TRF-1", "paid_at": "2026-12-01"}, "id_amount")


def campaign_gift(fx: Fixture) -> Post:
    regency = fx("regency_a")
    campaign = role_world.campaign(regency)
    return Post(fx("admin_a"), _r("campaign_gifts", regency, campaign_slug=campaign.slug),
                {"amount": "5", "reference": "TRF-1"}, "id_amount")


def statement_upload(fx: Fixture) -> Post:
    regency = fx("regency_a")
    campaign = role_world.campaign(regency, payment_route=PaymentRoute.COLLECTED)
    return Post(fx("treasurer_a"), _r("statement_list", regency), {"campaign": campaign.slug}, "id_file")


def handover_transferred(fx: Fixture) -> Post:
    regency = fx("regency_a")
    treasurer = fx("treasurer_a")
    campaign = role_world.campaign(regency, payment_route=PaymentRoute.COLLECTED)
    handover = Handover.objects.create(regency=regency, campaign=campaign, number="H-1", created_by=treasurer)
    return Post(treasurer, _r("handover_transferred", regency, handover_id=handover.pk),
                {"reference": "", "transferred_at": "2026-12-01", "confirm": "on"}, "id_reference")


def money_refund(fx: Fixture) -> Post:
    regency = fx("regency_a")
    campaign = role_world.campaign(regency, payment_route=PaymentRoute.COLLECTED)
    return Post(fx("treasurer_a"), _r("money_refund", regency, campaign_slug=campaign.slug),
                {"amount": "0", "note": "kelebihan bayar", "pledge": ""}, "id_amount")


def donor_account_delete(fx: Fixture) -> Post:
    return Post(fx("staff_a"), reverse("donor_account_delete"), {"password": ""}, "id_password")


def import_upload(fx: Fixture) -> Post:
    branch = fx("branch_a")
    return Post(fx("bpjs_a"), reverse("import_list", kwargs={"branch_code": branch.code}),
                {"as_of": "2026-12-01", "mode": "full"}, "id_file")


def import_confirm(fx: Fixture) -> Post:
    branch = fx("branch_a")
    imp = ArrearsImportFactory(branch=branch, status=ImportStatus.AWAITING_CONFIRMATION, rows=40,
                               preview={"would_clear": 12, "pledges_released": 1, "participants": 52,
                                        "threshold_percent": 10})
    return Post(fx("bpjs_a"), reverse("import_confirm", kwargs={"branch_code": branch.code, "import_id": imp.pk}),
                {}, "id_understood")


def member_invite(fx: Fixture) -> Post:
    regency = fx("regency_a")
    return Post(fx("admin_a"), _r("member_list", regency),
                {"action": "invite", "email": "bukan-alamat", "role": Role.ASSESSOR}, "id_email")


def regency_settings(fx: Fixture) -> Post:
    regency = fx("regency_a")
    return Post(fx("admin_a"), _r("regency_settings", regency),
                {"population": "-5", "jkn_participants": "900", "active_rate_target": "80"}, "id_population")


def invitation_accept(fx: Fixture) -> Post:
    invitation = invitation_create(regency=fx("regency_a"), actor=fx("admin_a"), email="baru@example.test",
                                   role=Role.ASSESSOR, base_url="http://testserver/")
    return Post(None, reverse("invitation_accept", kwargs={"token": invitation.token}),
                {"full_name": "", "password1": "Kuat-sekali-2026", "password2": "Kuat-sekali-2026"},
                "id_full_name")


def reconciliation_settings(fx: Fixture) -> Post:
    regency = fx("regency_a")
    return Post(fx("admin_a"), _r("reconciliation_settings", regency),
                {"grace_days": "0", "reminder_days": "7", "payment_window_days": "14",
                 "reservations_per_day": "3"}, "grace_days")


def anomaly_resolve(fx: Fixture) -> Post:
    regency = fx("regency_a")
    pledge = role_world.pledge(role_world.campaign(regency), UserFactory(), PledgeStatus.VERIFIED)
    anomaly = Anomaly.objects.create(regency=regency, kind="disputed_payment", pledge=pledge)
    return Post(fx("admin_a"), _r("anomaly_resolve", regency, anomaly_id=anomaly.pk), {"note": "  "},
                f"note-{anomaly.pk}")


def _participant(fx: Fixture):
    return ParticipantFactory(regency=fx("regency_a"))


def correction_create(fx: Fixture) -> Post:
    p = _participant(fx)
    return Post(fx("admin_a"), _r("participant_correction_create", fx("regency_a"), public_id=p.public_id),
                {"field": "name", "requested_value": ""}, "id_requested_value")


def correction_resolve(fx: Fixture) -> Post:
    p = _participant(fx)
    admin = fx("admin_a")
    correction = subject.correction_request_create(regency=p.regency, participant=p, actor=admin, field="name",
                                                   requested_value="Siti Aminah")
    return Post(admin, _r("participant_correction_resolve", p.regency, public_id=p.public_id,
                          correction_id=correction.pk), {"status": "open", "note": ""}, f"status-{correction.pk}")


def anonymise(fx: Fixture) -> Post:
    p = _participant(fx)
    return Post(fx("admin_a"), _r("participant_anonymise", p.regency, public_id=p.public_id),
                {"confirm": "salah", "note": "surat 1"}, "id_confirm")


CASES = [api_token, login, signup, password_change, password_reset, assessment_settings, assessment_decision,
         assessment_evidence, queue_assign_nobody, queue_assign_to_a_stranger, donor_profile, campaign_create, campaign_give, pledge_payment, campaign_gift,
         statement_upload, handover_transferred, money_refund, donor_account_delete, import_upload, import_confirm,
         member_invite, regency_settings, invitation_accept, reconciliation_settings, anomaly_resolve,
         correction_create, correction_resolve, anonymise]


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


@pytest.mark.parametrize("case", CASES, ids=[c.__name__ for c in CASES])
def test_a_wrong_post_shows_the_error_next_to_the_field_and_in_the_summary(client, request, case):
    post = case(request.getfixturevalue)
    if post.user is not None:
        client.force_login(post.user)
    response = client.post(post.url, {**post.data, **post.files})
    assert response.status_code in (200, 400), response.status_code
    page = response.content.decode()

    box = re.search(rf'<div class="field-message" id="{re.escape(post.auto_id)}_error"[^>]*>(.*?)</div>', page,
                    re.S)
    assert box, f"no error box for {post.auto_id}"
    messages = [_text(m) for m in re.findall(r"<p>(.*?)</p>", box.group(1), re.S)]
    assert messages and all(messages), box.group(0)

    summary = re.search(r'<div class="alert alert-error error-summary"[^>]*>(.*?)</div>', page, re.S)
    assert summary, "no error summary"
    link = re.search(rf'<a href="#{re.escape(post.auto_id)}">(.*?)</a>', summary.group(1), re.S)
    assert link, f"the summary has no link to #{post.auto_id}"
    assert messages[0] in _text(link.group(1))
    # The link leads somewhere: an element with that id is on the page.
    assert re.search(rf'\bid="{re.escape(post.auto_id)}"', page)
    if post.described:
        described = re.search(rf'<(?:input|select|textarea)\b[^>]*\bid="{re.escape(post.auto_id)}"[^>]*>', page)
        assert described, f"no input #{post.auto_id}"
        assert f"{post.auto_id}_error" in described.group(0) and 'aria-invalid="true"' in described.group(0)
    else:
        assert re.search(rf'aria-describedby="[^"]*{re.escape(post.auto_id)}_error', page)


def test_the_two_step_code_error_sits_at_the_code(client, admin_a):
    assert client.post(reverse("account_login"), {"login": admin_a.email, "password": PASSWORD}).status_code == 302
    page = client.post(reverse("mfa_authenticate"), {"code": "12"}).content.decode()
    box = re.search(r'<div class="field-message" id="id_code_error"[^>]*><p>(.*?)</p>', page, re.S)
    assert box and _text(box.group(1))
    assert re.search(r'<div class="alert alert-error error-summary".*?<a href="#id_code">', page, re.S)
    code_input = re.search(r'<input\b[^>]*\bid="id_code"[^>]*>', page)
    assert code_input and 'aria-invalid="true"' in code_input.group(0) and "id_code_error" in code_input.group(0)


def test_a_valid_page_shows_no_summary_and_empty_boxes(client, admin_a):
    client.force_login(admin_a)
    page = client.get(reverse("api_tokens")).content.decode()
    assert "error-summary" not in page
    assert '<div class="field-message" id="id_name_error" data-error-for="name"></div>' in page
    assert 'aria-invalid' not in page


def test_the_payment_form_keeps_what_was_typed(client, staff_a, regency_a):
    pledge = role_world.pledge(role_world.campaign(regency_a), staff_a, PledgeStatus.PLEDGED)
    client.force_login(staff_a)
    response = client.post(reverse("pledge_pay", kwargs={"pledge_id": pledge.public_id}),
                           {"amount": "abc", "reference": "TRF-77", "paid_at": "2026-12-01"})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'value="TRF-77"' in page
    assert not Payment.objects.for_regency(regency_a).filter(pledge=pledge).exists()


def test_a_resolve_error_shows_in_its_own_row_only(client, admin_a, regency_a):
    p = ParticipantFactory(regency=regency_a)
    first, second = (subject.correction_request_create(regency=regency_a, participant=p, actor=admin_a,
                                                       field="name", requested_value=v) for v in ("A", "B"))
    client.force_login(admin_a)
    url = _r("participant_correction_resolve", regency_a, public_id=p.public_id, correction_id=second.pk)
    page = client.post(url, {"status": "nonsense"}).content.decode()
    assert re.search(rf'id="status-{second.pk}_error"[^>]*><p>', page)
    assert f'id="status-{first.pk}_error"' not in page


def test_the_import_confirmation_without_the_box_applies_nothing(client, bpjs_a, branch_a):
    imp = ArrearsImportFactory(branch=branch_a, status=ImportStatus.AWAITING_CONFIRMATION, rows=40,
                               preview={"would_clear": 12, "pledges_released": 1, "participants": 52,
                                        "threshold_percent": 10},
                               as_of=timezone.localdate() - dt.timedelta(days=1))
    client.force_login(bpjs_a)
    response = client.post(reverse("import_confirm", kwargs={"branch_code": branch_a.code, "import_id": imp.pk}))
    assert response.status_code == 400
    imp.refresh_from_db()
    assert imp.status == ImportStatus.AWAITING_CONFIRMATION
