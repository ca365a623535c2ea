"""Receipts (kuitansi): the PDF of one payment for the donor, and the receipt register of a regency
and year for the treasurer. A receipt names the participant by pseudonym only (never the name, NIK
or card number)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.db.models.functions import Length
from fpdf import FPDF

from accounts.models import User
from core.formatting import format_rupiah
from core.time import regency_today
from donations.models import Payment, Pledge
from donations.money.receipts import receipt_number_format
from donations.selectors import payment_get_for_pledge, pledge_get_for_user, pledge_may_view
from regencies.models import Regency
from regencies.roles import Perm

_ONES = ("", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan", "sepuluh",
         "sebelas")
_SCALES = ((10**12, "triliun"), (10**9, "miliar"), (10**6, "juta"))


def terbilang(amount: int) -> str:
    """Integer rupiah in Indonesian words, as a kuitansi writes them: 245000 -> `dua ratus empat
    puluh lima ribu`; 0 -> `nol`."""
    if amount < 0:
        return "minus " + terbilang(-amount)
    if amount == 0:
        return "nol"
    return _words(amount)


def _words(n: int) -> str:
    if n < 12:
        return _ONES[n]
    if n < 20:
        return f"{_ONES[n - 10]} belas"
    if n < 100:
        return f"{_ONES[n // 10]} puluh {_words(n % 10)}".strip()
    if n < 200:
        return f"seratus {_words(n - 100)}".strip()
    if n < 1000:
        return f"{_ONES[n // 100]} ratus {_words(n % 100)}".strip()
    if n < 2000:
        return f"seribu {_words(n - 1000)}".strip()
    if n < 10**6:
        return f"{_words(n // 1000)} ribu {_words(n % 1000)}".strip()
    for scale, name in _SCALES:
        if n >= scale:
            return f"{_words(n // scale)} {name} {_words(n % scale)}".strip()
    raise AssertionError(n)  # pragma: no cover


def receipt_date(payment: Payment, regency: Regency) -> dt.date:
    """The day the receipt was issued: the payment's recording, in the regency's time zone."""
    return regency_today(regency, payment.created_at)


# --- reads ---------------------------------------------------------------------------------------------


# Who sees a pledge's receipts: its donor, and the staff of its regency who manage campaigns or money.
RECEIPT_STAFF = (Perm.MANAGE_CAMPAIGNS, Perm.MANAGE_MONEY)


def receipt_may_view(*, user: User | AnonymousUser, pledge: Pledge) -> bool:
    """The pledge's donor, and the staff of its regency who manage campaigns or money."""
    return pledge_may_view(user=user, pledge=pledge, staff=RECEIPT_STAFF)


def receipt_payment_get(*, user: User | AnonymousUser, pledge_id: object, payment_id: int) -> Payment:
    """The payment `payment_id` of pledge `pledge_id` if `user` may see its receipt; else 404 (never
    403: another donor's pledge, or another regency's, does not exist for this user)."""
    pledge = pledge_get_for_user(user=user, pledge_id=pledge_id, staff=RECEIPT_STAFF)
    payment = payment_get_for_pledge(pledge=pledge, payment_id=payment_id)
    payment.pledge = pledge
    return payment


def receipt_register(*, regency: Regency, year: int) -> QuerySet[Payment]:
    """Every payment of `regency` whose receipt number is of `year`, in number order."""
    prefix = receipt_number_format(regency_code=regency.code, year=year, number=0)[:-6]
    return (Payment.objects.for_regency(regency).filter(receipt_number__startswith=prefix)
            .select_related("pledge", "pledge__campaign", "pledge__participant")
            .order_by(Length("receipt_number"), "receipt_number"))


# --- the PDF -------------------------------------------------------------------------------------------


def _latin1(text: str) -> str:
    # The PDF core fonts are Latin-1: replace anything else rather than fail.
    return text.replace("–", "-").replace("—", "-").encode("latin-1", "replace").decode("latin-1")


@dataclass(frozen=True)
class ReceiptLine:
    label: str
    value: str


def receipt_pdf(*, title: str, number: str, lines: list[ReceiptLine], amount: int, amount_words: str,
                footer: str) -> bytes:
    """One A5 landscape page: the number, the lines (label: value), the amount large, the footer."""
    pdf = FPDF(orientation="L", unit="mm", format=(148, 210))  # A5
    pdf.set_title(_latin1(f"{title} {number}"))
    pdf.set_author("Satu untuk Satu")
    pdf.set_auto_page_break(auto=True, margin=10)
    pdf.add_page()
    pdf.set_draw_color(20, 110, 80)
    pdf.set_line_width(0.8)
    pdf.rect(6, 6, 198, 136)
    pdf.set_xy(12, 12)
    pdf.set_font("Helvetica", "B", 20)
    pdf.cell(0, 10, _latin1(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(12)
    pdf.set_font("Helvetica", "", 11)
    pdf.cell(0, 7, _latin1(number), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for line in lines:
        pdf.set_x(12)
        pdf.set_font("Helvetica", "", 10)
        pdf.cell(48, 6.5, _latin1(line.label))
        pdf.set_font("Helvetica", "B", 10)
        pdf.multi_cell(130, 6.5, _latin1(line.value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_x(12)
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 10, _latin1(format_rupiah(amount)), new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(12)
    pdf.set_font("Helvetica", "I", 10)
    pdf.multi_cell(178, 6, _latin1(amount_words), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_x(12)
    pdf.set_font("Helvetica", "", 8)
    pdf.multi_cell(178, 4.5, _latin1(footer), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


__all__ = ["ReceiptLine", "receipt_date", "receipt_may_view", "receipt_payment_get", "receipt_pdf",
           "receipt_register", "terbilang"]
