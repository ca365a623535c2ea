"""Demo participants (`seed_demo --participants N`): a generated list through the REAL import."""

from __future__ import annotations

import tempfile
from pathlib import Path

from core.time import regency_today
from participants import services
from participants.imports.generate import generate_arrears_file
from participants.models import ArrearsImport, ImportMode, ImportStatus


def seed_participants(*, branch, per_regency: int, seed: int = 1) -> dict:
    """One applied full-list import for `branch` with about `per_regency` rows per regency.

    Idempotent: when the branch already has an applied import, returns its summary.
    """
    existing = (
        ArrearsImport.objects.filter(branch=branch, status=ImportStatus.APPLIED)
        .order_by("-as_of", "-id")
        .first()
    )
    if existing is not None:
        return services.import_summary(existing)
    from participants.management.commands.generate_arrears import branch_regencies

    specs = branch_regencies(branch.code) or []
    if per_regency <= 0 or not specs:
        return {"import_id": None, "status": "skipped", "rows": 0}
    as_of = regency_today(branch)
    with tempfile.TemporaryDirectory(prefix="satu-demo-") as tmp:
        path = Path(tmp) / f"tunggakan-{branch.code}-{as_of.isoformat()}.csv"
        generate_arrears_file(
            regencies=specs, branch=branch.code, rows=per_regency * len(specs), out=path, fmt="csv",
            # The list of 2026: pemutihan/REHAB columns, and a 30-month row (a warning on the import).
            seed=seed, as_of=as_of, even=True, columns_2026=True,
        )
        arrears_import, _duplicate = services.import_create(
            branch=branch, actor=None, uploaded_file=path, as_of=as_of, mode=ImportMode.FULL,
            enqueue=False,
        )
    arrears_import = services.import_run(import_id=arrears_import.pk)
    return services.import_summary(arrears_import)
