"""Reads of bank statements: the API's shape, the page's lists, the lookup by id (404 outside the
user's regency or without MANAGE_MONEY there)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.http import Http404

from accounts.models import User
from donations.models import BankStatement, Campaign, LineOutcome, PaymentRoute, StatementLine
from regencies.models import Regency
from regencies.permissions import regency_access_for
from regencies.roles import Perm


def may_manage_money(user: User | AnonymousUser | None, regency: Regency) -> bool:
    access = regency_access_for(user=user, regency=regency) if user is not None else None
    return access is not None and access.can(Perm.MANAGE_MONEY)



def statement_summary(statement: BankStatement) -> dict:
    """A statement as the API and the `import_statement` command show it."""
    return {
        "id": statement.pk, "status": statement.status, "lines": statement.lines, "matched": statement.matched,
        "unmatched": statement.unmatched, "duplicates": statement.duplicates,
        "errors": [{"row": e.get("row", 0), "column": e.get("column", ""), "message": e.get("message", "")}
                   for e in statement.errors],
    }


def statement_get_for_user(*, user: User | AnonymousUser, statement_id: int, regency: Regency | None = None) -> BankStatement:
    """A statement the user may see (MANAGE_MONEY in its regency), else 404; `regency` (a page's)
    must also be the statement's."""
    statement = (BankStatement.all_regencies.select_related("regency", "campaign", "uploaded_by")
                 .filter(pk=statement_id).first())
    if statement is None or (regency is not None and statement.regency_id != regency.pk):
        raise Http404("statement")
    if not may_manage_money(user, statement.regency):
        raise Http404("statement")
    return statement


def statement_list(*, regency: Regency) -> QuerySet[BankStatement]:
    return (BankStatement.objects.for_regency(regency).select_related("campaign", "uploaded_by")
            .order_by("-created_at", "-id"))


def collected_campaigns(*, regency: Regency) -> QuerySet[Campaign]:
    return Campaign.objects.for_regency(regency).filter(payment_route=PaymentRoute.COLLECTED).order_by("title")


@dataclass
class LinesPage:
    unmatched: list[StatementLine]
    unmatched_total: int


def statement_open_lines(*, statement: BankStatement, limit: int = 500) -> LinesPage:
    """The lines a person must look at: matched nothing, or a closed pledge."""
    qs = (StatementLine.objects.for_regency(statement.regency_id)
          .filter(statement=statement, outcome__in=[LineOutcome.UNMATCHED, LineOutcome.CLOSED_PLEDGE])
          .order_by("row"))
    rows = list(qs[:limit])
    total = len(rows) if len(rows) < limit else qs.count()
    return LinesPage(unmatched=rows, unmatched_total=total)
