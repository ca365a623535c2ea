"""Hand-overs to BPJS and refunds: how the money waiting in a campaign's account leaves it.

Per pledge, from the ledger: waiting = received - handed over - refunded. A pledge's *share* is
what of its waiting money still belongs to BPJS: min(waiting, amount - handed over), for a live
pledge (not expired, cancelled or released); the excess of an overpayment is not part of it.

- `handover_create`: one line per family VA (the VA of the family head's card; a participant
  without a family is its own line) whose live pledges in the campaign that are in no batch yet are
  all paid in full; each pledge of the line gives its share. The batch is a draft: nothing has
  left the account yet.
- `handover_mark_transferred`: the treasurer has transferred the batch (bank reference, date);
  only now is every pledge's share written to the ledger as `handed_over`.
- `ledger_refund`: waiting money that will not be handed over goes back (an overpayment's excess,
  a statement credit that matched no pledge, the money of a closed pledge). A live pledge's share
  is never refundable, so a batch's amounts cannot change between its creation and its transfer.

Every write holds the regency's row lock (as every payment does), so a payment, a batch and a
refund of one regency never interleave."""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass, field

import xlsxwriter
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.audit import audit_record
from core.errors import Conflict, DomainError, NotFound, PermissionDenied, get_or_404
from core.exports import neutralise
from core.formatting import format_date, format_rupiah
from core.time import regency_today
from donations.models import (
    Campaign,
    Handover,
    HandoverLine,
    HandoverStatus,
    LedgerEntry,
    LedgerKind,
    LedgerSource,
    Pledge,
    PledgeStatus,
)
from donations.money.ledger import LedgerBalance, ledger_record
from participants.models import Participant, Relationship, virtual_account_numbers
from regencies.models import Regency
from regencies.permissions import regency_access_for
from regencies.roles import Perm

# Pledges that still hold money for BPJS (their share), and those that are paid in full.
LIVE_STATUSES = (PledgeStatus.RESERVED, PledgeStatus.PLEDGED, PledgeStatus.PAID, PledgeStatus.VERIFIED,
                 PledgeStatus.DISPUTED)
PAID_STATUSES = (PledgeStatus.PAID, PledgeStatus.VERIFIED, PledgeStatus.DISPUTED)
# The family VA BPJS credits through the BRI/BNI/BTN/BCA channel ("88888" + 11 card digits).
VA_BANK = "BRI/BNI/BTN/BCA"
NUMBER_PREFIX = "SRH"


# --- money per pledge ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PledgeMoney:
    received: int = 0
    handed_over: int = 0
    refunded: int = 0

    @property
    def waiting(self) -> int:
        return self.received - self.handed_over - self.refunded


def _sums(qs: QuerySet, key: str) -> dict:
    rows = (qs.values(key).order_by()
            .annotate(received=Sum("amount", filter=Q(kind=LedgerKind.RECEIVED)),
                      handed_over=Sum("amount", filter=Q(kind=LedgerKind.HANDED_OVER)),
                      refunded=Sum("amount", filter=Q(kind=LedgerKind.REFUNDED))))
    return {row[key]: PledgeMoney(int(row["received"] or 0), int(row["handed_over"] or 0),
                                  int(row["refunded"] or 0)) for row in rows}


def pledge_money(*, pledge: Pledge) -> PledgeMoney:
    qs = LedgerEntry.objects.for_regency(pledge.regency_id).filter(campaign_id=pledge.campaign_id, pledge=pledge)
    return _sums(qs, "pledge_id").get(pledge.pk, PledgeMoney())


def pledge_share(*, status: str, amount: int, money: PledgeMoney) -> int:
    """What of the pledge's waiting money belongs to BPJS (see the module)."""
    if status not in LIVE_STATUSES:
        return 0
    return max(min(money.waiting, amount - money.handed_over), 0)


def _unassigned(campaign: Campaign) -> PledgeMoney:
    """Money of the campaign that belongs to no pledge (a statement credit that matched none)."""
    qs = LedgerEntry.objects.for_regency(campaign.regency_id).filter(campaign=campaign, pledge__isnull=True)
    return _sums(qs, "campaign_id").get(campaign.pk, PledgeMoney())


# --- permissions and lookups --------------------------------------------------------------------


def _require_money(actor: User, regency: Regency) -> None:
    access = regency_access_for(user=actor, regency=regency)
    if access is None:
        raise NotFound()
    if not access.can(Perm.MANAGE_MONEY):
        raise PermissionDenied()


