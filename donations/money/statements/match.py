"""Match a statement's credit lines to pledges and record them: set-based, a constant number of
queries whatever the number of lines.

`statement_match` runs inside the caller's transaction, AFTER the caller took the regency's row
lock (`donations.services._lock_regency`): every writer of a pledge or a payment of the regency
takes that lock first, so two statements (or a statement and a provider notification, or a
donor's report) are applied one after the other, and the second one sees what the first one
committed (READ COMMITTED: every statement below takes a fresh snapshot).

The valid lines are COPYed into a temporary table; then, in SQL:
1. the payment code: candidates `SU` + 8 characters of the code alphabet found in the
   description (case ignored); the first one that is a pledge of the regency wins, a pledge of
   this campaign before one of another campaign;
2. lines already recorded (the same date + reference + amount in the regency, by any earlier
   statement) are `duplicate` and not stored again;
3. a code of another campaign of the regency is a row error (the line belongs to that
   campaign's statement); a pledge that already has a payment with the line's reference keeps
   it (the line is stored as `duplicate` of that payment); the same reference twice for one pledge
   in this file is a row error on the second; a line of the same amount as a payment a provider
   notified for the pledge, which no statement line confirmed yet, is that payment seen from the
   bank's side (stored as `duplicate` of it: one transfer, one payment;
   `donations.money.notifications` applies the same rule the other way round);
4. a line on a pledge open for money (reserved, pledged, paid) is a payment, in line order: the
   paid amount before each line is the pledge's plus the earlier lines', which decides the moves
   reserved -> pledged (the first line) and -> paid (the line that reaches the amount) and the
   overpayment (recorded whole, raised as an anomaly);
5. a line on a closed pledge (expired, cancelled, released, verified, disputed) and a line
   that names no pledge are stored, with a `received` ledger row (the money is in the account)
   and, for a closed pledge, an anomaly for a person to decide;
6. then the writes, one statement each: receipt numbers as a block from the regency's counter,
   payments, statement lines, ledger rows, the pledges' paid amounts and statuses, audit events,
   anomalies.
For one line this writes exactly what `donations.money.payments.payment_apply` writes
(tests/donations/test_statements.py compares them)."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg2 import sql

from core.models import AuditEvent
from core.time import regency_today
from donations.models import (
    Anomaly,
    AnomalyKind,
    AnomalyStatus,
    BankStatement,
    LedgerEntry,
    LedgerKind,
    LedgerSource,
    LineOutcome,
    Payment,
    PaymentSource,
    Pledge,
    PledgeStatus,
    ReceiptCounter,
    StatementLine,
    Tariff,
)
from donations.money.payments import OPEN_FOR_MONEY
from donations.money.receipts import receipt_number_format
from participants.imports.problems import RowError
from participants.models import Participant

# donations.models.new_payment_code: `SU` + 8 of PAYMENT_CODE_ALPHABET (no 0/O, 1/I).
CODE_PATTERN = "SU[A-HJ-NP-Z2-9]{8}"

# The lines stored as StatementLine rows (a `duplicate` of an earlier line and a row error are not).
_KEPT = sql.SQL("('pay', 'paid_before', 'unmatched', 'closed_pledge')")

# The tables the statements name (through sql.Identifier), from the models.
_TABLES = {
    "pledge": Pledge, "payment": Payment, "line_t": StatementLine, "ledger": LedgerEntry, "anomaly": Anomaly,
    "participant": Participant, "tariff": Tariff, "audit": AuditEvent, "counter": ReceiptCounter,
}

# The status values the statements compare with or write: parameters, from the enums.
_VALUES = {
    "reserved": PledgeStatus.RESERVED.value, "pledged_s": PledgeStatus.PLEDGED.value,
    "paid_s": PledgeStatus.PAID.value,
    "not_paid": (PledgeStatus.RESERVED.value, PledgeStatus.PLEDGED.value),
    "an_open": AnomalyStatus.OPEN.value,
}


def _q(template: str, **parts: sql.Composable) -> sql.Composed:
    """`template` with {pledge}, {payment}, ... (see _TABLES) and `parts` filled in; table
    names as identifiers (a statement's temporary tables come in `parts`)."""
    tables = {name: sql.Identifier(model._meta.db_table) for name, model in _TABLES.items()}
    return sql.SQL(template).format(**tables, **parts)

_REF, _OVER, _AMOUNT, _STATUS = "\u00a7REF\u00a7", "\u00a7OVER\u00a7", "\u00a7AMOUNT\u00a7", "\u00a7STATUS\u00a7"


@dataclass
class MatchResult:
    matched: int = 0
    unmatched: int = 0
    duplicates: int = 0
    amount_matched: int = 0
    errors: list[RowError] = field(default_factory=list)
    by_outcome: dict[str, int] = field(default_factory=dict)


def _rupiah_sql(expr: str) -> sql.Composed:
    """core.formatting.format_rupiah in SQL: `1250000` -> `Rp1.250.000`."""
    return sql.SQL("('Rp' || replace(to_char({}, 'FM999,999,999,999,999,990'), ',', '.'))").format(sql.SQL(expr))


def _copy_lines(table: sql.Identifier, lines: pl.DataFrame) -> None:
    buf = io.BytesIO()
    lines.select("row", "line_date", "description", "amount", "reference").write_csv(buf, include_header=False)
    buf.seek(0)
    with connection.cursor() as cur:
        cur.cursor.copy_expert(
            sql.SQL("COPY {} (line_row, line_date, description, amount, reference) FROM STDIN WITH (FORMAT csv)")
            .format(table), buf)


def statement_match(*, statement: BankStatement, lines: pl.DataFrame, now: dt.datetime | None = None) -> MatchResult:
    """Record `lines` (parse.LINES_SCHEMA) of `statement` (see the module). Inside the caller's
    transaction, under the regency's row lock."""
    moment = now or timezone.now()
    regency = statement.regency
    table = sql.Identifier(f"statement_lines_{int(statement.pk)}")
    params: dict[str, Any] = {**_VALUES, "regency": regency.pk, "campaign": statement.campaign_id,
                              "statement": statement.pk, "now": moment, "pattern": CODE_PATTERN}
    open_statuses = tuple(str(s) for s in OPEN_FOR_MONEY)
    staged = sql.Identifier(f"statement_lines_{int(statement.pk)}_in")
    with connection.cursor() as cur:
        cur.execute(sql.SQL(
            "CREATE TEMP TABLE {} (line_row integer PRIMARY KEY, line_date date NOT NULL,"
            " description text NOT NULL, amount bigint NOT NULL, reference text NOT NULL) ON COMMIT DROP").format(staged))
        _copy_lines(staged, lines)
        cur.execute(sql.SQL("ANALYZE {}").format(staged))
        # What a pledge owes grows as months pass: a pledge of this campaign named by a line,
        # quoted in an earlier month than today's, is re-quoted first (as
        # `donations.services._requote` does), so the line is matched against what is owed now.
        _requote_named_pledges(cur, staged=staged, params=params, today=regency_today(regency, moment))
        # Steps 1-5 of the module in one pass: every line with its kind and, for the lines that are
        # kept, the ids of the rows they become (drawn ahead: nothing joins back from RETURNING).
        cur.execute(
            _q("""CREATE TEMP TABLE {table} ON COMMIT DROP AS
                WITH cand AS (
                  SELECT i.line_row, (m.code)[1] COLLATE "C" AS code, m.ord
                    FROM {staged} i
                   CROSS JOIN LATERAL regexp_matches(upper(i.description), %(pattern)s, 'g')
                         WITH ORDINALITY AS m(code, ord)
                ), hit AS (
                  SELECT DISTINCT ON (c.line_row) c.line_row, p.id AS pledge_id, p.campaign_id AS pledge_campaign,
                         c.code, p.status AS status_before, p.amount AS pledge_amount, p.paid_amount AS paid0
                    FROM cand c JOIN {pledge} p ON p.payment_code = c.code AND p.regency_id = %(regency)s
                   ORDER BY c.line_row, (p.campaign_id = %(campaign)s) DESC, c.ord
                ), k1 AS (
                  SELECT i.*, h.pledge_id, h.pledge_campaign, h.code, h.status_before, h.pledge_amount, h.paid0,
                         coalesce(y.id, pv.id) AS prior_payment,
                         CASE WHEN l.id IS NOT NULL THEN 'duplicate'
                              WHEN h.pledge_campaign <> %(campaign)s THEN 'other_campaign'
                              WHEN coalesce(y.id, pv.id) IS NOT NULL THEN 'paid_before' END AS early
                    FROM {staged} i
                    LEFT JOIN hit h ON h.line_row = i.line_row
                    LEFT JOIN {line_t} l
                           ON l.regency_id = %(regency)s AND l.line_date = i.line_date
                          AND l.reference = i.reference AND l.amount = i.amount
                    LEFT JOIN {payment} y ON y.pledge_id = h.pledge_id AND y.reference = i.reference
                    -- the same money already notified by a payment provider (see below)
                    LEFT JOIN LATERAL (
                      SELECT v.id FROM {payment} v
                       WHERE h.pledge_id IS NOT NULL AND v.pledge_id = h.pledge_id AND v.regency_id = %(regency)s
                         AND v.source = %(provider)s AND v.amount = i.amount
                         AND NOT EXISTS (SELECT 1 FROM {line_t} sl
                                          WHERE sl.payment_id = v.id AND sl.regency_id = %(regency)s)
                       ORDER BY v.id LIMIT 1
                    ) pv ON true
                ), k2 AS (
                  SELECT k1.*, min(line_row) OVER (PARTITION BY pledge_id, reference, early IS NULL) AS first_row
                    FROM k1
                ), k3 AS (
                  SELECT k2.*, CASE WHEN early IS NOT NULL THEN early
                                    WHEN pledge_id IS NULL THEN 'unmatched'
                                    WHEN first_row <> line_row THEN 'ref_repeat'
                                    WHEN status_before IN %(open)s THEN 'pay'
                                    ELSE 'closed_pledge' END AS kind
                    FROM k2
                ), k4 AS (
                  SELECT k3.*,
                         CASE WHEN kind = 'pay' THEN paid0 + sum(amount) OVER w - amount END AS before_paid,
                         CASE WHEN kind = 'pay' THEN row_number() OVER w END AS nth,
                         CASE WHEN kind = 'pay' THEN row_number() OVER (PARTITION BY kind = 'pay' ORDER BY line_row)
                         END AS nth_receipt
                    FROM k3
                  WINDOW w AS (PARTITION BY pledge_id, kind = 'pay' ORDER BY line_row)
                )
                SELECT line_row, line_date, description, amount, reference, pledge_id, code, kind, first_row,
                       status_before, pledge_amount, before_paid, nth, nth_receipt,
                       CASE WHEN kind = 'pay' THEN greatest(before_paid + amount - pledge_amount, 0)
                                                   - greatest(before_paid - pledge_amount, 0) END AS overpaid,
                       CASE WHEN kind = 'pay' THEN nextval(pg_get_serial_sequence({payment_name}, 'id'))
                            WHEN kind = 'paid_before' THEN prior_payment END AS payment_id,
                       CASE WHEN kind IN {kept}
                            THEN nextval(pg_get_serial_sequence({line_name}, 'id')) END AS line_id
                  FROM k4 ORDER BY line_row""", kept=_KEPT, line_name=sql.Literal(StatementLine._meta.db_table), payment_name=sql.Literal(Payment._meta.db_table), staged=staged, table=table),
            {**params, "open": open_statuses, "provider": PaymentSource.PROVIDER.value})
        cur.execute(sql.SQL("ANALYZE {}").format(table))
        cur.execute(sql.SQL("SELECT kind, count(*), coalesce(sum(amount), 0) FROM {} GROUP BY kind").format(table))
        counts = {kind: (int(n), int(total)) for kind, n, total in cur.fetchall()}
        paying = counts.get("pay", (0, 0))[0]
        # 6. the writes
        if paying:
            _write_payments(cur, table=table, statement=statement, paying=paying, moment=moment, params=params)
        _write_lines_and_ledger(cur, table=table, params=params)
        if paying:
            _write_pledges_and_audit(cur, table=table, params=params)
        _write_anomalies(cur, table=table, params=params)
        cur.execute(
            sql.SQL("SELECT line_row, kind, code, first_row, reference FROM {} "
                    "WHERE kind IN ('other_campaign', 'ref_repeat') ORDER BY line_row").format(table))
        problems = cur.fetchall()
    return MatchResult(
        matched=counts.get("pay", (0, 0))[0],
        unmatched=counts.get("unmatched", (0, 0))[0] + counts.get("closed_pledge", (0, 0))[0],
        duplicates=counts.get("duplicate", (0, 0))[0] + counts.get("paid_before", (0, 0))[0],
        amount_matched=counts.get("pay", (0, 0))[1],
        errors=[_problem(*p) for p in problems],
        by_outcome={k: v[0] for k, v in counts.items()},
    )


def _requote_named_pledges(cur: CursorWrapper, *, staged: sql.Identifier, params: dict[str, Any],
                           today: dt.date) -> None:
    """One statement: the unpaid pledges of this campaign whose code a line names and whose amount
    covers the contributions only up to an earlier month get each month since at the tariff in
    force in it (the participant's class), and one audit event `pledge.requoted` each."""
    cur.execute(
        _q("""WITH codes AS (
              SELECT DISTINCT (m.code)[1] COLLATE "C" AS code
                FROM {staged} i CROSS JOIN LATERAL regexp_matches(upper(i.description), %(pattern)s, 'g') AS m(code)
            ), months AS (
              SELECT p.id, p.amount, p.paid_amount, p.quoted_on, p.covers_until, mo::date AS month,
                     (SELECT t.amount FROM {tariff} t
                       WHERE t.care_class = part.care_class AND t.effective_from <= mo::date
                       ORDER BY t.effective_from DESC LIMIT 1) AS tariff
                FROM codes c
                JOIN {pledge} p ON p.payment_code = c.code AND p.regency_id = %(regency)s
                 AND p.campaign_id = %(campaign)s AND p.status IN %(not_paid)s
                 AND p.covers_until < %(month)s AND p.paid_amount < p.amount
                JOIN {participant} part ON part.id = p.participant_id AND part.regency_id = %(regency)s
               CROSS JOIN LATERAL generate_series(p.covers_until + interval '1 month', %(month)s::date,
                                                  interval '1 month') AS mo
            ), due AS (
              SELECT id, amount, paid_amount, quoted_on, covers_until, sum(tariff)::bigint AS added,
                     max(month) AS until,
                     jsonb_agg(jsonb_build_object('month', to_char(month, 'YYYY-MM'), 'tariff', tariff,
                                                  'due_on', to_char(month + 9, 'YYYY-MM-DD')) ORDER BY month) AS list
                FROM months GROUP BY id, amount, paid_amount, quoted_on, covers_until
              HAVING bool_and(tariff IS NOT NULL)
            ), upd AS (
              UPDATE {pledge} p
                 SET amount = p.amount + d.added, quoted_on = %(today)s, covers_until = d.until, updated_at = %(now)s
                FROM due d WHERE p.id = d.id AND p.regency_id = %(regency)s
              RETURNING p.id
            )
            INSERT INTO {audit} (actor_id, regency_id, verb, object_type, object_id, before, after, created_at)
            SELECT NULL, %(regency)s, 'pledge.requoted', 'donations.pledge', d.id::text,
                   jsonb_build_object('amount', d.amount, 'outstanding', greatest(d.amount - d.paid_amount, 0),
                                      'quoted_on', to_char(d.quoted_on, 'YYYY-MM-DD'),
                                      'covers_until', to_char(d.covers_until, 'YYYY-MM-DD')),
                   jsonb_build_object('amount', d.amount + d.added,
                                      'outstanding', greatest(d.amount + d.added - d.paid_amount, 0),
                                      'added', d.added, 'quoted_on', to_char(%(today)s::date, 'YYYY-MM-DD'),
                                      'covers_until', to_char(d.until, 'YYYY-MM-DD'), 'months', d.list),
                   %(now)s
              FROM due d JOIN upd u ON u.id = d.id
             ORDER BY d.id""", staged=staged),
        {**params, "today": today, "month": today.replace(day=1)})


def _problem(row: int, kind: str, code: str, first_row: int | None, reference: str) -> RowError:
    if kind == "other_campaign":
        message = _("Kode pembayaran %(code)s milik janji kampanye lain; unggah baris ini pada mutasi "
                    "kampanye tersebut.") % {"code": code}
        return RowError(row=row, column="keterangan", message=message, value=code)
    message = _("Referensi %(ref)s sudah dipakai baris %(first)s untuk janji yang sama (kode %(code)s); "
                "baris ini tidak dicatat.") % {"ref": reference, "first": first_row, "code": code}
    return RowError(row=row, column="referensi", message=message, value=reference[:200])


def _write_payments(cur: CursorWrapper, *, table: sql.Identifier, statement: BankStatement, paying: int,
                    moment: dt.datetime, params: dict[str, Any]) -> None:
    """Receipt numbers as one block of the regency's counter for the year, numbered in line order;
    the payments' ids drawn ahead (so no join back from RETURNING), then the payments."""
    regency = statement.regency
    year = regency_today(regency, moment).year
    cur.execute(
        _q("INSERT INTO {counter} AS c (regency_id, year, last) VALUES (%s, %s, %s) "
           "ON CONFLICT (regency_id, year) DO UPDATE SET last = c.last + EXCLUDED.last RETURNING c.last"),
        [regency.pk, year, paying])
    (last,) = cur.fetchone()
    first = int(last) - paying + 1
    # receipt_number_format in SQL: its text before the zero-padded number, checked on the block's ends.
    prefix = receipt_number_format(regency_code=regency.code, year=year, number=0)[:-6]
    for k in (first, int(last)):
        assert receipt_number_format(regency_code=regency.code, year=year, number=k) == f"{prefix}{k:06d}"
    cur.execute(
        _q("""INSERT INTO {payment} (id, regency_id, pledge_id, amount, reference, paid_on, source,
                                           receipt_number, receipt, receipt_content_type, recorded_by_id, created_at)
            SELECT s.payment_id, %(regency)s, s.pledge_id, s.amount, s.reference, s.line_date, %(source)s,
                   %(prefix)s || lpad(n::text, greatest(6, length(n::text)), '0'), '', '', NULL, %(now)s
              FROM {table} s CROSS JOIN LATERAL (SELECT %(first)s + s.nth_receipt - 1 AS n) r
             WHERE s.kind = 'pay' ORDER BY s.line_row""", table=table),
        {**params, "source": PaymentSource.BANK_STATEMENT.value, "prefix": prefix, "first": first})


def _write_lines_and_ledger(cur: CursorWrapper, *, table: sql.Identifier, params: dict[str, Any]) -> None:
    cur.execute(
        _q("""INSERT INTO {line_t} (id, regency_id, statement_id, "row", line_date, description, amount,
                                                 reference, outcome, pledge_id, payment_id, created_at)
            SELECT s.line_id, %(regency)s, %(statement)s, s.line_row, s.line_date, s.description, s.amount,
                   s.reference,
                   CASE s.kind WHEN 'pay' THEN CASE WHEN s.overpaid > 0 THEN %(overpaid)s ELSE %(matched)s END
                               WHEN 'paid_before' THEN %(duplicate)s
                               WHEN 'closed_pledge' THEN %(closed)s ELSE %(unmatched)s END,
                   s.pledge_id, s.payment_id, %(now)s
              FROM {table} s WHERE s.kind IN {kept} ORDER BY s.line_row""", kept=_KEPT, table=table),
        {**params, "overpaid": LineOutcome.OVERPAID.value, "matched": LineOutcome.MATCHED.value,
         "duplicate": LineOutcome.DUPLICATE.value, "closed": LineOutcome.CLOSED_PLEDGE.value,
         "unmatched": LineOutcome.UNMATCHED.value})
    # Every credit that is new money in the account is `received`: a payment, and a line that
    # paid nothing (no pledge, or a closed one) until a person decides what it is.
    cur.execute(
        _q("""INSERT INTO {ledger} (regency_id, campaign_id, kind, source, amount, pledge_id, payment_id,
                                               statement_line_id, handover_id, settles_id, note, actor_id, created_at)
            SELECT %(regency)s, %(campaign)s, %(kind)s, %(source)s, s.amount,
                   CASE WHEN s.kind = 'pay' THEN s.pledge_id END, s.payment_id, s.line_id, NULL, NULL,
                   CASE s.kind WHEN 'unmatched' THEN %(note_unmatched)s
                               WHEN 'closed_pledge' THEN left(%(note_closed)s || ' ' || s.code, 200) ELSE '' END,
                   NULL, %(now)s
              FROM {table} s WHERE s.kind IN ('pay', 'unmatched', 'closed_pledge')
             ORDER BY s.line_row""", table=table),
        {**params, "kind": LedgerKind.RECEIVED.value, "source": LedgerSource.BANK_STATEMENT.value,
         "note_unmatched": str(_("Mutasi rekening tanpa kode pembayaran yang cocok"))[:200],
         "note_closed": str(_("Mutasi rekening untuk janji yang sudah ditutup:"))[:150]})


def _write_pledges_and_audit(cur: CursorWrapper, *, table: sql.Identifier, params: dict[str, Any]) -> None:
    """The pledges' paid amounts and moves, then the audit events in the order payment_apply
    writes them: payment.recorded, pledge.pledged, pledge.paid, line after line."""
    becomes_pledged = sql.SQL("(s.status_before = %(reserved)s AND s.nth = 1)")
    becomes_paid = sql.SQL("(s.status_before IN %(not_paid)s AND s.before_paid + s.amount >= s.pledge_amount"
                           " AND (s.before_paid < s.pledge_amount OR s.nth = 1))")
    cur.execute(
        _q("""WITH agg AS (
              SELECT s.pledge_id, sum(s.amount) AS total, bool_or({becomes_pledged}) AS to_pledged,
                     bool_or({becomes_paid}) AS to_paid
                FROM {table} s WHERE s.kind = 'pay' GROUP BY s.pledge_id
            )
            UPDATE {pledge} p
               SET paid_amount = p.paid_amount + agg.total, updated_at = %(now)s,
                   status = CASE WHEN agg.to_paid THEN %(paid)s WHEN agg.to_pledged THEN %(pledged)s ELSE p.status END,
                   pledged_at = CASE WHEN agg.to_pledged THEN %(now)s ELSE p.pledged_at END,
                   paid_at = CASE WHEN agg.to_paid THEN %(now)s ELSE p.paid_at END
              FROM agg WHERE p.id = agg.pledge_id""", becomes_paid=becomes_paid, becomes_pledged=becomes_pledged, table=table),
        {**params, "paid": PledgeStatus.PAID.value, "pledged": PledgeStatus.PLEDGED.value})
    after_paid = sql.SQL("(s.before_paid + s.amount)")
    cur.execute(
        _q("""INSERT INTO {audit} (actor_id, regency_id, verb, object_type, object_id, before, after, created_at)
            SELECT NULL, %(regency)s, e.verb, e.object_type, e.object_id, e.before, e.after, %(now)s
              FROM {table} s JOIN {pledge} p ON p.id = s.pledge_id
              JOIN {payment} y ON y.id = s.payment_id
             CROSS JOIN LATERAL (VALUES
               (1, 'payment.recorded', 'donations.payment', s.payment_id::text, NULL::jsonb,
                jsonb_build_object('pledge', p.public_id::text, 'amount', s.amount, 'reference', s.reference,
                                   'paid_on', to_char(s.line_date, 'YYYY-MM-DD'), 'source', %(source)s::text,
                                   'receipt_number', y.receipt_number, 'receipt', false,
                                   'paid_amount', {after_paid},
                                   'outstanding', greatest(s.pledge_amount - {after_paid}, 0))),
               (2, 'pledge.pledged', 'donations.pledge', p.id::text, jsonb_build_object('status', %(reserved)s),
                jsonb_build_object('status', %(pledged_s)s, 'payment', s.payment_id, 'paid_amount', {after_paid})),
               (3, 'pledge.paid', 'donations.pledge', p.id::text, jsonb_build_object('status', %(pledged_s)s),
                jsonb_build_object('status', %(paid_s)s, 'payment', s.payment_id, 'paid_amount', {after_paid}))
             ) AS e(k, verb, object_type, object_id, before, after)
             WHERE s.kind = 'pay' AND (e.k = 1 OR (e.k = 2 AND {becomes_pledged}) OR (e.k = 3 AND {becomes_paid}))
             ORDER BY s.line_row, e.k""", after_paid=after_paid, becomes_paid=becomes_paid, becomes_pledged=becomes_pledged, table=table),
        {**params, "source": PaymentSource.BANK_STATEMENT.value})


def _write_anomalies(cur: CursorWrapper, *, table: sql.Identifier, params: dict[str, Any]) -> None:
    """An overpayment (the last overpaying line of a pledge names it) and money on a closed pledge:
    one open anomaly per pledge and kind, as payment_apply keeps it (reopened with the new detail)."""
    overpaid = (_("Pembayaran %(ref)s membuat janji terbayar %(over)s lebih dari jumlahnya; "
                  "putuskan: kembalikan ke donatur atau serahkan ke BPJS.") % {"ref": _REF, "over": _OVER})
    closed = (_("Uang %(amount)s (referensi %(ref)s) masuk untuk janji berstatus %(status)s; "
                "putuskan: kembalikan ke donatur atau serahkan ke BPJS.")
              % {"amount": _AMOUNT, "ref": _REF, "status": _STATUS})
    labels = sql.SQL(" ").join(sql.SQL("WHEN {} THEN {}").format(sql.Literal(value), sql.Placeholder(f"label_{value}"))
                               for value in PledgeStatus.values)
    label_params = {f"label_{value}": str(label) for value, label in PledgeStatus.choices}
    cur.execute(
        _q("""INSERT INTO {anomaly} (kind, status, regency_id, pledge_id, family_id, run_id, arrears_import_id,
                                           detail, note, notified_at, resolved_by_id, resolved_at, created_at)
            SELECT DISTINCT ON (s.pledge_id, s.kind)
                   CASE s.kind WHEN 'pay' THEN %(k_over)s ELSE %(k_closed)s END, %(an_open)s, %(regency)s, s.pledge_id,
                   pa.family_id, NULL, NULL,
                   left(CASE s.kind
                     WHEN 'pay' THEN replace(replace(%(t_over)s, %(ref)s, s.reference), %(over)s,
                                             {over_rp})
                     ELSE replace(replace(replace(%(t_closed)s, %(ref)s, s.reference), %(amount)s,
                                          {amount_rp}),
                                  %(status)s, CASE s.status_before {labels} ELSE s.status_before END)
                   END, 300), '', NULL, NULL, NULL, %(now)s
              FROM {table} s JOIN {pledge} p ON p.id = s.pledge_id
              JOIN {participant} pa ON pa.id = p.participant_id
             WHERE (s.kind = 'pay' AND s.overpaid > 0) OR s.kind = 'closed_pledge'
             ORDER BY s.pledge_id, s.kind, s.line_row DESC
            ON CONFLICT (pledge_id, kind) WHERE pledge_id IS NOT NULL
            DO UPDATE SET detail = EXCLUDED.detail, status = %(an_open)s""", amount_rp=_rupiah_sql('s.amount'), labels=labels, over_rp=_rupiah_sql('s.overpaid'), table=table),
        {**params, **label_params, "k_over": AnomalyKind.OVERPAYMENT.value,
         "k_closed": AnomalyKind.PAYMENT_ON_CLOSED_PLEDGE.value, "t_over": str(overpaid), "t_closed": str(closed),
         "ref": _REF, "over": _OVER, "amount": _AMOUNT, "status": _STATUS})
