"""A list made for trying the upload on the demo without spoiling it (dev and test only).

`manage.py demo_list --branch palopo` writes a PARTIAL arrears list of the branch: new
participants (generated, none of whose card, NIK or family-card numbers the branch holds yet)
and a few participants already on the list with one more month in arrears. Nobody with a
pledge or an assessment is in it, and a partial list clears nobody: the demo's pledges,
assessments and dashboards stay as they were, plus the new people.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from assessments.models import Assessment
from core.time import regency_today
from donations.models import Pledge
from participants.imports.generate import HEADER, generate_arrears_file
from participants.management.commands.generate_arrears import branch_regencies
from participants.models import Family, Participant, ParticipantStatus
from regencies.models import BpjsBranch

# Existing participants written again with one more month: enough for "diperbarui" to show.
UPDATED_ROWS = 20


def demo_list_write(*, branch_code: str, out: Path, new_rows: int, seed: int = 7) -> dict[str, Any]:
    """Write the list to `out` (CSV); returns what it holds. LookupError for an unknown branch."""
    branch = BpjsBranch.objects.filter(code=branch_code).first()
    specs = branch_regencies(branch_code) if branch is not None else None
    if branch is None or not specs:
        raise LookupError(branch_code)
    codes = dict(branch.regencies.values_list("pk", "code"))
    as_of = regency_today(branch)
    people = Participant.all_regencies.filter(regency_id__in=list(codes))
    cards = set(people.values_list("card_number", flat=True))
    niks = set(people.values_list("nik", flat=True))
    families = set(Family.all_regencies.filter(regency_id__in=list(codes)).values_list("number", flat=True))

    new = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        if new_rows > 0:
            with tempfile.TemporaryDirectory(prefix="satu-demo-list-") as tmp:
                generated = Path(tmp) / "baru.csv"
                generate_arrears_file(regencies=specs, branch=branch.code, rows=new_rows, out=generated,
                                      fmt="csv", seed=seed, as_of=as_of, even=True)
                with generated.open(newline="", encoding="utf-8") as rows:
                    reader = csv.DictReader(rows)
                    for row in reader:
                        if row["no_kartu"] in cards or row["nik"] in niks or row["no_kk"] in families:
                            continue
                        writer.writerow([row[column] for column in HEADER])
                        new += 1
        updated = 0
        for p in _untouched(people).order_by("pk")[:UPDATED_ROWS]:
            months = p.months_in_arrears + 1
            monthly = p.arrears_amount // p.months_in_arrears
            writer.writerow(_row(p, codes, months=months, amount=p.arrears_amount + monthly))
            updated += 1
    return {"path": str(out), "branch": branch.code, "as_of": as_of.isoformat(), "mode": "partial",
            "rows": new + updated, "new": new, "updated": updated}


def _untouched(people: Any) -> Any:
    """Participants still in arrears whom no pledge and no assessment concerns."""
    return (people.exclude(status=ParticipantStatus.CLEARED).filter(months_in_arrears__gt=0)
            .exclude(pk__in=Pledge.all_regencies.values("participant_id"))
            .exclude(pk__in=Assessment.all_regencies.values("participant_id"))
            .select_related("family", "district", "village"))


def _row(p: Participant, codes: dict[int, str], *, months: int, amount: int) -> list[Any]:
    def day(value: dt.date | None) -> str:
        return value.strftime("%d-%m-%Y") if value else ""

    return [
        p.card_number, p.nik, p.name, day(p.birth_date), p.sex, p.family.number if p.family else "",
        p.relationship, p.care_class, p.segment,
        p.village.code if p.village and p.village.code else codes[p.regency_id],
        p.district.name if p.district else "", p.village.name if p.village else "", p.address,
        months, amount, day(p.last_paid_date), "AKTIF" if p.bpjs_status == "active" else "TIDAK AKTIF",
    ]