def _lock_regency(regency_id: int) -> Regency:
    return Regency.objects.select_for_update().get(pk=regency_id)


def handover_get(*, regency: Regency, handover_id: int) -> Handover:
    return get_or_404(Handover.objects.for_regency(regency).select_related("campaign", "regency", "created_by"),
                      what="handover", pk=handover_id)


def handover_get_for_user(*, user: User | AnonymousUser, handover_id: int) -> Handover:
    """A batch addressed by id alone (the API): 404 outside the user's regencies, 403 for a
    member of its regency who may not manage money."""
    found = (Handover.all_regencies.select_related("campaign", "regency", "created_by")
             .filter(pk=handover_id).first())
    access = regency_access_for(user=user, regency=found.regency) if found is not None else None
    if found is None or access is None:
        raise Http404("handover")
    if not access.can(Perm.MANAGE_MONEY):
        raise PermissionDenied()
    return found


def handover_list(*, regency: Regency, campaign: Campaign | None = None) -> QuerySet[Handover]:
    qs = Handover.objects.for_regency(regency).select_related("campaign")
    if campaign is not None:
        qs = qs.filter(campaign=campaign)
    return qs.order_by("-created_at", "-id")


def handover_lines(*, handover: Handover) -> list[HandoverLine]:
    return list(HandoverLine.objects.for_regency(handover.regency_id).filter(handover=handover)
                .order_by("id"))


def ledger_balances(*, regency: Regency) -> dict[int, LedgerBalance]:
    """The balance of every campaign of the regency (one query)."""
    sums = _sums(LedgerEntry.objects.for_regency(regency), "campaign_id")
    return {cid: LedgerBalance(received=m.received, handed_over=m.handed_over, refunded=m.refunded)
            for cid, m in sums.items()}


def campaign_ledger_rows(*, campaign: Campaign) -> QuerySet[LedgerEntry]:
    """The campaign's ledger, newest first (paginate it)."""
    return (LedgerEntry.objects.for_regency(campaign.regency_id).filter(campaign=campaign)
            .select_related("pledge", "payment", "handover", "actor").order_by("-id"))


# --- what a batch would hold ------------------------------------------------------------------


@dataclass
class CandidateLine:
    family_id: int | None
    va_number: str
    members: int
    amount: int
    shares: list[tuple[int, int]] = field(default_factory=list)  # (pledge id, amount)


def handover_candidates(*, campaign: Campaign) -> list[CandidateLine]:
    """The lines a batch made now would have (three queries, whatever the number of pledges)."""
    regency_id = campaign.regency_id
    pledges = list(
        Pledge.objects.for_regency(regency_id)
        .filter(campaign=campaign, handover__isnull=True, status__in=LIVE_STATUSES)
        .values_list("pk", "status", "amount", "paid_amount", "participant_id", "participant__family_id",
                     "participant__card_number")
    )
    if not pledges:
        return []
    money = _sums(LedgerEntry.objects.for_regency(regency_id)
                  .filter(campaign=campaign, pledge__isnull=False, pledge__handover__isnull=True), "pledge_id")
    groups: dict[tuple, list] = defaultdict(list)
    for row in pledges:
        _pk, _status, _amount, _paid, participant_id, family_id, _card = row
        groups[("f", family_id) if family_id else ("p", participant_id)].append(row)
    lines: list[CandidateLine] = []
    for (kind, key), rows in groups.items():
        if not all(status in PAID_STATUSES and paid >= amount for _pk, status, amount, paid, *_rest in rows):
            continue  # the family's VA is credited once every member's pledge is paid in full
        shares = [(pk, pledge_share(status=status, amount=amount, money=money.get(pk, PledgeMoney())))
                  for pk, status, amount, *_rest in rows]
        shares = [(pk, share) for pk, share in shares if share > 0]
        if not shares:
            continue
        in_line = {pk for pk, _share in shares}
        cards = sorted(card for pk, *_mid, card in rows if pk in in_line)
        lines.append(CandidateLine(
            family_id=key if kind == "f" else None, va_number=cards[0],  # the head's card: below
            members=len({participant for pk, *_mid, participant, _f, _c in rows if pk in in_line}),
            amount=sum(share for _pk, share in shares), shares=shares,
        ))
    family_ids = [line.family_id for line in lines if line.family_id]
    heads: dict[int, str] = {}
    if family_ids:
        for family_id, card in (Participant.objects.for_regency(regency_id)
                                .filter(family_id__in=family_ids, relationship=Relationship.HEAD)
                                .order_by("family_id", "card_number").values_list("family_id", "card_number")):
            heads.setdefault(family_id, card)  # the lowest card number of its heads, as the pledge page
    for line in lines:
        card = heads.get(line.family_id, line.va_number) if line.family_id else line.va_number
        line.va_number = virtual_account_numbers(card)[VA_BANK]
    lines.sort(key=lambda line: line.va_number)
    return lines


