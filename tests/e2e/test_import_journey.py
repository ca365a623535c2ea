"""Journey (a): a BPJS branch admin uploads an arrears list and watches the import to its report."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from participants.models import ArrearsImport, ImportStatus, Participant
from tests.e2e.axe import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 200


@pytest.fixture
def worker(monkeypatch):
    """Stands in for the Celery worker: uploads are queued (not run in the upload request,
    as the eager test settings would), and `worker.run()` runs what is queued with the
    real task, while the browser keeps polling the report page."""

    class Worker:
        queued: list[int] = []

        def run(self) -> None:
            from participants.tasks import import_run_task

            while self.queued:
                import_run_task(self.queued.pop(0))

    w = Worker()
    w.queued = []
    monkeypatch.setattr("participants.services._enqueue", w.queued.append)
    return w


def test_bpjs_admin_uploads_a_list_and_watches_it_applied(
    login, worker, tmp_path, bpjs_a, branch_a, regency_a, regency_a2
):
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo(branch_a.timezone))
    path = tmp_path / "tunggakan-palopo.csv"
    call_command("generate_arrears", branch=branch_a.code, rows=ROWS, out=str(path), seed=7,
                 as_of=today.isoformat(), verbosity=0)

    page = login(bpjs_a)
    page.goto(f"/branches/{branch_a.code}/imports/")
    expect(page.locator("h1")).to_contain_text("KC Palopo")
    assert_accessible(page, "import list")

    page.set_input_files("input[type=file][name=file]", str(path))
    expect(page.locator("#file-size-hint")).to_contain_text("MB")  # the size check ran
    expect(page.locator("input[name=as_of]")).to_have_value(today.isoformat())
    page.get_by_role("button", name="Unggah dan proses").click()

    # The report page, with the import still queued: 0 % and a polling progress bar.
    imp = ArrearsImport.objects.get(branch=branch_a)
    expect(page).to_have_url(re.compile(rf"/branches/{branch_a.code}/imports/{imp.pk}/$"))
    report = page.locator("#import-report")
    bar = report.get_by_role("progressbar")
    expect(report).to_have_attribute("data-finished", "false")
    expect(bar).to_have_attribute("aria-valuenow", "0")
    expect(report.locator("[data-status]")).to_have_text("Menunggu")
    assert_accessible(page, "import report (queued)")

    worker.run()  # the worker picks it up; the page is not reloaded, htmx polls

    expect(report.locator("[data-status]")).to_have_text("Diterapkan", timeout=10_000)
    expect(bar).to_have_attribute("aria-valuenow", "100")
    expect(report).to_have_attribute("data-finished", "true")
    imp.refresh_from_db()
    assert imp.status == ImportStatus.APPLIED
    assert imp.rows == ROWS

    # Per-regency counts: every valid row of each regency of the branch.
    table = page.locator("#per-regency + .table-wrap table")
    by_regency, names = {}, {}
    for row in table.locator("tbody tr").all():
        name, code, count = (cell.inner_text().strip() for cell in row.locator("td").all())
        by_regency[code] = int(count.replace(".", ""))
        names[code] = name
    assert names == {regency_a.code: regency_a.name, regency_a2.code: regency_a2.name}
    assert sum(by_regency.values()) == imp.valid
    for regency in (regency_a, regency_a2):
        assert by_regency[regency.code] == Participant.objects.for_regency(regency).count()
    assert_accessible(page, "import report (applied)")

    # Polling stopped: the finished fragment carries no trigger any more.
    assert report.get_attribute("hx-trigger") is None
    assert isinstance(imp.as_of, dt.date) and imp.as_of == today
