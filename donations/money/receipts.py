"""Receipt (kuitansi) numbers: per regency and year, without gaps.

The number is taken under the row lock of the regency's counter for the year, in the transaction
that records the payment: a rolled-back payment gives its number back, so the numbers of the
payments that exist run 1, 2, 3, ... with no hole."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from psycopg2 import sql

from donations.models import ReceiptCounter
from regencies.models import Regency

_NEXT = sql.SQL("""
INSERT INTO {table} AS c (regency_id, year, last) VALUES (%s, %s, 1)
ON CONFLICT (regency_id, year) DO UPDATE SET last = c.last + 1
RETURNING c.last
""").format(table=sql.Identifier(ReceiptCounter._meta.db_table))


def receipt_number_format(*, regency_code: str, year: int, number: int) -> str:
    return f"KW/{regency_code}/{year}/{number:06d}"


def receipt_number_next(*, regency: Regency, on: dt.date) -> str:
    """The next number of `regency` in the year of `on` (the regency's date of recording). Must be
    called inside the transaction that stores the payment."""
    with connection.cursor() as cur:
        cur.execute(_NEXT, [regency.pk, on.year])
        (number,) = cur.fetchone()
    return receipt_number_format(regency_code=regency.code, year=on.year, number=int(number))