# --- writes -------------------------------------------------------------------------------------


def _next_number(regency: Regency, year: int) -> str:
    """`SRH/73.22/2026/0001`: per regency and year, under the regency's lock."""
    prefix = f"{NUMBER_PREFIX}/{regency.code}/{year}/"
    last = 0
    for number in (Handover.objects.for_regency(regency).filter(number__startswith=prefix)
                   .values_list("number", flat=True)):
        tail = number.rsplit("/", 1)[-1]
        if tail.isdigit():
            last = max(last, int(tail))
    return f"{prefix}{last + 1:04d}"


def handover_create(*, regency: Regency, campaign: Campaign, actor: User, now: dt.datetime | None = None) -> Handover:
    """A draft batch of every family VA ready to be credited (see the module); 400 when none is."""
    _require_money(actor, regency)
    if campaign.regency_id != regency.pk:
        raise NotFound()
    moment = now or timezone.now()
    with transaction.atomic():
        _lock_regency(regency.pk)
        lines = handover_candidates(campaign=campaign)
        if not lines:
            if not campaign.is_collected:
                raise DomainError(
                    _("Kampanye ini dibayar langsung ke VA keluarga: tidak ada uang yang perlu diserahkan "
                      "ke BPJS."), code="direct_route")
            raise DomainError(
                _("Belum ada yang dapat diserahkan: tidak ada keluarga yang semua janjinya di kampanye ini "
                  "sudah dibayar lunas dan belum diserahkan."), code="nothing_to_hand_over")
        today = regency_today(regency, moment)
        handover = Handover.objects.create(
            regency=regency, campaign=campaign, number=_next_number(regency, today.year),
            families=len(lines), total=sum(line.amount for line in lines), created_by=actor,
        )
        HandoverLine.objects.bulk_create([
            HandoverLine(regency_id=regency.pk, handover=handover, family_id=line.family_id,
                         va_number=line.va_number, members=line.members, amount=line.amount)
            for line in lines
        ])
        pledge_ids = [pk for line in lines for pk, _share in line.shares]
        moved = (Pledge.objects.for_regency(regency).filter(pk__in=pledge_ids, handover__isnull=True)
                 .update(handover=handover, updated_at=moment))
        if moved != len(pledge_ids):  # cannot happen under the regency lock; never half a batch
            raise Conflict(_("Janji berubah saat penyerahan dibuat; coba lagi."), code="handover_changed")
        audit_record(actor=actor, verb="handover.created", obj=handover, regency=regency,
                     after={"number": handover.number, "campaign": campaign.slug, "families": handover.families,
                            "pledges": len(pledge_ids), "total": handover.total})
    return handover


