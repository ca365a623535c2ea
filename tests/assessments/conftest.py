"""Constructed import histories for screening and assessment tests.

Participants, imports and their records are created directly (not through the
import pipeline), so each test states the exact history it screens.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools

import pytest
from django.core.files.base import ContentFile

from assessments import services
from participants.models import ArrearsImport, ArrearsRecord, Family, Participant

_seq = itertools.count(1)

VALID_ANSWERS = {
    "visit_date": "2026-11-20",
    "household_size": 4,
    "dependants": 2,
    "main_occupation": "farmer",
    "income_band": "below_half",
    "assets": ["motorbike"],
    "housing": "own_simple",
    "arrears_reason": "cannot_afford",
    "recent_hospitalisation": False,
    "under_treatment": False,
    "keep_paying": "willing_able",
    "consent": True,
}


class History:
    """Imports of one branch keyed by date; records for participants in them."""

    def __init__(self, branch):
        self.branch = branch
        self.imports: dict[tuple[dt.date, str], ArrearsImport] = {}

    def import_on(self, as_of: dt.date, mode: str = "full") -> ArrearsImport:
        key = (as_of, mode)
        if key not in self.imports:
            n = next(_seq)
            digest = hashlib.sha256(f"{self.branch.code}-{n}".encode()).hexdigest()
            imp = ArrearsImport(
                branch=self.branch, sha256=digest, as_of=as_of, mode=mode, status="applied",
                original_name=f"tunggakan-{n}.csv",
            )
            imp.file.save(f"t{n}.csv", ContentFile(b"no_kartu\n"), save=False)
            imp.save()
            self.imports[key] = imp
        return self.imports[key]

    def participant(self, regency, points, *, care_class=3, family=None, district=None,
                    status=None, cleared_at=None, mode="full") -> Participant:
        """`points`: [(date, months or None)], None = absent from that (full) import."""
        n = next(_seq)
        present = [(d, m) for d, m in points if m is not None]
        last_date, last_months = present[-1] if present else (None, 0)
        p = Participant.objects.create(
            regency=regency, card_number=f"{n:013d}", nik=f"7322{n:012d}",
            name=f"Peserta {n}", care_class=care_class, segment="PBPU", family=family,
            district=district, months_in_arrears=last_months, arrears_amount=last_months * 35000,
            status=status or ("inactive" if last_months else "active"),
            cleared_at=cleared_at, as_of=last_date,
        )
        for row, (day, months) in enumerate(points, start=2):
            imp = self.import_on(day, mode)
            if months is None:
                continue
            ArrearsRecord.objects.create(
                regency=regency, arrears_import=imp, participant=p, as_of=day, row_number=row,
                months_in_arrears=months, arrears_amount=months * 35000,
                bpjs_status="inactive" if months else "active", care_class=care_class, segment="PBPU",
            )
        return p


def family(regency) -> Family:
    return Family.objects.create(regency=regency, number=f"7322{next(_seq):012d}")


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.fixture
def history_a(branch_a):
    return History(branch_a)


@pytest.fixture
def history_b(branch_b):
    return History(branch_b)


@pytest.fixture
def participant_a(history_a, regency_a, district_a):
    return history_a.participant(regency_a, [(d("2026-09-01"), 7), (d("2026-10-01"), 8)], district=district_a)


@pytest.fixture
def participant_b(history_b, regency_b, district_b):
    return history_b.participant(regency_b, [(d("2026-10-01"), 5)], district=district_b)


@pytest.fixture
def draft_a(regency_a, assessor_a, participant_a):
    return services.assessment_start(regency=regency_a, actor=assessor_a, participant=participant_a)


@pytest.fixture
def submitted_a(draft_a, assessor_a):
    services.assessment_save_answers(assessment=draft_a, actor=assessor_a, answers=VALID_ANSWERS)
    return services.assessment_submit(assessment=draft_a, actor=assessor_a)


@pytest.fixture
def draft_b(regency_b, assessor_b, participant_b):
    return services.assessment_start(regency=regency_b, actor=assessor_b, participant=participant_b)
