"""UU 27/2022 rights: a participant's data export, correction requests,
anonymisation, the retention purge, and a donor's own data download and account deletion."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db.models import Sum
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from assessments.models import Assessment, Evidence
from assessments.services import assessment_start, evidence_add
from core.models import AuditEvent
from donations.models import (
    ActivePledge,
    Audience,
    BankStatement,
    Campaign,
    CampaignStatus,
    DonorProfile,
    Gift,
    Kind,
    LedgerEntry,
    Payment,
    Pledge,
    PledgeStatus,
)
from donations.privacy import donors, retention, subject
from participants.models import ArrearsImport, ArrearsRecord, Family, ImportRowError, Participant
from participants.privacy_models import Anonymisation, CorrectionRequest
from regencies.roles import Role
from tests.factories import (
    PASSWORD,
    ArrearsImportFactory,
    FamilyFactory,
    ParticipantFactory,
    UserFactory,
    member,
)

PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
HEALTH_ANSWER = "diabetes melitus, cuci darah rutin"


def _record(participant, arrears_import, *, row: int = 2) -> ArrearsRecord:
    return ArrearsRecord.objects.create(
        regency_id=participant.regency_id, arrears_import=arrears_import, participant=participant,
        as_of=arrears_import.as_of, row_number=row, months_in_arrears=6, arrears_amount=210_000,
        bpjs_status="inactive", care_class=3, segment="PBPU",
    )


@pytest.fixture
def campaign_a(regency_a, admin_a):
    return Campaign.objects.create(
        regency=regency_a, slug="kampanye-privasi", title="Kampanye Privasi", audience=Audience.INTERNAL,
        kind=Kind.BOTH, status=CampaignStatus.ACTIVE, created_by=admin_a,
    )


@pytest.fixture
def donor():
    user = UserFactory(email="donatur.rahasia@example.test", full_name="Donatur Rahasia")
    DonorProfile.objects.create(user=user, display_name="Budi Dermawan", is_anonymous=False,
                                phone="081234567890", organisation="Toko Budi")
    return user


@pytest.fixture
def subject_world(regency_a, branch_a, district_a, village_a, admin_a, campaign_a, donor):
    """A participant of A with a list record, an assessment with a health answer and an evidence
    file, and a verified pledge with one payment and its ledger row."""
    imp = ArrearsImportFactory(branch=branch_a, status="applied", as_of=dt.date(2026, 11, 1))
    family = FamilyFactory(regency=regency_a, village=village_a, number="7322019999000001")
    p = ParticipantFactory(
        regency=regency_a, family=family, district=district_a, village=village_a, name="Siti Rahasia Aminah",
        address="Jl. Rahasia No. 1", nik="7322014101800777", card_number="0001234567890",
        birth_date=dt.date(1980, 1, 1), last_import=imp, as_of=imp.as_of,
    )
    _record(p, imp)
    assessment = assessment_start(regency=regency_a, actor=admin_a, participant=p)
    evidence = evidence_add(assessment=assessment, actor=admin_a,
                            upload=SimpleUploadedFile("foto-rumah-siti.png", PNG, content_type="image/png"))
    Assessment.objects.for_regency(regency_a).filter(pk=assessment.pk).update(
        answers={"illness": HEALTH_ANSWER}, decision_note="Ibu Siti sakit berat")
    now = timezone.now()
    pledge = Pledge.objects.create(
        regency=regency_a, campaign=campaign_a, participant=p, donor=donor, status=PledgeStatus.VERIFIED,
        amount=245_000, arrears_amount=210_000, months_in_arrears=6, monthly_tariff=35_000, paid_amount=245_000,
        pledged_at=now, paid_at=now, verified_at=now,
    )
    payment = Payment.objects.create(
        regency=regency_a, pledge=pledge, amount=245_000, reference="TRF-PRIVASI-1", paid_on=now.date(),
        receipt_number="KW/73.22/2026/000101", recorded_by=donor,
    )
    LedgerEntry.objects.create(regency=regency_a, campaign=campaign_a, kind="received", source="donor",
                               amount=245_000, pledge=pledge, payment=payment)
    return {"participant": p, "import": imp, "family": family, "assessment": assessment, "evidence": evidence,
            "pledge": pledge, "payment": payment}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _url(name, participant, **extra):
    return reverse(name, kwargs={"regency_slug": participant.regency.slug, "public_id": participant.public_id,
                                 **extra})


# --- export -----------------------------------------------------------------------------------


def test_export_holds_what_the_system_holds_and_is_audited(subject_world, admin_a, donor):
    p = subject_world["participant"]
    response = _client(admin_a).get(_url("participant_privacy_export", p))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "no-store" in response["Cache-Control"]
    data = json.loads(response.content)
    assert data["participant"]["nik"] == "7322014101800777"
    assert data["participant"]["name"] == "Siti Rahasia Aminah"
    assert data["participant"]["family_number"] == "7322019999000001"
    assert [r["arrears_amount"] for r in data["arrears_records"]] == [210_000]
    [assessment] = data["assessments"]
    assert assessment["answers"] == {"illness": HEALTH_ANSWER}
    assert [e["file_name"] for e in assessment["evidence"]] == ["foto-rumah-siti.png"]
    [pledge] = data["pledges"]
    assert pledge["status"] == "verified" and pledge["amount"] == 245_000
    assert pledge["payments"][0]["receipt_number"] == "KW/73.22/2026/000101"
    # The donor by a pseudonymous id only: nothing of theirs is the participant's.
    assert pledge["donor"].startswith("donatur-")
    body = response.content.decode()
    for secret in (donor.email, "Budi Dermawan", "Donatur Rahasia", "081234567890", "TRF-PRIVASI-1"):
        assert secret not in body
    event = AuditEvent.objects.get(verb="export.participant_data")
    assert event.actor == admin_a and event.regency_id == p.regency_id
    assert event.after["participant"] == str(p.public_id) and event.after["format"] == "json"


def test_the_detail_page_shows_the_section_to_the_admin_only(subject_world, admin_a, assessor_a):
    p = subject_world["participant"]
    assert b"data-privacy-section" in _client(admin_a).get(_url("participant_detail", p)).content
    assert b"data-privacy-section" not in _client(assessor_a).get(_url("participant_detail", p)).content


@pytest.mark.parametrize("name", ["participant_privacy", "participant_privacy_export"])
def test_non_admins_get_403_and_other_regencies_404(subject_world, assessor_a, supervisor_a, staff_a, admin_b,
                                                      name):
    p = subject_world["participant"]
    for user in (assessor_a, supervisor_a, staff_a):
        assert _client(user).get(_url(name, p)).status_code == 403
    assert _client(admin_b).get(_url(name, p)).status_code == 404
    assert not AuditEvent.objects.filter(verb="export.participant_data").exists()


def test_writes_are_refused_to_non_admins_and_other_regencies(subject_world, assessor_a, admin_b, admin_a):
    p = subject_world["participant"]
    correction = subject.correction_request_create(regency=p.regency, participant=p, actor=admin_a,
                                                   field="name", requested_value="Siti Aminah")
    posts = [
        (_url("participant_correction_create", p), {"field": "name", "requested_value": "x"}),
        (_url("participant_correction_resolve", p, correction_id=correction.pk), {"status": "done"}),
        (_url("participant_anonymise", p), {"confirm": "ANONIMKAN"}),
    ]
    for url, data in posts:
        assert _client(assessor_a).post(url, data).status_code == 403
        assert _client(admin_b).post(url, data).status_code == 404
    correction.refresh_from_db()
    assert correction.is_open
    assert CorrectionRequest.objects.for_regency(p.regency).count() == 1
    assert not Anonymisation.objects.for_regency(p.regency).exists()


# --- correction requests ----------------------------------------------------------------------


def test_correction_request_lifecycle(subject_world, admin_a):
    p = subject_world["participant"]
    client = _client(admin_a)
    assert client.post(_url("participant_correction_create", p), {"field": "name", "requested_value": ""}
                       ).status_code == 400
    response = client.post(_url("participant_correction_create", p),
                           {"field": "birth_date", "requested_value": "Lahir 2 Januari 1980, bukan 1 Januari"})
    assert response.status_code == 302
    correction = CorrectionRequest.objects.for_regency(p.regency).get()
    assert correction.is_open and correction.requested_by == admin_a and correction.field == "birth_date"
    page = client.get(_url("participant_privacy", p))
    assert "Lahir 2 Januari 1980" in page.content.decode()

    resolve = _url("participant_correction_resolve", p, correction_id=correction.pk)
    # A rejection needs a reason.
    assert client.post(resolve, {"status": "rejected", "note": ""}).status_code == 400
    assert client.post(resolve, {"status": "done", "note": "Diteruskan ke BPJS KC Palopo"}).status_code == 302
    correction.refresh_from_db()
    assert correction.status == "done" and correction.resolved_by == admin_a and correction.resolved_at
    # Resolved once: a second resolution is refused.
    assert client.post(resolve, {"status": "rejected", "note": "lagi"}).status_code == 409
    verbs = list(AuditEvent.objects.filter(object_type="participants.correctionrequest")
                 .order_by("id").values_list("verb", flat=True))
    assert verbs == ["participant.correction_requested", "participant.correction_resolved"]
    # The requested value is personal data: it is not copied into the trail.
    assert "Lahir 2 Januari" not in json.dumps(list(AuditEvent.objects.values("before", "after")))


def test_a_correction_of_another_participant_is_404(subject_world, admin_a, regency_a):
    p = subject_world["participant"]
    other = ParticipantFactory(regency=regency_a)
    correction = subject.correction_request_create(regency=regency_a, participant=other, actor=admin_a,
                                                   field="name", requested_value="x")
    url = _url("participant_correction_resolve", p, correction_id=correction.pk)
    assert _client(admin_a).post(url, {"status": "done"}).status_code == 404


# --- anonymisation ----------------------------------------------------------------------------


def test_anonymise_replaces_personal_data_everywhere_and_keeps_the_money_trail(
        subject_world, admin_a, django_capture_on_commit_callbacks):
    p, evidence = subject_world["participant"], subject_world["evidence"]
    file_name = evidence.file.name
    assert default_storage.exists(file_name)
    subject.correction_request_create(regency=p.regency, participant=p, actor=admin_a, field="address",
                                      requested_value="Jl. Rahasia No. 2")
    money_before = (Payment.objects.for_regency(p.regency).aggregate(s=Sum("amount"))["s"],
                    LedgerEntry.objects.for_regency(p.regency).aggregate(s=Sum("amount"))["s"])
    client = _client(admin_a)
    # The confirmation is required.
    assert client.post(_url("participant_anonymise", p), {"confirm": "ya"}).status_code == 400
    assert Participant.objects.for_regency(p.regency).get(pk=p.pk).name == "Siti Rahasia Aminah"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url("participant_anonymise", p), {"confirm": "ANONIMKAN", "note": "Surat 12/2026"})
    assert response.status_code == 302

    p.refresh_from_db()
    assert p.name == "Dianonimkan"
    assert p.nik != "7322014101800777" and p.nik.startswith("X")
    assert p.card_number != "0001234567890" and p.card_number.startswith("X")
    assert p.birth_date is None and p.address == ""
    assert p.village_id is not None and p.district_id is not None  # kept for statistics
    family = Family.objects.for_regency(p.regency).get(pk=subject_world["family"].pk)
    assert family.number != "7322019999000001"
    assessment = Assessment.objects.for_regency(p.regency).get(pk=subject_world["assessment"].pk)
    assert assessment.answers == {} and assessment.decision_note == ""
    assert not Evidence.objects.for_regency(p.regency).exists()
    assert not default_storage.exists(file_name)
    assert CorrectionRequest.objects.for_regency(p.regency).get().requested_value == "(dianonimkan)"

    # The money trail is whole, on the anonymised participant.
    pledge = Pledge.objects.for_regency(p.regency).get(pk=subject_world["pledge"].pk)
    assert pledge.participant_id == p.pk and pledge.status == "verified" and pledge.amount == 245_000
    assert Payment.objects.for_regency(p.regency).get().receipt_number == "KW/73.22/2026/000101"
    assert money_before == (Payment.objects.for_regency(p.regency).aggregate(s=Sum("amount"))["s"],
                            LedgerEntry.objects.for_regency(p.regency).aggregate(s=Sum("amount"))["s"])
    assert ArrearsRecord.objects.for_regency(p.regency).filter(participant=p).count() == 1

    # Nothing of the person is left on the pages or in the export.
    for url in (_url("participant_detail", p), _url("participant_privacy", p)):
        body = client.get(url).content.decode()
        for secret in ("Siti Rahasia", "7322014101800777", "0001234567890", "Jl. Rahasia", HEALTH_ANSWER):
            assert secret not in body
    export = client.get(_url("participant_privacy_export", p)).content.decode()
    for secret in ("Siti Rahasia", "7322014101800777", "0001234567890", "Jl. Rahasia", HEALTH_ANSWER,
                   "foto-rumah-siti", "7322019999000001"):
        assert secret not in export
    assert json.loads(export)["participant"]["anonymised"] is True

    event = AuditEvent.objects.get(verb="participant.anonymised")
    assert event.actor == admin_a and event.after["evidence_files"] == 1 and event.after["reason"] == "request"
    record = Anonymisation.objects.for_regency(p.regency).get(participant=p)
    assert record.actor == admin_a and record.note == "Surat 12/2026"
    # Irreversible and once only.
    assert client.post(_url("participant_anonymise", p), {"confirm": "ANONIMKAN"}).status_code == 409


def test_anonymise_keeps_the_family_number_while_another_member_keeps_theirs(subject_world, admin_a):
    p, family = subject_world["participant"], subject_world["family"]
    ParticipantFactory(regency=p.regency, family=family, name="Anggota Lain")
    subject.participant_anonymise(regency=p.regency, participant=p, actor=admin_a)
    family.refresh_from_db()
    assert family.number == "7322019999000001"


def test_an_anonymised_participant_is_no_longer_offered_to_donors(regency_a, admin_a, district_a, village_a):
    from donations.selectors import available_participants

    today = timezone.localdate(timezone=regency_a.tzinfo)
    p = ParticipantFactory(regency=regency_a, district=district_a, village=village_a)
    Assessment.objects.create(regency=regency_a, participant=p, status="approved", outcome="eligible",
                              valid_until=today + dt.timedelta(days=300), questionnaire_version=1, created_by=admin_a)
    assert p in available_participants(regency=regency_a)
    subject.participant_anonymise(regency=regency_a, participant=p, actor=admin_a)
    assert p not in available_participants(regency=regency_a)
    assert AuditEvent.objects.get(verb="participant.anonymised").after["eligibility_ended"] == 1


@pytest.mark.parametrize("status", ["reserved", "pledged", "paid"])
def test_anonymise_is_refused_while_a_pledge_is_open(subject_world, admin_a, campaign_a, donor, status):
    p = subject_world["participant"]
    now = timezone.now()
    Pledge.objects.create(
        regency=p.regency, campaign=campaign_a, participant=p, donor=donor, status=status, amount=245_000,
        arrears_amount=210_000, months_in_arrears=6, monthly_tariff=35_000, expires_at=now + dt.timedelta(days=1),
        pledged_at=now, paid_at=now if status == "paid" else None,
    )
    assert ActivePledge.objects.for_regency(p.regency).filter(participant=p).exists()
    response = _client(admin_a).post(_url("participant_anonymise", p), {"confirm": "ANONIMKAN"})
    assert response.status_code == 409
    assert "janji donasi yang berjalan" in response.content.decode()
    p.refresh_from_db()
    assert p.name == "Siti Rahasia Aminah"
    assert Evidence.objects.for_regency(p.regency).exists()
    assert not AuditEvent.objects.filter(verb="participant.anonymised").exists()


# --- retention --------------------------------------------------------------------------------


def _old_participant(regency, branch, as_of: dt.date, **kwargs) -> Participant:
    imp = ArrearsImportFactory(branch=branch, status="applied", as_of=as_of)
    p = ParticipantFactory(regency=regency, last_import=imp, as_of=as_of, **kwargs)
    Participant.objects.for_regency(regency).filter(pk=p.pk).update(
        created_at=timezone.make_aware(dt.datetime.combine(as_of, dt.time(12))))
    _record(p, imp)
    return p


def test_retention_selects_the_right_participants_dry_run_then_real(
        regency_a, branch_a, campaign_a, donor, admin_a, regency_b, branch_b):
    today = timezone.localdate(timezone=regency_a.tzinfo)
    long_ago = today - dt.timedelta(days=6 * 366)
    expired = _old_participant(regency_a, branch_a, long_ago, name="Lama Sekali")
    recent = _old_participant(regency_a, branch_a, today - dt.timedelta(days=365), name="Baru Saja")
    # Named by an old list and by a recent one: the last list counts.
    relisted = _old_participant(regency_a, branch_a, long_ago, name="Muncul Lagi")
    _record(relisted, ArrearsImportFactory(branch=branch_a, status="applied", as_of=today - dt.timedelta(days=30)))
    # Old, but a pledge is open.
    held = _old_participant(regency_a, branch_a, long_ago, name="Masih Dibantu")
    Pledge.objects.create(regency=regency_a, campaign=campaign_a, participant=held, donor=donor, status="pledged",
                          amount=245_000, arrears_amount=210_000, months_in_arrears=6, monthly_tariff=35_000,
                          pledged_at=timezone.now())
    # Regency B keeps data for 10 years: six years is not enough there.
    regency_b.retention_years = 10
    regency_b.save(update_fields=["retention_years"])
    kept_in_b = _old_participant(regency_b, branch_b, long_ago, name="Lama di B")

    dry = retention.personal_data_purge(dry_run=True)
    assert dry.participants_anonymised == 1
    for p in (expired, recent, relisted, held, kept_in_b):
        assert Participant.all_regencies.get(pk=p.pk).name == p.name
    assert not AuditEvent.objects.filter(verb="privacy.purge").exists()

    result = retention.personal_data_purge()
    assert result.participants_anonymised == 1
    assert Participant.all_regencies.get(pk=expired.pk).name == "Dianonimkan"
    assert Anonymisation.all_regencies.get(participant=expired).reason == "retention"
    for p in (recent, relisted, held, kept_in_b):
        assert Participant.all_regencies.get(pk=p.pk).name == p.name
    event = AuditEvent.objects.get(verb="privacy.purge")
    assert event.after["participants_anonymised"] == 1 and event.after["dry_run"] is False

    # Idempotent: a second run finds nothing more (and says so in its own event).
    again = retention.personal_data_purge()
    assert again.participants_anonymised == 0
    assert AuditEvent.objects.filter(verb="privacy.purge").count() == 2


def test_retention_purges_old_files_but_keeps_the_rows(branch_a, regency_a, campaign_a, admin_a):
    now = timezone.now()
    old, fresh = now - dt.timedelta(days=120), now - dt.timedelta(days=10)
    old_import = ArrearsImportFactory(branch=branch_a, status="applied", rows=3, valid=2, invalid=1)
    old_import.error_report.save("laporan.csv", ContentFile(b"baris;kolom;nilai\n3;nik;7322014101800999\n"))
    ArrearsImport.objects.filter(pk=old_import.pk).update(finished_at=old)
    ImportRowError.objects.create(arrears_import=old_import, row=3, column="nik", message="NIK salah",
                                  value="7322014101800999")
    fresh_import = ArrearsImportFactory(branch=branch_a, status="applied")
    ArrearsImport.objects.filter(pk=fresh_import.pk).update(finished_at=fresh)
    running = ArrearsImportFactory(branch=branch_a, status="queued")
    ArrearsImport.objects.filter(pk=running.pk).update(created_at=old)
    statement = BankStatement(regency=regency_a, campaign=campaign_a, original_name="mutasi.csv", sha256="1" * 64,
                              status="done", lines=4, matched=3)
    statement.file.save("mutasi.csv", ContentFile(b"tanggal;keterangan;jumlah\n"), save=False)
    statement.save()
    BankStatement.objects.for_regency(regency_a).filter(pk=statement.pk).update(finished_at=old)
    old_files = [old_import.file.name, old_import.error_report.name, statement.file.name]
    assert all(default_storage.exists(name) for name in old_files)

    dry = retention.personal_data_purge(dry_run=True)
    assert (dry.import_files_deleted, dry.statement_files_deleted) == (2, 1)
    assert all(default_storage.exists(name) for name in old_files)

    result = retention.personal_data_purge()
    assert (result.import_files_deleted, result.statement_files_deleted, result.row_values_blanked) == (2, 1, 1)
    assert not any(default_storage.exists(name) for name in old_files)
    old_import.refresh_from_db()
    assert old_import.file.name == "" and old_import.error_report.name == ""
    assert (old_import.status, old_import.rows, old_import.valid, old_import.invalid) == ("applied", 3, 2, 1)
    error = ImportRowError.objects.get(arrears_import=old_import)
    assert (error.row, error.column, error.message, error.value) == (3, "nik", "NIK salah", "")
    statement.refresh_from_db()
    assert statement.file.name == "" and statement.matched == 3
    for kept in (fresh_import, running):
        kept.refresh_from_db()
        assert kept.file.name and default_storage.exists(kept.file.name)

    # Idempotent.
    assert retention.personal_data_purge().import_files_deleted == 0


def test_the_command_and_the_beat_job(branch_a, regency_a, capsys, settings):
    from config.settings import base

    entry = base.CELERY_BEAT_SCHEDULE["donations-privacy-purge-nightly"]
    assert entry["task"] == "donations.tasks.privacy_purge_task"
    from core.outbox import _queue_for

    assert _queue_for(entry["task"], [], {}) == "jobs"
    long_ago = timezone.localdate() - dt.timedelta(days=6 * 366)
    p = _old_participant(regency_a, branch_a, long_ago)
    call_command("purge_personal_data", "--dry-run")
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["participants_anonymised"] == 1
    assert Participant.all_regencies.get(pk=p.pk).name == p.name
    from donations.tasks import privacy_purge_task

    assert privacy_purge_task.delay().get()["participants_anonymised"] == 1
    assert Participant.all_regencies.get(pk=p.pk).name == "Dianonimkan"


def test_retention_years_is_a_regency_setting(regency_a, admin_a):
    url = reverse("regency_settings", kwargs={"regency_slug": regency_a.slug})
    assert regency_a.retention_years == 5
    response = _client(admin_a).post(url, {"active_rate_target": "80", "retention_years": "7"})
    assert response.status_code == 302
    regency_a.refresh_from_db()
    assert regency_a.retention_years == 7
    assert _client(admin_a).post(url, {"active_rate_target": "80", "retention_years": "0"}).status_code == 400


# --- donors -----------------------------------------------------------------------------------


def test_donor_downloads_their_own_data(subject_world, donor, campaign_a):
    Gift.objects.create(regency=campaign_a.regency, campaign=campaign_a, donor=donor, amount=100_000,
                        reference="GIFT-1")
    client = _client(donor)
    assert b"data-my-data" in client.get(reverse("donor_home")).content
    response = client.get(reverse("donor_data_download"))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    data = json.loads(response.content)
    assert data["account"]["email"] == donor.email
    assert data["profile"]["phone"] == "081234567890"
    [pledge] = data["pledges"]
    assert pledge["payments"][0]["receipt_number"] == "KW/73.22/2026/000101"
    assert [g["reference"] for g in data["gifts"]] == ["GIFT-1"]
    # The participant only by pseudonym.
    assert "Siti Rahasia" not in response.content.decode() and pledge["participant"] == "S.R.A."
    assert AuditEvent.objects.filter(verb="export.donor_data", actor=donor).count() == 1
    assert Client().get(reverse("donor_data_download")).status_code == 302  # login first


def test_donor_deletes_their_account(subject_world, donor):
    client = _client(donor)
    assert client.get(reverse("donor_account_delete")).status_code == 200
    assert client.post(reverse("donor_account_delete"), {"password": "salah"}).status_code == 400
    assert User.objects.get(pk=donor.pk).is_active

    response = client.post(reverse("donor_account_delete"), {"password": PASSWORD})
    assert response.status_code == 302
    user = User.objects.get(pk=donor.pk)
    assert not user.is_active and not user.has_usable_password()
    assert user.email == donors.deleted_email(donor.pk) and user.full_name == "Donatur terhapus"
    profile = DonorProfile.objects.get(user=user)
    assert (profile.display_name, profile.phone, profile.organisation, profile.is_anonymous) == (
        "Donatur terhapus", "", "", True)
    from allauth.account.models import EmailAddress

    assert not EmailAddress.objects.filter(user=user).exists()
    # Pledges and payments remain, pseudonymised.
    pledge = Pledge.all_regencies.get(pk=subject_world["pledge"].pk)
    assert pledge.donor_id == user.pk and pledge.status == "verified"
    assert Payment.all_regencies.filter(pledge=pledge).count() == 1
    # The session is over and login is no longer possible.
    assert client.get(reverse("donor_home")).status_code == 302
    assert not Client().login(email="donatur.rahasia@example.test", password=PASSWORD)
    web = Client()
    web.post(reverse("account_login"), {"login": "donatur.rahasia@example.test", "password": PASSWORD})
    assert web.get(reverse("donor_home")).status_code == 302  # still sent to the login page
    event = AuditEvent.objects.get(verb="donor.account_deleted")
    assert event.after == {"is_active": False, "pledges_kept": 1, "payments_kept": 1}
    assert "donatur.rahasia" not in json.dumps([event.before, event.after])


def test_donor_delete_is_refused_with_an_open_pledge_or_a_role(subject_world, donor, campaign_a, regency_a):
    p2 = ParticipantFactory(regency=regency_a)
    Pledge.objects.create(regency=regency_a, campaign=campaign_a, participant=p2, donor=donor, status="pledged",
                          amount=245_000, arrears_amount=210_000, months_in_arrears=6, monthly_tariff=35_000,
                          pledged_at=timezone.now())
    response = _client(donor).post(reverse("donor_account_delete"), {"password": PASSWORD})
    assert response.status_code == 400 and "janji donasi yang berjalan" in response.content.decode()
    assert User.objects.get(pk=donor.pk).is_active

    staff = member(regency_a, Role.PEMDA_STAFF)
    response = _client(staff).post(reverse("donor_account_delete"), {"password": PASSWORD})
    assert response.status_code == 400 and User.objects.get(pk=staff.pk).is_active
