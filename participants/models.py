"""Participants in arrears, their families, and the imports that bring them in.

Identifiers (card number, NIK, KK number) are text: leading zeros matter.
Money is integer rupiah.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce, Upper
from django.utils.translation import gettext_lazy as _

from core.tenancy import TenantModel


class CareClass(models.IntegerChoices):
    I = 1, _("Kelas I")  # noqa: E741
    II = 2, _("Kelas II")
    III = 3, _("Kelas III")


class Segment(models.TextChoices):
    PBPU = "PBPU", _("PBPU (pekerja bukan penerima upah)")
    BP = "BP", _("BP (bukan pekerja)")
    # A list row may show that the participant has moved to PBI (contributions paid by the
    # state or the regency): no longer someone donors pay for (the dashboard counts them apart).
    PBI = "PBI", _("PBI (pindah ke penerima bantuan iuran)")


# The segments whose arrears the arrears list is about (anything else has left for PBI).
ARREARS_SEGMENTS = (Segment.PBPU, Segment.BP)
# At most 24 months of arrears are billed (and written off by the 2026 programme).
BILLED_MONTHS = 24


class Sex(models.TextChoices):
    MALE = "L", _("Laki-laki")
    FEMALE = "P", _("Perempuan")


class Relationship(models.TextChoices):
    HEAD = "PESERTA", _("Peserta/kepala keluarga")
    HUSBAND = "SUAMI", _("Suami")
    WIFE = "ISTRI", _("Istri")
    CHILD = "ANAK", _("Anak")
    OTHER = "FAMILI LAIN", _("Famili lain")


class BpjsStatus(models.TextChoices):
    ACTIVE = "active", _("Aktif")
    INACTIVE = "inactive", _("Tidak aktif")


class ParticipantStatus(models.TextChoices):
    """Where the participant stands on the branch's arrears list."""

    ACTIVE = "active", _("Aktif")
    INACTIVE = "inactive", _("Tidak aktif (menunggak)")
    CLEARED = "cleared", _("Tidak lagi di daftar tunggakan")


