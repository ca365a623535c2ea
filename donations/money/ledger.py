"""The ledger: one append-only row per movement of a campaign's money.

What enters (every payment, and a statement credit that matched no pledge) is `received`; what
leaves is `handed_over` (to BPJS: by a hand-over batch, or straight into the family VA when the
donor paid it there) or `refunded`. Waiting is what is left: for every campaign
received = handed over + waiting + refunded, and no movement may leave more than was received."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Sum

from accounts.models import User
from donations.models import (
    Campaign,
    Handover,
    LedgerEntry,
    LedgerKind,
    Payment,
    Pledge,
    StatementLine,
)


@dataclass(frozen=True)
class LedgerBalance:
    received: int
    handed_over: int
    refunded: int

    @property
    def waiting(self) -> int:
        return self.received - self.handed_over - self.refunded

    def as_dict(self) -> dict[str, int]:
        return {"received": self.received, "handed_over": self.handed_over, "waiting": self.waiting,
                "refunded": self.refunded}


def ledger_record(*, campaign: Campaign, kind: str, source: str, amount: int, actor: User | None = None,
                  pledge: Pledge | None = None, payment: Payment | None = None,
                  statement_line: StatementLine | None = None, handover: Handover | None = None,
                  settles: LedgerEntry | None = None, note: str = "") -> LedgerEntry:
    """One row, inside the caller's transaction (which holds the locks that make it right)."""
    return LedgerEntry.objects.create(
        regency_id=campaign.regency_id, campaign=campaign, kind=kind, source=source, amount=amount, actor=actor,
        pledge=pledge, payment=payment, statement_line=statement_line, handover=handover, settles=settles,
        note=note[:200],
    )


def ledger_balance(*, campaign: Campaign) -> LedgerBalance:
    sums = dict(LedgerEntry.objects.for_regency(campaign.regency_id).filter(campaign=campaign)
                .values("kind").annotate(s=Sum("amount")).order_by().values_list("kind", "s"))
    return LedgerBalance(received=int(sums.get(LedgerKind.RECEIVED) or 0),
                         handed_over=int(sums.get(LedgerKind.HANDED_OVER) or 0),
                         refunded=int(sums.get(LedgerKind.REFUNDED) or 0))
