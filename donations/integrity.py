"""Integrity checks of pledges and money (run by `manage.py check_integrity`, core.integrity).

received = handed over + waiting + refunded holds per campaign by definition (waiting is what
remains), so the ledger is checked where it can go wrong: waiting never below zero, each
pledge's `paid_amount` the sum of its payments, one `received` row per payment, a transferred
hand-over's `handed_over` rows summing to its total, and receipt numbers without gaps."""

from psycopg2 import sql

from core.integrity import Statement, column, register, register_same_regency, table
from donations import tallies
from donations.models import (
    Allocation,
    Anomaly,
    Handover,
    HandoverLine,
    HandoverStatus,
    LedgerEntry,
    LedgerKind,
    Payment,
    Pledge,
    ReceiptCounter,
    ReconciliationOutcome,
    UnfinishedPledge,
)

register_same_regency(Pledge, "campaign")
register_same_regency(Pledge, "participant")
register_same_regency(Payment, "pledge")
register_same_regency(Allocation, "pledge")
register_same_regency(LedgerEntry, "campaign")
register_same_regency(ReconciliationOutcome, "pledge")
register_same_regency(Anomaly, "pledge")
register_same_regency(Anomaly, "family")
register_same_regency(HandoverLine, "family")
register_same_regency(UnfinishedPledge, "pledge")


@register("money:ledger_waiting_negative", "campaigns whose ledger pays out more than it received")
def _waiting() -> Statement:
    return sql.SQL(
        "SELECT count(*) FROM (SELECT {campaign} FROM {ledger} GROUP BY {campaign}"
        " HAVING coalesce(sum({amount}) FILTER (WHERE {kind} = %(received)s), 0)"
        " < coalesce(sum({amount}) FILTER (WHERE {kind} <> %(received)s), 0)) AS bad"
    ).format(campaign=column(LedgerEntry, "campaign"), ledger=table(LedgerEntry),
             amount=column(LedgerEntry, "amount"), kind=column(LedgerEntry, "kind")), \
        {"received": LedgerKind.RECEIVED.value}


@register("money:pledge_paid_amount", "pledges whose paid_amount is not the sum of their payments")
def _paid_amount() -> Statement:
    return sql.SQL(
        "SELECT count(*) FROM {pledge} AS p LEFT JOIN (SELECT {y_pledge} AS pledge_id, sum({y_amount}) AS total"
        " FROM {payment} GROUP BY {y_pledge}) AS y ON y.pledge_id = p.{p_id}"
        " WHERE p.{paid} <> coalesce(y.total, 0)"
    ).format(pledge=table(Pledge), payment=table(Payment), y_pledge=column(Payment, "pledge"),
             y_amount=column(Payment, "amount"), p_id=column(Pledge, "id"),
             paid=column(Pledge, "paid_amount")), None


@register("money:payment_received_rows", "payments without exactly one `received` ledger row")
def _received_rows() -> Statement:
    return sql.SQL(
        "SELECT count(*) FROM {payment} AS y LEFT JOIN (SELECT {l_payment} AS payment_id, count(*) AS n"
        " FROM {ledger} WHERE {kind} = %(received)s AND {l_payment} IS NOT NULL GROUP BY {l_payment}) AS l"
        " ON l.payment_id = y.{y_id} WHERE coalesce(l.n, 0) <> 1"
    ).format(payment=table(Payment), ledger=table(LedgerEntry), l_payment=column(LedgerEntry, "payment"),
             kind=column(LedgerEntry, "kind"), y_id=column(Payment, "id")), \
        {"received": LedgerKind.RECEIVED.value}


@register("money:handover_totals",
          "hand-overs whose `handed_over` ledger rows do not sum to their total (none before the transfer)")
def _handover_totals() -> Statement:
    return sql.SQL(
        "SELECT count(*) FROM {handover} AS h LEFT JOIN (SELECT {l_handover} AS handover_id,"
        " sum({amount}) AS total FROM {ledger} WHERE {kind} = %(handed_over)s AND {l_handover} IS NOT NULL"
        " GROUP BY {l_handover}) AS l ON l.handover_id = h.{h_id}"
        " WHERE (h.{status} = %(transferred)s AND coalesce(l.total, 0) <> h.{total})"
        " OR (h.{status} <> %(transferred)s AND l.total IS NOT NULL)"
    ).format(handover=table(Handover), ledger=table(LedgerEntry), l_handover=column(LedgerEntry, "handover"),
             amount=column(LedgerEntry, "amount"), kind=column(LedgerEntry, "kind"), h_id=column(Handover, "id"),
             status=column(Handover, "status"), total=column(Handover, "total")), \
        {"handed_over": LedgerKind.HANDED_OVER.value, "transferred": HandoverStatus.TRANSFERRED.value}


# donations.money.receipts: KW/<regency code>/<year>/<number>; the code holds no slash.
RECEIPT_PATTERN = r"^KW/[^/]+/[0-9]{4}/[0-9]{1,9}$"


@register("money:receipt_numbers",
          "regency-years whose receipt numbers have gaps or repeats, or whose counter is not the highest number")
def _receipts() -> Statement:
    return sql.SQL(
        "WITH r AS (SELECT {y_regency} AS regency_id,"
        "  CASE WHEN {number} ~ %(pattern)s THEN split_part({number}, '/', 3)::int END AS year,"
        "  CASE WHEN {number} ~ %(pattern)s THEN split_part({number}, '/', 4)::int END AS n FROM {payment}),"
        " g AS (SELECT regency_id, year, count(*) AS rows, count(DISTINCT n) AS distinct_n, max(n) AS top"
        "  FROM r GROUP BY regency_id, year)"
        " SELECT count(*) FROM g FULL JOIN {counter} AS c ON c.{c_regency} = g.regency_id AND c.{c_year} = g.year"
        " WHERE g.top IS DISTINCT FROM c.{last} OR g.rows <> g.top OR g.distinct_n <> g.rows"
    ).format(y_regency=column(Payment, "regency"), number=column(Payment, "receipt_number"),
             payment=table(Payment), counter=table(ReceiptCounter), c_regency=column(ReceiptCounter, "regency"),
             c_year=column(ReceiptCounter, "year"), last=column(ReceiptCounter, "last")), \
        {"pattern": RECEIPT_PATTERN}


@register("money:pledge_tally", "pledge tallies per campaign and status that differ from the pledges")
def _pledge_tally() -> Statement:
    return sql.SQL(tallies.PLEDGE_TALLY_DIFFERENCES), None


@register("money:cover_tally", "covered-participant tallies that differ from the pledges")
def _cover_tally() -> Statement:
    return sql.SQL(tallies.COVER_TALLY_DIFFERENCES), None


@register("money:unfinished_pledges",
          "pledges reconciliation would miss or decide again: reserved, pledged, paid or disputed without "
          "their row in donations_unfinishedpledge, or a row for a pledge that is none of those")
def _unfinished() -> Statement:
    return sql.SQL(tallies.UNFINISHED_DIFFERENCES), None