class Family(TenantModel):
    """A Kartu Keluarga: the PBPU billing unit (one virtual account for every member)."""

    # Bulk tables (families, participants, records) are written only by the import's
    # set-based SQL, which joins every id it writes to an existing row in the same
    # transaction. Their foreign keys are not DB constraints: a deferred RI trigger
    # per row and key cost 11 s of a 200k-row import (bench/README.md); PROTECT
    # still holds in Django.
    regency = models.ForeignKey(
        "regencies.Regency", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    number = models.CharField(_("nomor KK"), max_length=16)
    village = models.ForeignKey(
        "regencies.Village", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        db_constraint=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(TenantModel.Meta):
        verbose_name = _("keluarga")
        verbose_name_plural = _("keluarga")
        constraints = [
            models.UniqueConstraint(fields=["regency", "number"], name="family_regency_number_unique"),
        ]

    def __str__(self) -> str:
        return self.number


def virtual_account_numbers(card_number: str) -> dict[str, str]:
    """The family VA for paying PBPU contributions: bank prefix + last 11 digits of the card."""
    tail = card_number[-11:]
    return {"BRI/BNI/BTN/BCA": f"88888{tail}", "Mandiri": f"89888{tail}"}


class Participant(TenantModel):
    # No DB constraints on the foreign keys: see Family.
    regency = models.ForeignKey(
        "regencies.Regency", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    public_id = models.UUIDField(default=uuid.uuid4, editable=False)
    # Digits (and a code word for status): compared byte by byte (collation "C"), which
    # orders them exactly as any locale would and makes their indexes cheaper to build
    # and search. The import's staging table uses the same collation for these columns.
    card_number = models.CharField(_("nomor kartu JKN"), max_length=13, db_collation="C")
    nik = models.CharField(_("NIK"), max_length=16, db_collation="C")
    name = models.CharField(_("nama"), max_length=150)
    birth_date = models.DateField(_("tanggal lahir"), null=True, blank=True)
    sex = models.CharField(_("jenis kelamin"), max_length=1, choices=Sex.choices, blank=True)
    relationship = models.CharField(
        _("hubungan keluarga"), max_length=12, choices=Relationship.choices, blank=True
    )
    care_class = models.PositiveSmallIntegerField(_("kelas rawat"), choices=CareClass.choices)
    segment = models.CharField(_("segmen"), max_length=4, choices=Segment.choices)
    family = models.ForeignKey(
        Family, null=True, blank=True, on_delete=models.PROTECT, related_name="members", db_constraint=False
    )
    # Indexed through (regency, district, village) below.
    district = models.ForeignKey(
        "regencies.District", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        db_index=False, db_constraint=False,
    )
    village = models.ForeignKey(
        "regencies.Village", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        db_index=False, db_constraint=False,
    )
    address = models.CharField(_("alamat"), max_length=255, blank=True)
    months_in_arrears = models.PositiveSmallIntegerField(_("bulan tunggakan"), default=0)
    arrears_amount = models.BigIntegerField(_("jumlah tunggakan (Rp)"), default=0)
    last_paid_date = models.DateField(_("tanggal bayar terakhir"), null=True, blank=True)
    bpjs_status = models.CharField(
        _("status kepesertaan"), max_length=10, choices=BpjsStatus.choices, default=BpjsStatus.INACTIVE
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ParticipantStatus.choices, default=ParticipantStatus.INACTIVE,
        db_collation="C",
    )
    cleared_at = models.DateField(_("keluar dari daftar pada"), null=True, blank=True)
    last_import = models.ForeignKey(
        "participants.ArrearsImport", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        db_index=False, db_constraint=False,
    )
    as_of = models.DateField(_("per tanggal data"), null=True, blank=True)
    # The optional list columns of 2026 (the newest list's values; None = the list did not say).
    written_off = models.BooleanField(_("tunggakan dihapus (pemutihan)"), null=True, blank=True)
    in_rehab = models.BooleanField(_("ikut program REHAB"), null=True, blank=True)
    rehab_instalments_left = models.PositiveSmallIntegerField(
        _("sisa cicilan REHAB"), null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(TenantModel.Meta):
        verbose_name = _("peserta")
        verbose_name_plural = _("peserta")
        constraints = [
            models.UniqueConstraint(fields=["card_number"], name="participant_card_number_unique"),
            models.UniqueConstraint(fields=["public_id"], name="participant_public_id_unique"),
            models.CheckConstraint(condition=Q(arrears_amount__gte=0), name="participant_arrears_nonneg"),
            models.CheckConstraint(condition=Q(care_class__in=[1, 2, 3]), name="participant_class_valid"),
        ]
        # No index keys on what a list changes every month (status, months, amount): those are
        # indexed in `Standing`, so a list's update of this row is a HOT update that writes no
        # index entry (bench/README.md, "Session 16").
        indexes = [
            models.Index(fields=["regency", "district", "village"]),
            models.Index(fields=["regency", "nik"]),
            # One per sort of the participant list (participants.selectors.SORT_ORDERS) that does
            # not change monthly; those by months and amount are `Standing`'s. A page walks the
            # index from its cursor, in either direction.
            models.Index(fields=["regency", "name", "id"], name="participant_sort_name"),
            models.Index(F("regency"), Coalesce("last_paid_date", Value(dt.date(1, 1, 1))), F("id"),
                         name="participant_sort_last_paid"),
            # Name words (`name__icontains`, i.e. UPPER(name) LIKE '%WORD%') through trigrams.
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="participant_name_trgm"),
        ]

    def __str__(self) -> str:
        return f"{self.card_number} {self.name}"

    @property
    def nik_masked(self) -> str:
        return mask_nik(self.nik)

    @property
    def status_badge(self) -> str:
        """The CSS class of the status badge (the list and the detail page)."""
        return _STATUS_BADGES.get(self.status, "badge-warn")


class Standing(TenantModel):
    """Where a participant stands on the arrears list: a copy of the participant's status,
    months and amount, the values each monthly list changes, with the indexes that sort and
    count by them.

    The database keeps it (statement triggers on `participants_participant`, `standing_sql`):
    whatever writes a participant (an import's set-based SQL, the ORM, an operator's UPDATE),
    the row here has the same values when the statement ends. Nothing else writes it. The
    point is the participant row: with no index keyed on these columns, a list's monthly update
    of it is a HOT update that writes no entry in its eight indexes; only this narrow row's
    four index entries are written.
    """

    participant = models.OneToOneField(
        Participant, on_delete=models.DO_NOTHING, primary_key=True, related_name="standing", db_constraint=False
    )
    regency = models.ForeignKey(
        "regencies.Regency", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ParticipantStatus.choices, db_collation="C"
    )
    months_in_arrears = models.PositiveSmallIntegerField(_("bulan tunggakan"))
    arrears_amount = models.BigIntegerField(_("jumlah tunggakan (Rp)"))

    class Meta(TenantModel.Meta):
        verbose_name = _("posisi tunggakan peserta")
        verbose_name_plural = _("posisi tunggakan peserta")
        indexes = [
            models.Index(fields=["regency", "status", "months_in_arrears"], name="standing_status_months"),
            # The participant list's sorts by months and by amount (participants.selectors.SORT_ORDERS).
            models.Index(fields=["regency", "months_in_arrears", "arrears_amount", "participant"],
                         name="standing_sort_months"),
            models.Index(fields=["regency", "arrears_amount", "participant"], name="standing_sort_amount"),
        ]

    def __str__(self) -> str:
        return f"{self.participant_id}: {self.status} {self.months_in_arrears}"


_STATUS_BADGES = {ParticipantStatus.ACTIVE.value: "badge-ok", ParticipantStatus.CLEARED.value: "badge-muted"}


def mask_nik(nik: str) -> str:
    """Show the region (first 6) and the last 2 digits: `732201********01`."""
    if not nik:
        return ""
    return nik[:6] + "*" * max(len(nik) - 8, 0) + nik[-2:]


class ImportMode(models.TextChoices):
    FULL = "full", _("Daftar lengkap cabang")
    PARTIAL = "partial", _("Sebagian (tambahan/perubahan)")


class ImportStatus(models.TextChoices):
    """The import's state machine (TRANSITIONS below). Every import ends in one of
    FINAL_STATUSES; a worker that stops beating is noticed by `services.import_sweep`."""

    QUEUED = "queued", _("Menunggu")
    PARSING = "parsing", _("Membaca berkas")
    AWAITING_CONFIRMATION = "awaiting_confirmation", _("Menunggu konfirmasi")
    APPLYING = "applying", _("Menerapkan")
    APPLIED = "applied", _("Diterapkan")
    REJECTED = "rejected", _("Ditolak")
    FAILED = "failed", _("Gagal")
    DISCARDED = "discarded", _("Dibatalkan")


FINAL_STATUSES = frozenset({ImportStatus.APPLIED, ImportStatus.REJECTED, ImportStatus.FAILED, ImportStatus.DISCARDED})
# A worker is (or should be) on these: their heartbeat is watched.
RUNNING_STATUSES = (ImportStatus.QUEUED, ImportStatus.PARSING, ImportStatus.APPLYING)
# These block a new upload of the same bytes for the branch (failed, rejected and discarded never do).
BLOCKING_STATUSES = (*RUNNING_STATUSES, ImportStatus.AWAITING_CONFIRMATION, ImportStatus.APPLIED)

# from -> allowed to. `queued` again: re-queued by the sweeper, a retry or a confirmation.
# parsing/applying -> parsing/applying: a run started again over one whose worker died.
TRANSITIONS: dict[str, frozenset[str]] = {
    ImportStatus.QUEUED: frozenset({ImportStatus.PARSING, ImportStatus.APPLYING, ImportStatus.FAILED,
                                    ImportStatus.DISCARDED, ImportStatus.QUEUED}),
    ImportStatus.PARSING: frozenset({ImportStatus.PARSING, ImportStatus.APPLYING,
                                     ImportStatus.AWAITING_CONFIRMATION, ImportStatus.REJECTED,
                                     ImportStatus.FAILED, ImportStatus.QUEUED, ImportStatus.DISCARDED}),
    ImportStatus.AWAITING_CONFIRMATION: frozenset({ImportStatus.QUEUED, ImportStatus.DISCARDED}),
    ImportStatus.APPLYING: frozenset({ImportStatus.PARSING, ImportStatus.APPLYING, ImportStatus.APPLIED,
                                      ImportStatus.FAILED, ImportStatus.QUEUED, ImportStatus.DISCARDED}),
    ImportStatus.FAILED: frozenset({ImportStatus.QUEUED, ImportStatus.DISCARDED}),
    ImportStatus.APPLIED: frozenset(),
    ImportStatus.REJECTED: frozenset(),
    ImportStatus.DISCARDED: frozenset(),
}


def import_upload_path(instance: ArrearsImport, filename: str) -> str:
    return f"imports/{instance.branch.code}/{instance.sha256[:2]}/{instance.sha256}{_suffix(filename)}"


def _suffix(filename: str) -> str:
    lowered = filename.lower()
    for ext in (".csv", ".xlsx", ".txt"):
        if lowered.endswith(ext):
            return ext
    return ""


class ArrearsImport(models.Model):
    """One uploaded arrears list of a BPJS branch. Branch-scoped, not a tenant row:
    one file covers several regencies."""

    branch = models.ForeignKey("regencies.BpjsBranch", on_delete=models.PROTECT, related_name="imports")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    file = models.FileField(upload_to=import_upload_path, max_length=255)
    original_name = models.CharField(_("nama berkas"), max_length=255)
    size_bytes = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    as_of = models.DateField(_("per tanggal"))
    mode = models.CharField(_("mode"), max_length=10, choices=ImportMode.choices, default=ImportMode.FULL)
    status = models.CharField(
        _("status"), max_length=24, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(default=0)
    # Written every few seconds by the worker running the import (services._Heartbeat); an
    # import in RUNNING_STATUSES whose heartbeat is older than ARREARS_IMPORT_STALE_SECONDS
    # has lost its worker and is picked up by services.import_sweep.
    heartbeat_at = models.DateTimeField(_("detak terakhir"), null=True, blank=True)
    # Runs started (counted, in its own transaction, before any work): a third start is
    # refused and the import is `failed` (the dead letter).
    attempts = models.PositiveSmallIntegerField(_("percobaan"), default=0)
    # Browser and API uploads: a full list that would clear many participants or release
    # pledges waits at `awaiting_confirmation`.
    ask_first = models.BooleanField(default=False)
    preview = models.JSONField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # What the parse left in staging, so that a confirmed import applies the staging it
    # previewed only when it is still whole (UNLOGGED tables are emptied by a crash).
    staged_rows = models.PositiveIntegerField(default=0)
    unreadable_cards = models.PositiveIntegerField(default=0)
    message = models.TextField(_("pesan"), blank=True)
    is_outdated = models.BooleanField(
        default=False,
        help_text=_("Lebih lama dari impor terakhir cabang: disimpan sebagai riwayat saja."),
    )
    rows = models.PositiveIntegerField(default=0)
    valid = models.PositiveIntegerField(default=0)
    invalid = models.PositiveIntegerField(default=0)
    new = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    cleared = models.PositiveIntegerField(default=0)
    regency_counts = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True, help_text="The first errors, for the page.")
    error_count = models.PositiveIntegerField(default=0)
    # Rows accepted but flagged (e.g. more than 24 months billed): the first ones and how many.
    warnings = models.JSONField(default=list, blank=True, help_text="The first warnings, for the page.")
    warning_count = models.PositiveIntegerField(default=0)
    # The full error report as CSV (row, column, message, value), written after the run.
    error_report = models.FileField(upload_to="imports/reports/", max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(null=True, blank=True)

    class Meta:
        verbose_name = _("impor tunggakan")
        verbose_name_plural = _("impor tunggakan")
        ordering = ["-created_at", "-id"]
        constraints = [
            # The same bytes twice for a branch are one import (a rejected or failed one may be retried).
            models.UniqueConstraint(
                fields=["branch", "sha256"],
                condition=~Q(status__in=["rejected", "failed", "discarded"]),
                name="import_branch_sha256_unique_live",
            ),
            models.CheckConstraint(condition=Q(progress__lte=100), name="import_progress_max_100"),
        ]
        indexes = [models.Index(fields=["branch", "status", "as_of"])]

    def __str__(self) -> str:
        return f"{self.branch.code} {self.as_of} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def is_awaiting_confirmation(self) -> bool:
        return self.status == ImportStatus.AWAITING_CONFIRMATION


class ImportRowError(models.Model):
    """One problem with one row (or the file, row 0) of an import: the full error report."""

    arrears_import = models.ForeignKey(ArrearsImport, on_delete=models.CASCADE, related_name="row_errors")
    row = models.PositiveIntegerField()
    column = models.CharField(max_length=40, blank=True)
    message = models.CharField(max_length=300)
    value = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("kesalahan baris")
        verbose_name_plural = _("kesalahan baris")
        ordering = ["row", "id"]
        indexes = [models.Index(fields=["arrears_import", "row"])]

    def __str__(self) -> str:
        return f"{self.row}:{self.column} {self.message}"


class ImportRowWarning(models.Model):
    """One row of an import that was ACCEPTED but flagged (e.g. more than 24 months billed)."""

    arrears_import = models.ForeignKey(ArrearsImport, on_delete=models.CASCADE, related_name="row_warnings")
    row = models.PositiveIntegerField()
    column = models.CharField(max_length=40, blank=True)
    message = models.CharField(max_length=300)
    value = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("peringatan baris")
        verbose_name_plural = _("peringatan baris")
        ordering = ["row", "id"]
        indexes = [models.Index(fields=["arrears_import", "row"])]

    def __str__(self) -> str:
        return f"{self.row}:{self.column} {self.message}"


class ArrearsRecord(TenantModel):
    """One participant's line in one import: the history that screening and reconciliation read.

    The table is partitioned by RANGE on `as_of` (the list's date), one partition per list
    month and a DEFAULT one for a month nobody prepared (participants.partitions; migration
    0009): an import writes one partition, old months are detached and archived whole. The
    primary key in the database is (id, as_of), as PostgreSQL wants the partition key in every
    unique index; Django keeps `id` as the primary key (one sequence hands out every id).
    """

    # No DB constraints on the foreign keys: see Family.
    regency = models.ForeignKey(
        "regencies.Regency", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    arrears_import = models.ForeignKey(
        ArrearsImport, on_delete=models.PROTECT, related_name="records", db_constraint=False
    )
    # Indexed through the unique (participant, arrears_import) below.
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="records", db_index=False, db_constraint=False
    )
    as_of = models.DateField()
    row_number = models.PositiveIntegerField()
    months_in_arrears = models.PositiveSmallIntegerField()
    arrears_amount = models.BigIntegerField()
    bpjs_status = models.CharField(max_length=10, choices=BpjsStatus.choices)
    last_paid_date = models.DateField(null=True, blank=True)
    care_class = models.PositiveSmallIntegerField(choices=CareClass.choices)
    segment = models.CharField(max_length=4, choices=Segment.choices)
    # The optional list columns of 2026: `pemutihan`, `rehab`, `sisa_cicilan` (None = not in the file).
    written_off = models.BooleanField(null=True, blank=True)
    in_rehab = models.BooleanField(null=True, blank=True)
    rehab_instalments_left = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        verbose_name = _("catatan tunggakan")
        verbose_name_plural = _("catatan tunggakan")
        constraints = [
            # `as_of` is the partition key (an import has one `as_of`, so the rows allowed are
            # the same as by participant and import); the order serves "the newest record of a
            # participant" (ORDER BY as_of DESC: an index-only scan of each month's partition).
            models.UniqueConstraint(
                fields=["participant", "as_of", "arrears_import"], name="record_participant_import_unique"
            ),
            models.CheckConstraint(condition=Q(arrears_amount__gte=0), name="record_arrears_nonneg"),
        ]


class ClearingHistory(TenantModel):
    """What screening and the `reactivated` figure need of one participant's history in one
    regency, kept by the import.

    Screening's rules read the history for two things only: the clearings (a record in arrears
    followed by a list at zero, or by a full list of the regency without the participant) and,
    after each, the first record in arrears again. Kept here, one row per participant and regency
    of the records, the apply maintains them set-based from the one list it writes
    (`participants.imports.apply`), and screening reads the current participants with these rows
    instead of every month of the history: its cost no longer grows with the months kept.

    `once_in_arrears`: the participant has some record of this regency listed as not active (the
    `reactivated` figure's "once in arrears", read here instead of every month of the history).

    `clearings` holds every clearing of the records of this regency, oldest first, each
    `{"from", "months", "cleared", "next", "next_months"}`: the record's date and months, the date
    of the list that cleared it, and the first later record in arrears (its date and months;
    null while none came). The thresholds (N, M) and whether a donor paid apply when screening
    reads them, so a change of the regency's settings needs no rebuild.
    """

    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    # The newest record of the participant in this regency: date and months in arrears.
    last_as_of = models.DateField(null=True, blank=True)
    last_months = models.PositiveSmallIntegerField(default=0)
    # The newest record already has its clearing (a full list without the participant came).
    last_cleared = models.BooleanField(default=False)
    # A clearing still waits for the first record in arrears after it.
    awaiting_next = models.BooleanField(default=False)
    clearings = models.JSONField(default=list, blank=True)
    # Some record of this regency lists the participant as not active (`bpjs_status` inactive,
    # `participants.selectors.record_in_arrears_q`), whichever import wrote it: "once in arrears",
    # what the `reactivated` figure asks of the history (`participants.selectors.reactivated_q`).
    once_in_arrears = models.BooleanField(default=False)

    class Meta(TenantModel.Meta):
        verbose_name = _("riwayat pelunasan")
        verbose_name_plural = _("riwayat pelunasan")
        constraints = [
            models.UniqueConstraint(fields=["participant", "regency"], name="clearing_history_unique"),
        ]
        indexes = [
            models.Index(fields=["regency", "participant"], name="clearing_history_regency"),
            # The rows a full list may clear: newest record in arrears, not cleared yet.
            models.Index(fields=["regency", "last_as_of"], name="clearing_history_open",
                         condition=Q(last_months__gt=0, last_cleared=False)),
            # The participants once in arrears of a regency (`reactivated_q`): an index-only scan.
            models.Index(fields=["regency", "participant"], name="clearing_history_once",
                         condition=Q(once_in_arrears=True)),
        ]

    def __str__(self) -> str:
        return f"{self.participant_id} in {self.regency_id}: {len(self.clearings)} clearings"


class ClearingHistoryMark(models.Model):
    """Which history a regency's `ClearingHistory` rows were made from: the applied imports of
    its branches (how many, the newest id) when they were last brought up to date. Screening
    rebuilds them from the history when that no longer matches (records written by anything
    but the apply)."""

    regency = models.OneToOneField("regencies.Regency", on_delete=models.CASCADE, related_name="+")
    imports = models.PositiveIntegerField(default=0)
    newest_import_id = models.BigIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.regency_id}: {self.imports} imports up to {self.newest_import_id}"


# UU 27/2022 rights (correction requests, anonymisation): their own module, registered here.
from participants.privacy_models import Anonymisation, CorrectionRequest  # noqa: E402, F401
