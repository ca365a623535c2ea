"""The reconciliation page, its actions and export; the command; reminders; the donor's view."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone
from python_calamine import CalamineWorkbook

from core.models import AuditEvent
from donations.models import (
    Anomaly,
    AnomalyKind,
    AnomalyStatus,
    Pledge,
    PledgeStatus,
    ReconciliationRun,
)
from donations.reconciliation.services import (
    disputed_notify_mark,
    reconcile_regency,
    unpaid_reminders_mark,
)
from donations.services import donor_profile_update
from tests.donations.reconciliation_world import imp, person, pledge, rec

pytestmark = pytest.mark.django_db

PAY = dt.date(2026, 9, 5)


@pytest.fixture
def world(regency_a, branch_a, make_campaign, donor):
    """A verified pledge, a released one and a disputed one (with its anomaly), after one run."""
    campaign = make_campaign()
    first = imp(branch_a, dt.date(2026, 9, 1))
    a, b, c = (person(regency_a, first) for _ in range(3))
    c.name = "=HYPERLINK(\"http://x\")"
    c.save()
    ok = pledge(a, campaign, donor, "paid", made_from=first, paid_on=PAY)
    gone = pledge(b, campaign, donor, "pledged", made_from=first)
    bad = pledge(c, campaign, donor, "paid", made_from=first, paid_on=PAY)
    later = imp(branch_a, dt.date(2026, 10, 20))
    rec(a, later, 0)
    rec(b, later, 0)
    rec(c, later, 210_000)
    reconcile_regency(regency=regency_a)
    return {"ok": ok, "gone": gone, "bad": bad, "anomaly": Anomaly.objects.for_regency(regency_a).get()}


def _url(name, regency, **kw):
    return reverse(name, kwargs={"regency_slug": regency.slug, **kw})


def test_admin_sees_counts_reasons_and_queue(client, admin_a, regency_a, world):
    client.force_login(admin_a)
    response = client.get(_url("reconciliation", regency_a))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Antrean anomali" in page and "Pembayaran dipersoalkan" in page
    assert "Tunggakan sudah lunas oleh pihak lain" in page  # why it was released
    assert world["ok"].participant.card_number in page
    assert response.context["totals"]["verified"] == 1
    assert response.context["totals"]["released_cleared_by_other"] == 1
    assert response.context["totals"]["disputed"] == 1
    assert response.context["per_import"][0]["counts"]["verified"] == 1


def test_other_regency_admin_404_staff_403(client, admin_b, staff_a, regency_a, world):
    client.force_login(admin_b)
    assert client.get(_url("reconciliation", regency_a)).status_code == 404
    assert client.post(_url("anomaly_resolve", regency_a, anomaly_id=world["anomaly"].pk),
                       {"note": "x"}).status_code == 404
    client.force_login(staff_a)
    assert client.get(_url("reconciliation", regency_a)).status_code == 403
    assert client.post(_url("reconciliation_run", regency_a)).status_code == 403
    assert client.get(_url("reconciliation_export", regency_a)).status_code == 403


def test_anomaly_of_another_regency_is_404(client, admin_b, regency_b, world):
    client.force_login(admin_b)
    url = _url("anomaly_contact", regency_b, anomaly_id=world["anomaly"].pk)
    assert client.post(url).status_code == 404


def test_resolve_needs_a_note_then_resolves(client, admin_a, regency_a, world):
    client.force_login(admin_a)
    url = _url("anomaly_resolve", regency_a, anomaly_id=world["anomaly"].pk)
    response = client.post(url, {"note": "  "}, follow=True)
    assert "Tuliskan catatan penyelesaian" in response.content.decode()
    client.post(url, {"note": "Donatur mengirim bukti; BPJS memproses."})
    anomaly = Anomaly.objects.for_regency(regency_a).get()
    assert (anomaly.status, anomaly.resolved_by) == (AnomalyStatus.RESOLVED, admin_a)
    assert AuditEvent.objects.filter(verb="anomaly.resolved", actor=admin_a).count() == 1


def test_contact_donor_is_shown_and_logged(client, admin_a, regency_a, donor, world):
    donor_profile_update(user=donor, display_name="Bu Rina", is_anonymous=True, phone="0812 3456 7890",
                         organisation="")
    client.force_login(admin_a)
    response = client.post(_url("anomaly_contact", regency_a, anomaly_id=world["anomaly"].pk))
    assert response.status_code == 200
    assert donor.email in response.content.decode() and "0812 3456 7890" in response.content.decode()
    event = AuditEvent.objects.get(verb="anomaly.donor_contact_shown")
    assert event.actor == admin_a and event.regency_id == regency_a.pk


def test_run_button_is_idempotent(client, admin_a, regency_a, world):
    client.force_login(admin_a)
    runs = ReconciliationRun.objects.for_regency(regency_a).count()
    response = client.post(_url("reconciliation_run", regency_a), follow=True)
    assert response.status_code == 200
    assert "Rekonsiliasi selesai: 0 terverifikasi" in response.content.decode()
    assert ReconciliationRun.objects.for_regency(regency_a).count() == runs


def test_export_neutralises_formulas(client, admin_a, regency_a, world):
    client.force_login(admin_a)
    response = client.get(_url("reconciliation_export", regency_a))
    assert response.status_code == 200
    rows = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(response.streaming_content))) \
        .get_sheet_by_index(0).to_python()
    values = [v for row in rows for v in row]
    assert "'=HYPERLINK(\"http://x\")" in values
    assert not any(isinstance(v, str) and v.startswith("=") for v in values)
    assert AuditEvent.objects.filter(verb="export.reconciliation", actor=admin_a).exists()


def test_donor_sees_reactivated_message_and_certificate(client, donor, world):
    client.force_login(donor)
    page = client.get(reverse("pledge_detail", kwargs={"pledge_id": world["ok"].public_id})).content.decode()
    assert "kepesertaan aktif kembali" in page
    assert reverse("pledge_certificate", kwargs={"pledge_id": world["ok"].public_id}) in page
    me = client.get(reverse("donor_home")).content.decode()
    assert "Dilepas" in me and "Terverifikasi" in me and "Dipersoalkan" in me


def test_command_json_and_exit_codes(regency_a, world, capsys):
    out = io.StringIO()
    call_command("reconcile", "--regency", "73.22", stdout=out, stderr=io.StringIO())
    payload = json.loads(out.getvalue().strip().splitlines()[-1])
    assert payload.keys() >= {"regencies", "verified", "disputed", "released_cleared_by_other",
                              "released_left_segment", "unchanged", "seconds"}
    assert payload["regencies"]["73.22"]["unchanged"] == 1  # the disputed one, re-checked
    assert payload["verified"] == 0  # idempotent: the fixture already ran
    with pytest.raises(CommandError) as unknown:
        call_command("reconcile", "--regency", "99.99", stdout=io.StringIO(), stderr=io.StringIO())
    assert unknown.value.returncode == 1
    with pytest.raises(CommandError) as bad:
        call_command("reconcile", "--regency", "luwu", stdout=io.StringIO(), stderr=io.StringIO())
    assert bad.value.returncode == 2
    out = io.StringIO()
    call_command("reconcile", stdout=out, stderr=io.StringIO())
    assert "73.22" in json.loads(out.getvalue().strip().splitlines()[-1])["regencies"]


def test_unpaid_reminder_once(regency_a, branch_a, make_campaign, donor, django_capture_on_commit_callbacks):
    campaign = make_campaign()
    first = imp(branch_a, dt.date(2026, 9, 1))
    old = pledge(person(regency_a, first), campaign, donor, "pledged", made_from=first)
    fresh = pledge(person(regency_a, first), campaign, donor, "pledged", made_from=first)
    Pledge.objects.for_regency(regency_a).filter(pk=old.pk).update(pledged_at=timezone.now() - dt.timedelta(days=8))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert unpaid_reminders_mark() == [old.pk]
    assert len(mail.outbox) == 1 and "belum dibayar" in mail.outbox[0].subject
    assert unpaid_reminders_mark() == []
    fresh.refresh_from_db()
    assert fresh.reminder_sent_at is None and fresh.status == PledgeStatus.PLEDGED


def test_admins_told_about_new_anomalies_once(admin_a, world, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        marked = disputed_notify_mark()
    assert sum(len(v) for v in marked.values()) == 1
    assert [m.to for m in mail.outbox] == [[admin_a.email]]
    assert "anomali" in mail.outbox[0].subject
    assert disputed_notify_mark() == {}
    assert Anomaly.objects.for_regency(world["anomaly"].regency).get().kind == AnomalyKind.DISPUTED_PAYMENT


def test_settings_form(client, admin_a, staff_a, regency_a):
    from donations.models import ReconciliationSettings

    url = _url("reconciliation_settings", regency_a)
    client.force_login(admin_a)
    response = client.post(url, {"grace_days": "400", "reminder_days": "7"}, follow=True)
    assert "Masa tenggang 1–365 hari" in response.content.decode()
    assert not ReconciliationSettings.objects.for_regency(regency_a).exists()
    client.post(url, {"grace_days": "45", "reminder_days": "10"})
    row = ReconciliationSettings.objects.for_regency(regency_a).get()
    assert (row.grace_days, row.reminder_days) == (45, 10)
    assert AuditEvent.objects.filter(verb="reconciliation.settings", actor=admin_a).exists()
    client.force_login(staff_a)
    assert client.post(url, {"grace_days": "10", "reminder_days": "3"}).status_code == 403