def handover_mark_transferred(*, handover: Handover, actor: User, reference: str, transferred_at: object,
                              now: dt.datetime | None = None) -> Handover:
    """The batch was transferred to BPJS: write each pledge's share as `handed_over` (once)."""
    regency = handover.regency
    _require_money(actor, regency)
    reference = (reference or "").strip()
    moment = now or timezone.now()
    today = regency_today(regency, moment)
    errors = {}
    if not reference or len(reference) > 64:
        errors["reference"] = _("Nomor referensi transfer dari bank wajib diisi (paling panjang 64 karakter).")
    if not isinstance(transferred_at, dt.date) or isinstance(transferred_at, dt.datetime):
        errors["transferred_at"] = _("Tanggal transfer wajib diisi (YYYY-MM-DD).")
    elif transferred_at > today:
        errors["transferred_at"] = _("Tanggal transfer tidak boleh di masa depan.")
    elif transferred_at < regency_today(regency, handover.created_at):
        errors["transferred_at"] = _("Tanggal transfer tidak boleh sebelum penyerahan dibuat (%(d)s).") % {
            "d": format_date(regency_today(regency, handover.created_at))}
    if errors:
        raise DomainError("; ".join(str(v) for v in errors.values()), code="invalid", extra={"errors": errors})
    assert isinstance(transferred_at, dt.date)  # anything else was refused above
    with transaction.atomic():
        _lock_regency(regency.pk)
        locked = Handover.objects.for_regency(regency).select_for_update().select_related("campaign").get(
            pk=handover.pk)
        if locked.status == HandoverStatus.TRANSFERRED:
            raise Conflict(_("Penyerahan %(n)s sudah ditandai ditransfer (referensi %(r)s).")
                           % {"n": locked.number, "r": locked.reference}, code="already_transferred")
        pledges = list(Pledge.objects.for_regency(regency).filter(handover=locked)
                       .values_list("pk", "status", "amount"))
        ids = [pk for pk, _status, _amount in pledges]
        entries = LedgerEntry.objects.for_regency(regency).filter(campaign_id=locked.campaign_id, pledge_id__in=ids)
        money = _sums(entries, "pledge_id")
        # The pledge's payment when it has a single one: the row this hand-over pays out.
        received: dict[int, list[int]] = defaultdict(list)
        for pledge_id, pk in entries.filter(kind=LedgerKind.RECEIVED).values_list("pledge_id", "pk"):
            received[pledge_id].append(pk)
        # The pledges' status does not matter now: the batch was made when they were paid in full.
        shares = [(pk, max(min(money.get(pk, PledgeMoney()).waiting,
                               amount - money.get(pk, PledgeMoney()).handed_over), 0))
                  for pk, _status, amount in pledges]
        if sum(share for _pk, share in shares) != locked.total:
            raise Conflict(_("Uang yang menunggu untuk penyerahan %(n)s berubah sejak dibuat; hubungi admin.")
                           % {"n": locked.number}, code="handover_changed")
        LedgerEntry.objects.bulk_create([
            LedgerEntry(regency_id=regency.pk, campaign_id=locked.campaign_id, kind=LedgerKind.HANDED_OVER,
                        source=LedgerSource.HANDOVER, amount=share, pledge_id=pk, handover=locked,
                        settles_id=received[pk][0] if len(received[pk]) == 1 else None,
                        actor=actor, note=f"{locked.number} {reference}"[:200])
            for pk, share in shares if share > 0
        ])
        locked.status, locked.reference, locked.transferred_at = HandoverStatus.TRANSFERRED, reference, transferred_at
        locked.save(update_fields=["status", "reference", "transferred_at"])
        audit_record(actor=actor, verb="handover.transferred", obj=locked, regency=regency,
                     before={"status": HandoverStatus.DRAFT},
                     after={"status": HandoverStatus.TRANSFERRED, "reference": reference,
                            "transferred_at": transferred_at.isoformat(), "total": locked.total,
                            "pledges": len(shares)})
    return locked


def ledger_refundable(*, campaign: Campaign, pledge: Pledge | None = None) -> int:
    """Waiting money that may go back: a pledge's waiting money beyond its share, or the
    campaign's money that belongs to no pledge."""
    if pledge is None:
        return max(_unassigned(campaign).waiting, 0)
    money = pledge_money(pledge=pledge)
    return max(money.waiting - pledge_share(status=pledge.status, amount=pledge.amount, money=money), 0)


