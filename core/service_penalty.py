"""The JKN service penalty (denda pelayanan), explained with numbers.

Inpatient care within 45 days after a card is active again costs the family 5 % of the INA-CBG
tariff of the case x the months that were in arrears (at most 12 counted), at most Rp30.000.000
(Perpres 64/2020, in force in 2026). Paying before one falls sick avoids it. The tariff
is an example (settings.SERVICE_PENALTY_EXAMPLE_TARIFF): the real one depends on the case.

In `core` so that the participant page (participants) and the pledge page (donations) share it."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

PENALTY_PERCENT = 5
PENALTY_MONTHS_MAX = 12
PENALTY_MAX = 30_000_000
PENALTY_DAYS = 45


def service_penalty(months: int, example_tariff: int) -> int:
    """5 % x `example_tariff` x `months` (at most 12), at most Rp30.000.000; integer rupiah."""
    counted = min(max(int(months), 0), PENALTY_MONTHS_MAX)
    return min(int(example_tariff) * counted * PENALTY_PERCENT // 100, PENALTY_MAX)


@dataclass(frozen=True)
class PenaltyExample:
    months_in_arrears: int
    months_counted: int
    example_tariff: int
    amount: int
    percent: int = PENALTY_PERCENT
    days: int = PENALTY_DAYS
    months_max: int = PENALTY_MONTHS_MAX
    maximum: int = PENALTY_MAX

    @property
    def capped(self) -> bool:
        return self.amount == PENALTY_MAX and self.example_tariff * self.months_counted * self.percent // 100 > PENALTY_MAX


def penalty_example(months_in_arrears: int, example_tariff: int | None = None) -> PenaltyExample:
    tariff = int(example_tariff if example_tariff is not None else settings.SERVICE_PENALTY_EXAMPLE_TARIFF)
    months = max(int(months_in_arrears or 0), 0)
    return PenaltyExample(months_in_arrears=months, months_counted=min(months, PENALTY_MONTHS_MAX),
                          example_tariff=tariff, amount=service_penalty(months, tariff))
