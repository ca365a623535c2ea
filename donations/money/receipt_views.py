"""Receipt pages: the kuitansi PDF of one payment (the donor's `/me/`), and the receipt register
of a regency and year (XLSX, the treasurer's). Thin: reads are in `donations.money.kuitansi`."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseBadRequest
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from core.exports import Column, export_response
from core.formatting import format_date
from core.time import regency_today
from donations.models import DonorProfile, PaymentSource
from donations.money.kuitansi import (
    ReceiptLine,
    receipt_date,
    receipt_payment_get,
    receipt_pdf,
    receipt_register,
    terbilang,
)
from participants.pseudonym import pseudonym
from regencies.permissions import require_perm
from regencies.roles import Perm


def _donor_name(pledge) -> str:
    if pledge.donor is None:
        return _("Dana bersama")
    profile = DonorProfile.objects.filter(user=pledge.donor).first()
    return (profile.display_name if profile else "") or pledge.donor.get_full_name() or "-"


def _source_label(source: str) -> str:
    try:
        return str(PaymentSource(source).label)
    except ValueError:
        return source


@login_required
@require_GET
def payment_kuitansi(request, pledge_id, payment_id: int):
    """The receipt of one payment: the pledge's donor, or the regency's campaign/money staff; 404 otherwise."""
    payment = receipt_payment_get(user=request.user, pledge_id=pledge_id, payment_id=payment_id)
    pledge = payment.pledge
    campaign = pledge.campaign
    regency = campaign.regency
    lines = [
        ReceiptLine(_("Tanggal kuitansi"), format_date(receipt_date(payment, regency))),
        ReceiptLine(_("Diterima dari"), _donor_name(pledge)),
        ReceiptLine(_("Untuk pembayaran"),
                    _("Iuran JKN peserta %(p)s melalui kampanye \"%(c)s\"") % {"p": pseudonym(pledge.participant),
                                                                              "c": campaign.title}),
        ReceiptLine(_("Pemda"), regency.name),
        ReceiptLine(_("Tanggal bayar"), format_date(payment.paid_on)),
        ReceiptLine(_("Cara bayar"), _source_label(payment.source)),
        ReceiptLine(_("Nomor referensi"), payment.reference),
        ReceiptLine(_("Kode pembayaran"), pledge.payment_code),
    ]
    pdf = receipt_pdf(
        title=_("KUITANSI"), number=_("No. %(n)s") % {"n": payment.receipt_number}, lines=lines,
        amount=payment.amount, amount_words=_("Terbilang: %(w)s rupiah") % {"w": terbilang(payment.amount)},
        footer=_("Gerakan Satu untuk Satu. Kuitansi ini mencatat uang yang diterima untuk janji donasi "
                 "Anda; janji terverifikasi setelah data BPJS Kesehatan menunjukkan tunggakan terbayar."),
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = "kuitansi-" + payment.receipt_number.replace("/", "-").replace(".", "") + ".pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
@require_perm(Perm.MANAGE_MONEY)
def receipt_register_export(request, regency_slug: str):
    """Every receipt of the regency in `?year=` (default: this year), in number order."""
    regency = request.regency
    raw = request.GET.get("year") or ""
    if raw:
        if not raw.isdigit() or not 2000 <= int(raw) <= 2100:
            return HttpResponseBadRequest(_("Tahun tidak valid (contoh: ?year=2026)."))
        year = int(raw)
    else:
        year = regency_today(regency).year
    columns = (
        Column(_("Nomor kuitansi"), lambda p: p.receipt_number, width=24),
        Column(_("Tanggal kuitansi"), lambda p: receipt_date(p, regency), width=14),
        Column(_("Tanggal bayar"), lambda p: p.paid_on, width=14),
        Column(_("Kampanye"), lambda p: p.pledge.campaign.title, width=30),
        Column(_("ID janji"), lambda p: str(p.pledge.public_id), width=38),
        Column(_("Peserta (samaran)"), lambda p: pseudonym(p.pledge.participant), width=14),
        Column(_("Sumber"), lambda p: _source_label(p.source), width=20),
        Column(_("Nomor referensi"), lambda p: p.reference, width=24),
        Column(_("Jumlah (Rp)"), lambda p: p.amount, width=14),
    )
    return export_response(
        kind="receipts", rows=receipt_register(regency=regency, year=year).iterator(chunk_size=2000),
        columns=columns, filename=f"kuitansi-{regency.slug}-{year}", actor=request.user, regency=regency,
        scope=f"{regency.code}/{year}", filters={"year": year}, sheet=_("Register kuitansi"),
    )

