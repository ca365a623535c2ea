"""Bank statements (mutasi rekening) of a collected-route campaign: the file (aliases, Indonesian
amounts and dates, bad header, bad cells, a repeated line), the set-based matching (by payment code;
part, exact and over payment; another campaign; a closed pledge; the same line in two files; the
same writes as `payment_apply`; a constant number of queries), the API, the pages, the command,
and two treasurers uploading the same statement at once."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent
from donations.models import (
    Anomaly,
    AnomalyKind,
    BankStatement,
    LedgerEntry,
    LineOutcome,
    Payment,
    PaymentRoute,
    PaymentSource,
    Pledge,
    PledgeStatus,
    StatementLine,
)
from donations.money.payments import payment_apply
from donations.money.statements.parse import FileRejected, parse_statement_file
from donations.money.statements.services import statement_process, statement_upload
from donations.services import _lock_regency
from tests.factories import PASSWORD

HEADER = "tanggal,keterangan,kredit,referensi\n"


# --- fixtures and helpers ----------------------------------------------------------------------------





def _csv(tmp_path: Path, text: str, name: str = "mutasi.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _lines(*rows: tuple) -> str:
    return HEADER + "".join(f"{d},{k},{a},{r}\n" for d, k, a, r in rows)


def _run(campaign, path: Path, *, actor=None) -> BankStatement:
    statement = statement_upload(regency=campaign.regency, campaign=campaign, actor=actor, file=path, enqueue=False)
    return statement_process(statement_id=statement.pk)


def _fresh(p: Pledge) -> Pledge:
    return Pledge.objects.for_regency(p.regency_id).get(pk=p.pk)


# --- the file ------------------------------------------------------------------------------------


def test_header_aliases_and_indonesian_amounts_and_dates(tmp_path):
    path = _csv(tmp_path, (
        "Tgl. Transaksi;Uraian;Debet;Mutasi Kredit;No. Ref;Saldo\n"
        "01-11-2026;TRF SUABCDEFGH BUDI;;Rp 1.250.000;R1;9\n"
        "02/11/2026;setoran;;Rp1.250.000,00;R2;9\n"
        "2026-11-03;gaji;;1250000;R3;9\n"
        "04-11-2026;x;;1,250,000.00 CR;R4;9\n"
        "\n"
        "05-11-2026;biaya admin;5.000;;R5;9\n"
        "05-11-2026;nol;;0;R6;9\n"))
    parsed = parse_statement_file(path)
    assert parsed.errors == []
    assert parsed.lines["amount"].to_list() == [1_250_000] * 4
    assert parsed.lines["line_date"].to_list() == [dt.date(2026, 11, d) for d in (1, 2, 3, 4)]
    assert parsed.lines["row"].to_list() == [2, 3, 4, 5]  # the header is row 1
    assert parsed.credit_lines == 4  # the debit and the zero line are not credit lines
    for header in ("date,description,credit,reference", "TGL,Berita,Nominal,No Ref",
                   "tanggal_transaksi,deskripsi,jumlah,no-referensi"):
        assert parse_statement_file(_csv(tmp_path, f"{header}\n01-11-2026,a,1000,R\n")).lines.height == 1


def test_native_xlsx_dates_and_numbers(tmp_path):
    import xlsxwriter

    path = tmp_path / "mutasi.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Mutasi")
    for col, title in enumerate(["Tanggal", "Keterangan", "Kredit", "Referensi"]):
        sheet.write_string(0, col, title)
    sheet.write_datetime(1, 0, dt.datetime(2026, 11, 5), book.add_format({"num_format": "dd/mm/yyyy"}))
    sheet.write_string(1, 1, "SUABCDEFGH")
    sheet.write_number(1, 2, 245000)
    sheet.write_number(1, 3, 998877)
    book.close()
    parsed = parse_statement_file(path)
    assert parsed.errors == []
    assert parsed.lines.row(0) == (2, dt.date(2026, 11, 5), "SUABCDEFGH", 245_000, "998877")


def test_a_missing_column_rejects_the_file_saying_what_is_missing_and_found(tmp_path):
    with pytest.raises(FileRejected) as caught:
        parse_statement_file(_csv(tmp_path, "tanggal,uraian,saldo\n01-11-2026,a,1\n"))
    assert caught.value.code == "missing_columns"
    assert "kredit, referensi" in caught.value.message
    assert '"saldo"' in caught.value.message


def test_bad_amounts_dates_and_a_repeated_line_are_row_errors(tmp_path):
    parsed = parse_statement_file(_csv(tmp_path, _lines(
        ("01-11-2026", "a", '"1.000,50"', "R1"),
        ("31-02-2026", "b", "1000", "R2"),
        ("01-11-2026", "c", "seribu", "R3"),
        ("01-11-2026", "d", "-5000", "R4"),
        ("01-11-2026", "e", "5000", ""),
        ("01-11-2026", "f", "5000", "R5"),
        ("01-11-2026", "g", "5.000", "R5"),
    )))
    errors = [(e.row, e.column) for e in parsed.errors]
    assert errors == [(2, "kredit"), (3, "tanggal"), (4, "kredit"), (5, "kredit"), (6, "referensi"),
                      (8, "referensi")]
    messages = {e.row: e.message for e in parsed.errors}
    assert "pecahan" in messages[2]
    assert "negatif" in messages[5]
    assert "baris 7" in messages[8]  # the repeat names the first row
    assert parsed.lines["row"].to_list() == [7]
    assert parsed.credit_lines == 7


# --- matching ----------------------------------------------------------------------------------------


def test_a_line_pays_the_pledge_whose_code_is_in_the_description(tmp_path, collected, make_pledge):
    exact, part, unknown_code = make_pledge(collected), make_pledge(collected, amount=875_000), "SUZZZZZZZZ"
    statement = _run(collected, _csv(tmp_path, _lines(
        ("20-11-2026", f"TRF dari Budi {exact.payment_code.lower()} ok", "Rp245.000", "FT001"),
        ("21-11-2026", f"SETORAN {part.payment_code}", "500.000", "FT002"),
        ("21-11-2026", f"tanpa kode {unknown_code}", "100.000", "FT003"),
    )))
    assert (statement.status, statement.lines, statement.matched, statement.unmatched, statement.duplicates) == (
        "done", 3, 2, 1, 0)
    exact, part = _fresh(exact), _fresh(part)
    assert (exact.status, exact.paid_amount, exact.outstanding) == (PledgeStatus.PAID, 245_000, 0)
    assert exact.paid_at is not None
    assert (part.status, part.paid_amount, part.outstanding) == (PledgeStatus.PLEDGED, 500_000, 375_000)
    payment = Payment.objects.for_regency(exact.regency_id).get(pledge=exact)
    assert (payment.source, payment.reference, payment.paid_on, payment.recorded_by) == (
        PaymentSource.BANK_STATEMENT, "FT001", dt.date(2026, 11, 20), None)
    year = timezone.localdate(timezone=collected.regency.tzinfo).year
    numbers = sorted(Payment.objects.for_regency(exact.regency_id).values_list("receipt_number", flat=True))
    assert numbers == [f"KW/73.22/{year}/000001", f"KW/73.22/{year}/000002"]
    lines = {line.reference: line for line in StatementLine.objects.for_regency(exact.regency_id)}
    assert lines["FT001"].outcome == LineOutcome.MATCHED and lines["FT001"].payment == payment
    assert lines["FT003"].outcome == LineOutcome.UNMATCHED and lines["FT003"].pledge is None
    ledger = LedgerEntry.objects.for_regency(exact.regency_id).filter(campaign=collected)
    assert sorted((e.amount, e.pledge_id is not None, e.kind, e.source) for e in ledger) == [
        (100_000, False, "received", "bank_statement"), (245_000, True, "received", "bank_statement"),
        (500_000, True, "received", "bank_statement")]
    verbs = list(AuditEvent.objects.filter(verb__in=["payment.recorded", "pledge.paid", "pledge.pledged"])
                 .order_by("id").values_list("verb", flat=True))
    assert verbs == ["payment.recorded", "pledge.paid", "payment.recorded"]


def test_a_reserved_pledge_paid_by_two_lines_moves_to_pledged_then_paid(tmp_path, collected, make_pledge):
    pledge = make_pledge(collected, status=PledgeStatus.RESERVED)
    _run(collected, _csv(tmp_path, _lines(("20-11-2026", pledge.payment_code, "100000", "A1"),
                                          ("21-11-2026", pledge.payment_code, "145000", "A2"))))
    pledge = _fresh(pledge)
    assert (pledge.status, pledge.paid_amount) == (PledgeStatus.PAID, 245_000)
    assert pledge.pledged_at is not None and pledge.paid_at is not None
    events = list(AuditEvent.objects.filter(object_type="donations.pledge", object_id=str(pledge.pk))
                  .order_by("id").values_list("verb", "after__paid_amount"))
    assert events == [("pledge.pledged", 100_000), ("pledge.paid", 245_000)]


def test_an_overpayment_from_the_bank_is_recorded_whole_and_raised(tmp_path, collected, make_pledge):
    pledge = make_pledge(collected)
    statement = _run(collected, _csv(tmp_path, _lines(("20-11-2026", pledge.payment_code, "300.000", "X1"))))
    pledge = _fresh(pledge)
    assert (pledge.status, pledge.paid_amount, pledge.outstanding) == (PledgeStatus.PAID, 300_000, 0)
    anomaly = Anomaly.objects.for_regency(pledge.regency_id).get(pledge=pledge)
    assert anomaly.kind == AnomalyKind.OVERPAYMENT and anomaly.status == "open"
    assert "X1" in anomaly.detail and "Rp55.000" in anomaly.detail
    assert StatementLine.objects.for_regency(pledge.regency_id).get(statement=statement).outcome == "overpaid"


def test_a_code_of_another_campaign_is_a_row_error_and_records_nothing(tmp_path, collected, make_campaign,
                                                                      make_pledge):
    other = make_campaign(payment_route=PaymentRoute.COLLECTED)
    theirs = make_pledge(other)
    statement = _run(collected, _csv(tmp_path, _lines(("20-11-2026", f"TRF {theirs.payment_code}", "245000", "O1"))))
    assert (statement.matched, statement.unmatched) == (0, 0)
    assert [(e["row"], e["column"]) for e in statement.errors] == [(2, "keterangan")]
    assert "kampanye lain" in statement.errors[0]["message"]
    assert _fresh(theirs).paid_amount == 0
    assert not StatementLine.objects.for_regency(collected.regency_id).exists()
    assert not LedgerEntry.objects.for_regency(collected.regency_id).exists()


def test_money_for_a_closed_pledge_is_received_and_raised_not_paid(tmp_path, collected, make_pledge):
    closed = make_pledge(collected)
    Pledge.objects.for_regency(closed.regency_id).filter(pk=closed.pk).update(status=PledgeStatus.EXPIRED)
    statement = _run(collected, _csv(tmp_path, _lines(("20-11-2026", closed.payment_code, "245000", "C1"))))
    assert (statement.matched, statement.unmatched) == (0, 1)
    closed = _fresh(closed)
    assert (closed.status, closed.paid_amount) == (PledgeStatus.EXPIRED, 0)
    assert not Payment.objects.for_regency(closed.regency_id).exists()
    anomaly = Anomaly.objects.for_regency(closed.regency_id).get(pledge=closed)
    assert anomaly.kind == AnomalyKind.PAYMENT_ON_CLOSED_PLEDGE and "C1" in anomaly.detail
    (entry,) = LedgerEntry.objects.for_regency(closed.regency_id)
    assert (entry.kind, entry.amount, entry.statement_line.outcome) == ("received", 245_000, "closed_pledge")


def test_the_same_line_in_a_second_file_is_not_recorded_twice(tmp_path, collected, make_pledge):
    pledge = make_pledge(collected, amount=500_000)
    first = _run(collected, _csv(tmp_path, _lines(("20-11-2026", pledge.payment_code, "200000", "D1"),
                                                  ("20-11-2026", "tak dikenal", "10000", "D2")), "a.csv"))
    second = _run(collected, _csv(tmp_path, _lines(("20-11-2026", pledge.payment_code, "200000", "D1"),
                                                   ("20-11-2026", "tak dikenal", "10000", "D2"),
                                                   ("21-11-2026", pledge.payment_code, "300000", "D3")), "b.csv"))
    assert (first.matched, first.unmatched, first.duplicates) == (1, 1, 0)
    assert (second.matched, second.unmatched, second.duplicates) == (1, 0, 2)
    assert _fresh(pledge).paid_amount == 500_000
    assert Payment.objects.for_regency(pledge.regency_id).count() == 2
    assert LedgerEntry.objects.for_regency(pledge.regency_id).count() == 3


def test_a_line_the_pledge_already_has_a_payment_for_is_a_duplicate(tmp_path, collected, make_pledge):
    pledge = make_pledge(collected)
    with transaction.atomic():
        _lock_regency(pledge.regency_id)
        payment_apply(pledge=_fresh(pledge), amount=100_000, reference="BCA-7", paid_on=dt.date(2026, 11, 20),
                      source=PaymentSource.DONOR)
    statement = _run(collected, _csv(tmp_path, _lines(("20-11-2026", pledge.payment_code, "100000", "BCA-7"))))
    assert (statement.matched, statement.duplicates) == (0, 1)
    assert _fresh(pledge).paid_amount == 100_000
    line = StatementLine.objects.for_regency(pledge.regency_id).get()
    assert line.outcome == LineOutcome.DUPLICATE and line.payment.reference == "BCA-7"


def test_one_reference_twice_for_one_pledge_in_a_file_records_the_first_only(tmp_path, collected, make_pledge):
    pledge = make_pledge(collected, amount=500_000)
    statement = _run(collected, _csv(tmp_path, _lines(("20-11-2026", pledge.payment_code, "100000", "SAMA"),
                                                      ("21-11-2026", pledge.payment_code, "200000", "SAMA"))))
    assert (statement.matched, [(e["row"], e["column"]) for e in statement.errors]) == (1, [(3, "referensi")])
    assert "baris 2" in statement.errors[0]["message"]
    assert _fresh(pledge).paid_amount == 100_000


def _comparable(pledge: Pledge) -> dict:
    pledge = _fresh(pledge)
    payment = Payment.objects.for_regency(pledge.regency_id).get(pledge=pledge)
    ledger = LedgerEntry.objects.for_regency(pledge.regency_id).get(payment=payment)
    events = [(e.verb, e.actor_id, e.before,
               {k: v for k, v in (e.after or {}).items() if k not in ("payment", "receipt_number", "reference")})
              for e in AuditEvent.objects.filter(
                  Q(object_type="donations.payment", object_id=str(payment.pk))
                  | Q(object_type="donations.pledge", object_id=str(pledge.pk))).order_by("id")]
    anomaly = Anomaly.objects.for_regency(pledge.regency_id).get(pledge=pledge)
    return {
        "pledge": (pledge.status, pledge.paid_amount, pledge.pledged_at is not None, pledge.paid_at is not None),
        "payment": (payment.amount, payment.paid_on, payment.source, payment.recorded_by_id,
                    payment.receipt_number.rsplit("/", 1)[0], payment.receipt_content_type, bool(payment.receipt)),
        "ledger": (ledger.kind, ledger.source, ledger.amount, ledger.pledge_id == pledge.pk, ledger.campaign_id,
                   ledger.actor_id, ledger.note),
        "events": [(v, a, b, {k: (x == str(pledge.public_id) if k == "pledge" else x) for k, x in after.items()})
                   for v, a, b, after in events],
        "anomaly": (anomaly.kind, anomaly.status, anomaly.family_id == pledge.participant.family_id,
                    anomaly.detail.replace("REF-A", "REF").replace("REF-B", "REF")),
    }


def test_one_line_writes_what_payment_apply_writes(tmp_path, collected, make_pledge):
    """The set-based path and the one-payment path agree, on a reserved pledge overpaid by a bank."""
    by_apply = make_pledge(collected, status=PledgeStatus.RESERVED)
    by_statement = make_pledge(collected, status=PledgeStatus.RESERVED)
    with transaction.atomic():
        _lock_regency(by_apply.regency_id)
        payment_apply(pledge=_fresh(by_apply), amount=300_000, reference="REF-A", paid_on=dt.date(2026, 11, 20),
                      source=PaymentSource.BANK_STATEMENT)
    _run(collected, _csv(tmp_path, _lines(("20-11-2026", by_statement.payment_code, "300000", "REF-B"))))
    a, b = _comparable(by_apply), _comparable(by_statement)
    assert a == b
    assert [e[0] for e in a["events"]] == ["payment.recorded", "pledge.pledged", "pledge.paid"]
    numbers = sorted(Payment.objects.for_regency(collected.regency_id).values_list("receipt_number", flat=True))
    assert [n[-6:] for n in numbers] == ["000001", "000002"]  # one counter, no gap


def _queries_for(tmp_path, campaign, pledges, name) -> int:
    path = _csv(tmp_path, _lines(*[(f"{1 + i % 28:02d}-11-2026", f"bayar {p.payment_code}", "245000", f"{name}{i}")
                                   for i, p in enumerate(pledges)]), f"{name}.csv")
    statement = statement_upload(regency=campaign.regency, campaign=campaign, actor=None, file=path, enqueue=False)
    with CaptureQueriesContext(connection) as queries:
        done = statement_process(statement_id=statement.pk)
    assert done.matched == len(pledges)
    return len(queries)


def test_the_number_of_queries_does_not_grow_with_the_lines(tmp_path, collected, make_pledge):
    one = _queries_for(tmp_path, collected, [make_pledge(collected)], "one")
    twenty = _queries_for(tmp_path, collected, [make_pledge(collected) for _ in range(20)], "twenty")
    assert one == twenty
    assert twenty <= 30


def test_a_rejected_file_records_nothing(tmp_path, collected, make_pledge):
    make_pledge(collected)
    statement = _run(collected, _csv(tmp_path, "tanggal,keterangan\n01-11-2026,a\n"))
    assert statement.status == "rejected" and statement.errors[0]["row"] == 0
    assert "kredit" in statement.errors[0]["message"]
    assert not StatementLine.objects.for_regency(collected.regency_id).exists()
    # processing again leaves a finished statement alone
    assert statement_process(statement_id=statement.pk).status == "rejected"


def test_an_unexpected_failure_records_nothing_and_does_not_stay_processing(tmp_path, collected, make_pledge,
                                                                            monkeypatch):
    from donations.money.statements import services

    pledge = make_pledge(collected)
    statement = statement_upload(regency=collected.regency, campaign=collected, actor=None, enqueue=False,
                                 file=_csv(tmp_path, _lines(("20-11-2026", pledge.payment_code, "245000", "F1"))))

    def broken(**kwargs):
        Payment.objects.create(regency_id=pledge.regency_id, pledge=pledge, amount=1, reference="half",
                               paid_on=dt.date(2026, 11, 20), receipt_number="KW/x")
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "statement_match", broken)
    with pytest.raises(RuntimeError):
        statement_process(statement_id=statement.pk)
    statement.refresh_from_db()
    assert statement.status == "rejected" and "tidak ada yang dicatat" in statement.errors[0]["message"]
    assert not Payment.objects.for_regency(pledge.regency_id).exists()  # the half-write was rolled back


def test_only_a_collected_campaign_takes_statements(tmp_path, make_campaign):
    from core.errors import DomainError

    direct = make_campaign()
    with pytest.raises(DomainError) as caught:
        statement_upload(regency=direct.regency, campaign=direct, actor=None,
                         file=_csv(tmp_path, _lines(("01-11-2026", "a", "1", "R"))), enqueue=False)
    assert caught.value.code == "not_collected"


# --- API, pages, command -------------------------------------------------------------------------------


def _login(client, user):
    assert client.login(email=user.email, password=PASSWORD)


def test_api_upload_is_accepted_and_the_statement_reads_back(client, collected, make_pledge, treasurer_a,
                                                             django_capture_on_commit_callbacks):
    pledge = make_pledge(collected)
    _login(client, treasurer_a)
    upload = SimpleUploadedFile("mutasi.csv", _lines(("20-11-2026", pledge.payment_code, "245000", "API1"),
                                                     ("20-11-2026", "x", '"1.000,5"', "API2")).encode())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/regencies/{collected.regency.slug}/statements/",
                               {"file": upload, "campaign": collected.slug})
    assert response.status_code == 202, response.content
    body = response.json()
    assert set(body) == {"id", "status"} and body["status"] in ("queued", "processing", "done")
    detail = client.get(f"/api/v1/statements/{body['id']}/").json()
    assert detail == {"id": body["id"], "status": "done", "lines": 2, "matched": 1, "unmatched": 0,
                      "duplicates": 0, "errors": [{"row": 3, "column": "kredit", "message": detail["errors"][0]["message"]}]}
    assert _fresh(pledge).status == PledgeStatus.PAID


def test_api_refuses_other_regencies_and_members_without_money_rights(client, tmp_path, collected, treasurer_a,
                                                                      staff_a, admin_b, regency_b):
    statement = _run(collected, _csv(tmp_path, _lines(("20-11-2026", "x", "1000", "P1"))), actor=treasurer_a)
    for user in (admin_b, staff_a):
        _login(client, user)
        assert client.get(f"/api/v1/statements/{statement.pk}/").status_code == 404
    upload = SimpleUploadedFile("m.csv", _lines(("20-11-2026", "x", "1000", "P2")).encode())
    assert client.post(f"/api/v1/regencies/{collected.regency.slug}/statements/",
                       {"file": upload, "campaign": collected.slug}).status_code == 403  # staff_a: a member
    _login(client, treasurer_a)
    upload = SimpleUploadedFile("m.csv", _lines(("20-11-2026", "x", "1000", "P3")).encode())
    assert client.post(f"/api/v1/regencies/{regency_b.slug}/statements/",
                       {"file": upload, "campaign": collected.slug}).status_code == 404
    assert BankStatement.objects.for_regency(collected.regency_id).count() == 1


def test_pages_upload_then_show_counts_errors_and_unmatched_lines(client, collected, make_pledge, treasurer_a,
                                                                  django_capture_on_commit_callbacks):
    pledge = make_pledge(collected)
    _login(client, treasurer_a)
    url = reverse("statement_list", kwargs={"regency_slug": collected.regency.slug})
    page = client.get(url)
    assert page.status_code == 200 and "ASN Peduli" in page.content.decode()
    upload = SimpleUploadedFile("mutasi-nov.csv", _lines(("20-11-2026", pledge.payment_code, "245000", "W1"),
                                                         ("21-11-2026", "TRANSFER HAMBA ALLAH", "50000", "W2"),
                                                         ("21-11-2026", "x", "abc", "W3")).encode())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"campaign": collected.slug, "file": upload})
    assert response.status_code == 302
    detail = client.get(response["Location"])
    html = detail.content.decode()
    assert detail.status_code == 200
    assert "TRANSFER HAMBA ALLAH" in html and "Rp50.000" in html  # the unmatched line
    assert "Kredit tidak dikenali" in html  # the row error
    assert "mutasi-nov.csv" in client.get(url).content.decode()


def test_command_prints_the_json_last_and_exits_by_outcome(tmp_path, collected, make_pledge, treasurer_a):
    pledge = make_pledge(collected)
    out, err = io.StringIO(), io.StringIO()
    call_command("import_statement", str(_csv(tmp_path, _lines(("20-11-2026", pledge.payment_code, "245000", "K1")))),
                 regency=collected.regency.slug, campaign=collected.slug, user=treasurer_a.email, stdout=out, stderr=err)
    payload = json.loads(out.getvalue().strip().splitlines()[-1])
    assert {k: payload[k] for k in ("status", "lines", "matched", "unmatched", "duplicates", "errors")} == {
        "status": "done", "lines": 1, "matched": 1, "unmatched": 0, "duplicates": 0, "errors": []}
    assert BankStatement.objects.for_regency(collected.regency_id).get(pk=payload["statement_id"]).uploaded_by == (
        treasurer_a)
    out = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("import_statement", str(_csv(tmp_path, "a,b\n1,2\n", "bad.csv")), regency=collected.regency.slug,
                     campaign=collected.slug, stdout=out, stderr=io.StringIO())
    assert caught.value.returncode == 1
    assert json.loads(out.getvalue().strip().splitlines()[-1])["status"] == "rejected"
    with pytest.raises(CommandError) as caught:
        call_command("import_statement", str(tmp_path / "nope.csv"), regency=collected.regency.slug,
                     campaign=collected.slug, stdout=io.StringIO(), stderr=io.StringIO())
    assert caught.value.returncode == 2


# --- concurrency ---------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_treasurers_uploading_the_same_statement_at_once_record_one_payment_per_line(tmp_path, collected,
                                                                                          make_pledge):
    pledges = [make_pledge(collected) for _ in range(5)]
    path = _csv(tmp_path, _lines(*[("20-11-2026", p.payment_code, "245000", f"SAME{i}")
                                   for i, p in enumerate(pledges)]))
    statements = [statement_upload(regency=collected.regency, campaign=collected, actor=None, file=path,
                                   enqueue=False) for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list = [None, None]

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[i] = statement_process(statement_id=statements[i].pk)
        except Exception as exc:
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert all(isinstance(o, BankStatement) for o in outcomes), outcomes
    assert sorted((o.matched, o.duplicates) for o in outcomes) == [(0, 5), (5, 0)]
    for p in pledges:
        assert Payment.objects.for_regency(p.regency_id).filter(pledge=p).count() == 1
        assert _fresh(p).paid_amount == 245_000
    assert StatementLine.objects.for_regency(collected.regency_id).count() == 5
    assert LedgerEntry.objects.for_regency(collected.regency_id).count() == 5