def ledger_refund(*, regency: Regency, campaign: Campaign, actor: User, amount: int, note: str,
                  pledge: Pledge | None = None, settles: LedgerEntry | None = None) -> LedgerEntry:
    """Give back waiting money that will not be handed over (see the module): a `refunded` row.
    More than may be refunded (for the pledge when given, else the money of no pledge) -> 400."""
    _require_money(actor, regency)
    if campaign.regency_id != regency.pk or (pledge is not None and pledge.campaign_id != campaign.pk):
        raise NotFound()
    if settles is not None:
        if settles.regency_id != regency.pk or settles.campaign_id != campaign.pk:
            raise NotFound()
        if settles.kind != LedgerKind.RECEIVED or (pledge is not None and settles.pledge_id != pledge.pk):
            raise DomainError(_("Pengembalian hanya dapat mengacu pada uang masuk janji yang sama."),
                              code="invalid")
    note = (note or "").strip()
    errors = {}
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        errors["amount"] = _("Jumlah harus bilangan bulat rupiah lebih dari 0.")
    if not note:
        errors["note"] = _("Tulis ke mana dan mengapa uang dikembalikan.")
    if errors:
        raise DomainError("; ".join(str(v) for v in errors.values()), code="invalid", extra={"errors": errors})
    with transaction.atomic():
        _lock_regency(regency.pk)
        if pledge is None and settles is not None and settles.pledge_id is not None:
            pledge = Pledge.objects.for_regency(regency).get(pk=settles.pledge_id)
        if pledge is not None:
            pledge = Pledge.objects.for_regency(regency).select_for_update(of=("self",)).get(pk=pledge.pk)
        refundable = ledger_refundable(campaign=campaign, pledge=pledge)
        if settles is not None:
            used = (LedgerEntry.objects.for_regency(regency).filter(settles=settles)
                    .aggregate(s=Sum("amount"))["s"] or 0)
            refundable = min(refundable, settles.amount - int(used))
        if amount > refundable:
            raise DomainError(
                _("Jumlah %(a)s melebihi uang yang dapat dikembalikan, %(r)s.")
                % {"a": format_rupiah(amount), "r": format_rupiah(refundable)},
                code="refund_exceeds_waiting", extra={"refundable": refundable})
        row = ledger_record(campaign=campaign, kind=LedgerKind.REFUNDED, source=LedgerSource.REFUND, amount=amount,
                            actor=actor, pledge=pledge, settles=settles, note=note)
        audit_record(actor=actor, verb="ledger.refunded", obj=row, regency=regency,
                     after={"campaign": campaign.slug, "amount": amount, "note": note[:200],
                            "pledge": str(pledge.public_id) if pledge is not None else None,
                            "settles": settles.pk if settles is not None else None})
    return row


# --- the file for the BPJS branch -------------------------------------------------------------------


def handover_xlsx(*, handover: Handover, lines: list[HandoverLine]) -> bytes:
    """One row per family VA (number, VA, bank, members, amount) and a total row, under a header
    block naming the batch. No names, NIK or card numbers: BPJS credits the VA."""
    regency, campaign = handover.regency, handover.campaign
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False,
                                     "strings_to_numbers": False, "strings_to_urls": False})
    sheet = book.add_worksheet(_("Penyerahan")[:31])
    bold = book.add_format({"bold": True})
    money = book.add_format({"num_format": "#,##0"})
    money_bold = book.add_format({"num_format": "#,##0", "bold": True})
    text = book.add_format({"num_format": "@"})
    for col, width in enumerate((6, 22, 18, 16, 18)):
        sheet.set_column(col, col, width)
    created = regency_today(regency, handover.created_at)
    head = [
        (_("Nomor batch"), handover.number),
        (_("Kabupaten/kota"), f"{regency.name} ({regency.code})"),
        (_("Kampanye"), campaign.title),
        (_("Dibuat"), format_date(created)),
        (_("Jumlah keluarga"), str(handover.families)),
        (_("Status"), str(HandoverStatus(handover.status).label)),
    ]
    if handover.status == HandoverStatus.TRANSFERRED:
        head.append((_("Ditransfer"), f"{format_date(handover.transferred_at)} · {handover.reference}"))
    sheet.write_string(0, 0, neutralise(_("Penyerahan iuran JKN ke BPJS Kesehatan")), bold)
    for row, (label, value) in enumerate(head, start=1):
        sheet.write_string(row, 0, neutralise(label), bold)
        sheet.write_string(row, 1, neutralise(value))
    top = len(head) + 2
    for col, title in enumerate((_("No."), _("Nomor VA"), _("Bank"), _("Jumlah anggota"), _("Jumlah (Rp)"))):
        sheet.write_string(top, col, neutralise(title), bold)
    row = top
    for row, line in enumerate(lines, start=top + 1):
        sheet.write_number(row, 0, row - top)
        sheet.write_string(row, 1, line.va_number, text)
        sheet.write_string(row, 2, VA_BANK)
        sheet.write_number(row, 3, line.members)
        sheet.write_number(row, 4, line.amount, money)
    total_row = row + 1
    sheet.write_string(total_row, 1, neutralise(_("Total")), bold)
    sheet.write_number(total_row, 3, sum(line.members for line in lines), bold)
    sheet.write_number(total_row, 4, handover.total, money_bold)
    sheet.freeze_panes(top + 1, 0)
    book.close()
    return out.getvalue()


def handover_filename(handover: Handover) -> str:
    return "penyerahan-" + handover.number.replace("/", "-")
