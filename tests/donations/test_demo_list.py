"""`manage.py demo_list`: the README's first demo step (upload a list) keeps the demo whole: a
partial list of new participants and a few updated ones, uploaded through the branch's page."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from accounts.models import User
from assessments.models import Assessment
from donations.models import Pledge
from participants.models import ArrearsImport, ImportStatus, Participant, ParticipantStatus
from reporting.demo import demo_seed

pytestmark = pytest.mark.django_db


def demo_state() -> dict[str, object]:
    return {
        "pledges": sorted(Pledge.all_regencies.values_list("pk", "status", "paid_amount")),
        "assessments": sorted(Assessment.all_regencies.values_list("pk", "status")),
        "cleared": Participant.all_regencies.filter(status=ParticipantStatus.CLEARED).count(),
    }


def test_the_demo_list_upload_adds_people_and_keeps_pledges_and_assessments(
    tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    demo_seed(participants=16)
    # Reconciliation follows every import; on its own it already settles the demo's pledges (the
    # one paid 35 days ago is disputed): run it first, so that the list's own effect is measured.
    call_command("reconcile", stdout=io.StringIO(), stderr=io.StringIO())
    before = demo_state()
    assert before["pledges"] and before["assessments"]
    people_before = Participant.all_regencies.count()
    out = tmp_path / "daftar.csv"

    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("demo_list", "--branch", "palopo", "--new", "40", "--out", str(out), stdout=stdout, stderr=stderr)
    result = json.loads(stdout.getvalue().strip().splitlines()[-1])
    assert result["mode"] == "partial" and result["path"] == str(out)
    assert 0 < result["new"] <= 40 and result["updated"] > 0
    assert "Sebagian" in stderr.getvalue()
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == result["rows"]
    touched = {r["no_kartu"] for r in rows}
    assert not touched & set(Pledge.all_regencies.values_list("participant__card_number", flat=True))
    assert not touched & set(Assessment.all_regencies.values_list("participant__card_number", flat=True))

    # The README's step: bpjs.palopo@demo.test uploads it on /branches/palopo/imports/ as "Sebagian".
    client = Client()
    client.force_login(User.objects.get(email="bpjs.palopo@demo.test"))
    with out.open("rb") as upload, django_capture_on_commit_callbacks(execute=True):  # the queued run
        response = client.post("/branches/palopo/imports/",
                               {"file": upload, "as_of": result["as_of"], "mode": "partial"})
    assert response.status_code == 302, response.content.decode()[:2000]
    applied = ArrearsImport.objects.filter(branch__code="palopo").order_by("-pk").first()
    assert applied is not None and applied.status == ImportStatus.APPLIED, applied and applied.message
    assert (applied.new, applied.updated, applied.invalid) == (result["new"], result["updated"], 0)

    assert demo_state() == before
    assert Participant.all_regencies.count() == people_before + result["new"]


def test_an_unknown_branch_exits_1_and_bad_arguments_2(tmp_path: Path) -> None:
    out = io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("demo_list", "--branch", "tidak-ada", "--out", str(tmp_path / "x.csv"),
                     stdout=out, stderr=io.StringIO())
    assert refused.value.returncode == 1
    assert json.loads(out.getvalue().strip().splitlines()[-1])["path"] is None
    assert not (tmp_path / "x.csv").exists()

    from donations.management.commands.demo_list import Command

    with pytest.raises(SystemExit) as bad:
        Command().run_from_argv(["manage.py", "demo_list", "--branch", "palopo", "--new", "-3"])
    assert bad.value.code == 2


def test_the_readme_step_names_the_command_and_the_form_choice() -> None:
    from django.conf import settings

    from participants.models import ImportMode

    readme = (Path(settings.BASE_DIR) / "README.md").read_text(encoding="utf-8")
    step = readme[readme.index("## Trying the whole flow"):]
    step = step[:step.index("\n2. ")]
    assert "manage.py demo_list --branch palopo" in step
    assert f"**Jenis daftar: {ImportMode.PARTIAL.label}**" in step
    assert "generate_arrears --branch palopo --rows" not in step
