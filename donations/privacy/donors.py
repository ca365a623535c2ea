"""A donor's own data: download it (JSON) and delete the account.

Deleting keeps the money trail: pledges, payments, receipts, gifts and ledger rows stay, their
donor now a deactivated user whose personal fields are replaced ("Donatur terhapus"). The user
can no longer log in (inactive, unusable password: every session ends with the password hash);
API tokens of an inactive user are refused (and revoked by the accounts app's hooks).
"""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import Conflict, DomainError
from core.exports import export_record
from donations.models import ACTIVE_STATUSES, DonorProfile, Gift, Payment, Pledge, PledgeStatus
from participants.pseudonym import pseudonym
from regencies.models import BranchMembership, Membership

DELETED_DONOR_NAME = "Donatur terhapus"
# Pledges that still need the donor: paying, or the outcome of a payment being checked.
OPEN_PLEDGE_STATUSES = (*ACTIVE_STATUSES, PledgeStatus.DISPUTED)


def deleted_email(user_pk: int) -> str:
    return f"terhapus-{user_pk}@donatur.invalid"


def _iso(value):
    return value.isoformat() if value is not None else None


def donor_data(*, user) -> dict:
    """What the system holds about the donor: profile, pledges (with payments), pooled gifts."""
    profile = DonorProfile.objects.filter(user=user).first()
    pledges = list(Pledge.all_regencies.filter(donor=user)
                   .select_related("campaign", "campaign__regency", "participant").order_by("created_at", "id"))
    payments: dict[int, list] = {}
    for pay in Payment.all_regencies.filter(pledge__in=pledges).order_by("created_at", "id"):
        payments.setdefault(pay.pledge_id, []).append({
            "amount": pay.amount, "paid_on": _iso(pay.paid_on), "reference": pay.reference, "source": pay.source,
            "receipt_number": pay.receipt_number, "recorded_at": _iso(pay.created_at),
        })
    return {
        "generated_at": _iso(timezone.now()),
        "account": {"email": user.email, "full_name": user.full_name, "date_joined": _iso(user.date_joined),
                    "last_login": _iso(user.last_login)},
        "profile": None if profile is None else {
            "display_name": profile.display_name, "is_anonymous": profile.is_anonymous, "phone": profile.phone,
            "organisation": profile.organisation, "created_at": _iso(profile.created_at),
        },
        "pledges": [
            {"public_id": str(p.public_id), "campaign": p.campaign.title, "regency": p.campaign.regency.name,
             "participant": pseudonym(p.participant), "status": p.status, "amount": p.amount,
             "paid_amount": p.paid_amount, "payment_code": p.payment_code, "created_at": _iso(p.created_at),
             "pledged_at": _iso(p.pledged_at), "paid_at": _iso(p.paid_at), "verified_at": _iso(p.verified_at),
             "closed_at": _iso(p.closed_at), "payments": payments.get(p.pk, [])}
            for p in pledges
        ],
        "gifts": [
            {"campaign": g.campaign.title, "amount": g.amount, "reference": g.reference, "received": g.received,
             "created_at": _iso(g.created_at), "received_at": _iso(g.received_at)}
            for g in Gift.all_regencies.filter(donor=user).select_related("campaign").order_by("created_at", "id")
        ],
    }


def donor_data_export(*, user) -> dict:
    """The donor's data, with the audit event `export.donor_data`."""
    data = donor_data(user=user)
    rows = 1 + len(data["pledges"]) + len(data["gifts"])
    export_record(kind="donor_data", actor=user, rows=rows, fmt="json", scope=f"user:{user.pk}")
    return data


def donor_account_delete(*, user, password: str):
    """Deactivate the account and replace its personal fields; keep pledges and payments.

    Refused for a wrong password, for an account that holds a role (staff leave through their
    regency admin), and while a pledge still needs the donor (reserved, pledged, paid or disputed).
    """
    if not password or not user.check_password(password):
        raise DomainError(_("Kata sandi salah."), code="wrong_password")
    if (user.is_staff or user.is_superuser
            or Membership.all_regencies.filter(user=user, is_active=True).exists()
            or BranchMembership.objects.filter(user=user, is_active=True).exists()):
        raise Conflict(
            _("Akun ini memegang peran di Pemda atau BPJS: mintalah admin Pemda Anda mencabut peran itu dahulu."),
            code="account_has_roles",
        )
    User = get_user_model()
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if Pledge.all_regencies.filter(donor=locked, status__in=OPEN_PLEDGE_STATUSES).exists():
            raise Conflict(
                _("Anda masih memiliki janji donasi yang berjalan. Batalkan janji yang belum dibayar, atau "
                  "tunggu sampai pembayaran Anda terverifikasi, lalu hapus akun."),
                code="open_pledges",
            )
        pledges = Pledge.all_regencies.filter(donor=locked).count()
        payments = Payment.all_regencies.filter(pledge__donor=locked).count()
        locked.email = deleted_email(locked.pk)
        locked.full_name = DELETED_DONOR_NAME
        locked.first_name = ""
        locked.last_name = ""
        locked.is_active = False
        locked.set_unusable_password()
        locked.save()
        DonorProfile.objects.filter(user=locked).update(
            display_name=DELETED_DONOR_NAME, is_anonymous=True, phone="", organisation="")
        from allauth.account.models import EmailAddress

        EmailAddress.objects.filter(user=locked).delete()
        if apps.is_installed("allauth.mfa"):
            from allauth.mfa.models import Authenticator

            Authenticator.objects.filter(user=locked).delete()
        audit_record(actor=None, verb="donor.account_deleted", object_type="accounts.user", object_id=locked.pk,
                     before={"is_active": True}, after={"is_active": False, "pledges_kept": pledges,
                                                        "payments_kept": payments})
    return locked
