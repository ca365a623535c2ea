"""E-mails to donors: reservation, 24 h expiry warning, verification. Sent after commit."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation

from donations.models import Pledge
from donations.selectors import pledge_payment_info
from participants.pseudonym import pseudonym

# `unpaid_reminder` and `released` are sent by reconciliation (donations.reconciliation).
KINDS = ("reserved", "expiry_warning", "verified", "unpaid_reminder", "released", "lapse_warning", "lapsed")


def pledge_email_send(*, pledge_id: int, kind: str) -> bool:
    """Render `templates/donations/email/<kind>_{subject,body}.txt` for the pledge's donor."""
    if kind not in KINDS:
        return False
    pledge = (Pledge.all_regencies.select_related("campaign", "campaign__regency", "participant", "donor")
              .filter(pk=pledge_id).first())
    if pledge is None or pledge.donor is None or not pledge.donor.email:
        return False
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "pledge": pledge,
            "campaign": pledge.campaign,
            "pseudonym": pseudonym(pledge.participant),
            "payment": pledge_payment_info(pledge=pledge),
            "tz": pledge.campaign.regency.tzinfo,
        }
        subject = render_to_string(f"donations/email/{kind}_subject.txt", context).strip()
        body = render_to_string(f"donations/email/{kind}_body.txt", context)
    send_mail(f"[Satu untuk Satu] {subject}", body, settings.DEFAULT_FROM_EMAIL, [pledge.donor.email])
    return True


def anomalies_email_send(*, regency_id: int, anomaly_ids: list[int]) -> int:
    """Tell the regency's admins about new reconciliation anomalies (one message). Returns recipients."""
    from django.urls import reverse

    from donations.models import Anomaly
    from regencies.models import Membership, Regency
    from regencies.roles import Role

    regency = Regency.objects.filter(pk=regency_id).first()
    if regency is None:
        return 0
    anomalies = list(Anomaly.objects.for_regency(regency).filter(pk__in=anomaly_ids).order_by("pk"))
    recipients = sorted(set(
        Membership.objects.for_regency(regency).filter(role=Role.REGENCY_ADMIN, is_active=True)
        .exclude(user__email="").values_list("user__email", flat=True)
    ))
    if not anomalies or not recipients:
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        context = {"regency": regency, "anomalies": anomalies, "count": len(anomalies),
                   "path": reverse("reconciliation", kwargs={"regency_slug": regency.slug})}
        subject = render_to_string("donations/email/anomalies_subject.txt", context).strip()
        body = render_to_string("donations/email/anomalies_body.txt", context)
    send_mail(f"[Satu untuk Satu] {subject}", body, settings.DEFAULT_FROM_EMAIL, recipients)
    return len(recipients)
