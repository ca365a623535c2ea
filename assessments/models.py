"""Eligibility assessments: screening results, the assessment state machine, evidence files.

Screening (automatic, from the import history) only recommends; an assessment
decided by a second person (four eyes) is what makes a participant eligible.
"""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.tenancy import TenantModel
from participants.models import BILLED_MONTHS

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class Recommendation(models.TextChoices):
    ASSESS = "assess", _("Perlu dinilai")
    LOW_PRIORITY = "low_priority", _("Prioritas rendah")
    LIKELY_INELIGIBLE = "likely_ineligible", _("Kemungkinan tidak layak")
    WRITTEN_OFF = "written_off", _("Tunggakan dihapus (pemutihan)")


class Flag(models.TextChoices):
    SELF_CLEARED_BEFORE = "self_cleared_before", _("Pernah melunasi sendiri")
    PAYS_WHEN_SICK = "pays_when_sick", _("Bayar saat sakit")
    SHORT_ARREARS = "short_arrears", _("Tunggakan singkat")
    HIGHER_CLASS = "higher_class", _("Kelas I/II")
    FAMILY_PARTLY_COVERED = "family_partly_covered", _("Keluarga sebagian aktif")
    WRITTEN_OFF = "written_off", _("Dihapus program pemutihan")
    IN_REHAB = "in_rehab", _("Sudah ikut REHAB")


class Route(models.TextChoices):
    """Where an assessed household is sent (`assessments.routes.route_for`)."""

    UNDECIDED = "", _("Belum ditentukan")
    WRITEOFF = "writeoff", _("Rujuk ke PBI: tunggakan dihapus (pemutihan)")
    WRITEOFF_MAY_APPLY = "writeoff_may_apply", _("Bantu ajukan pemutihan")
    REHAB = "rehab", _("Rujuk ke REHAB (cicilan)")
    IN_REHAB = "in_rehab", _("Sudah ikut REHAB")
    DONOR = "donor", _("Donatur")


class Status(models.TextChoices):
    DRAFT = "draft", _("Draf")
    SUBMITTED = "submitted", _("Diajukan")
    APPROVED = "approved", _("Disetujui (layak)")
    REJECTED = "rejected", _("Ditolak (tidak layak)")


OPEN_STATUSES = (Status.DRAFT, Status.SUBMITTED)
DECIDED_STATUSES = (Status.APPROVED, Status.REJECTED)


class Outcome(models.TextChoices):
    ELIGIBLE = "eligible", _("Layak")
    INELIGIBLE = "ineligible", _("Tidak layak")


class ReasonCode(models.TextChoices):
    ABLE_TO_PAY = "able_to_pay", _("Mampu membayar sendiri")
    PAYS_WHEN_SICK = "pays_when_sick", _("Hanya membayar saat sakit")
    REFER_PBI = "refer_pbi", _("Diusulkan menjadi PBI (Dinas Sosial)")
    REFER_REHAB = "refer_rehab", _("Dirujuk ke REHAB BPJS (sanggup mencicil)")
    MOVED = "moved", _("Pindah domisili")
    DECEASED = "deceased", _("Meninggal dunia")
    DUPLICATE = "duplicate", _("Data ganda")
    OTHER = "other", _("Lainnya")


class Eligibility(models.TextChoices):
    UNASSESSED = "unassessed", _("Belum dinilai")
    PENDING = "pending", _("Sedang dinilai")
    ELIGIBLE = "eligible", _("Layak dibantu")
    INELIGIBLE = "ineligible", _("Tidak layak")
    EXPIRED = "expired", _("Penilaian kedaluwarsa")


_DECILES = list(range(1, 11))
_CLASSES = [1, 2, 3]
_SEGMENTS = ["PBPU", "BP"]


class WriteOffProgramme(models.Model):
    """A state write-off of JKN arrears ("pemutihan"), effective-dated: national data the
    operator edits in the admin (the 2026 programme is seeded by a migration).

    Deciles are DTSEN deciles (1 = poorest): `deciles_automatic` are written off without
    application, `deciles_may_apply` may apply. Only class(es) `care_classes` of segments
    `segments` are covered; `months_counted` is how many of the last months are written off.
    """

    name = models.CharField(_("nama program"), max_length=200)
    legal_basis = models.CharField(_("dasar hukum"), max_length=300, blank=True)
    starts_on = models.DateField(_("berlaku mulai"))
    ends_on = models.DateField(_("berlaku sampai"), null=True, blank=True,
                               help_text=_("Kosongkan jika belum ada tanggal akhir."))
    deciles_automatic = ArrayField(
        models.PositiveSmallIntegerField(), verbose_name=_("desil dihapus otomatis"), default=list, blank=True,
        help_text=_("Desil DTSEN dipisah koma, mis. 1,2,3,4."),
    )
    deciles_may_apply = ArrayField(
        models.PositiveSmallIntegerField(), verbose_name=_("desil yang dapat mengajukan"), default=list,
        blank=True, help_text=_("Desil DTSEN dipisah koma, mis. 5,6,7,8,9,10."),
    )
    care_classes = ArrayField(
        models.PositiveSmallIntegerField(), verbose_name=_("kelas rawat yang dicakup"), default=list,
        help_text=_("Dipisah koma, mis. 3."),
    )
    segments = ArrayField(
        models.CharField(max_length=4), verbose_name=_("segmen yang dicakup"), default=list,
        help_text=_("PBPU dan/atau BP, dipisah koma."),
    )
    months_counted = models.PositiveSmallIntegerField(
        _("bulan terakhir yang dihitung"), default=24, validators=[MinValueValidator(1), MaxValueValidator(120)],
    )
    once_per_person = models.BooleanField(_("sekali per orang"), default=True)
    note = models.TextField(_("catatan"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("program pemutihan tunggakan")
        verbose_name_plural = _("program pemutihan tunggakan")
        ordering = ["-starts_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="writeoff_programme_dates_ordered",
            ),
            models.CheckConstraint(condition=Q(deciles_automatic__contained_by=_DECILES),
                                   name="writeoff_programme_deciles_automatic_valid"),
            models.CheckConstraint(condition=Q(deciles_may_apply__contained_by=_DECILES),
                                   name="writeoff_programme_deciles_may_apply_valid"),
            models.CheckConstraint(condition=Q(care_classes__contained_by=_CLASSES),
                                   name="writeoff_programme_classes_valid"),
            models.CheckConstraint(condition=Q(segments__contained_by=_SEGMENTS),
                                   name="writeoff_programme_segments_valid"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, StrOrPromise] = {}
        for key in ("deciles_automatic", "deciles_may_apply"):
            bad = [d for d in getattr(self, key) or [] if d not in _DECILES]
            if bad:
                errors[key] = _("Desil harus 1 sampai 10.")
        overlap = set(self.deciles_automatic or []) & set(self.deciles_may_apply or [])
        if overlap and "deciles_may_apply" not in errors:
            errors["deciles_may_apply"] = _("Desil %(d)s tidak boleh sekaligus otomatis dan mengajukan.") % {
                "d": ", ".join(map(str, sorted(overlap)))}
        if not self.care_classes or any(c not in _CLASSES for c in self.care_classes):
            errors["care_classes"] = _("Kelas rawat harus 1, 2 atau 3.")
        if not self.segments or any(s not in _SEGMENTS for s in self.segments):
            errors["segments"] = _("Segmen harus PBPU atau BP.")
        if self.ends_on and self.starts_on and self.ends_on < self.starts_on:
            errors["ends_on"] = _("Tanggal akhir tidak boleh sebelum tanggal mulai.")
        if errors:
            raise ValidationError(errors)
        self.deciles_automatic = sorted(set(self.deciles_automatic or []))
        self.deciles_may_apply = sorted(set(self.deciles_may_apply or []))
        self.care_classes = sorted(set(self.care_classes))
        self.segments = [s for s in _SEGMENTS if s in self.segments]

    def in_force(self, on) -> bool:
        return self.starts_on <= on and (self.ends_on is None or on <= self.ends_on)

    def covers_participant(self, participant) -> bool:
        return participant.care_class in (self.care_classes or []) and participant.segment in (self.segments or [])


class ScreeningSettings(TenantModel):
    """Per-regency thresholds of the screening rules (editable by the regency admin)."""

    cleared_min_months = models.PositiveSmallIntegerField(
        _("minimal bulan tunggakan yang dilunasi sendiri (N)"), default=3,
        validators=[MinValueValidator(1), MaxValueValidator(24)],
    )
    relapse_within_months = models.PositiveSmallIntegerField(
        _("menunggak lagi dalam (bulan, M)"), default=6,
        validators=[MinValueValidator(1), MaxValueValidator(36)],
    )
    short_arrears_months = models.PositiveSmallIntegerField(
        _("tunggakan singkat jika kurang dari (bulan, K)"), default=3,
        validators=[MinValueValidator(1), MaxValueValidator(24)],
    )
    validity_months = models.PositiveSmallIntegerField(
        _("masa berlaku hasil asesmen (bulan)"), default=12,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta(TenantModel.Meta):
        verbose_name = _("pengaturan penyaringan")
        verbose_name_plural = _("pengaturan penyaringan")
        constraints = [
            models.UniqueConstraint(fields=["regency"], name="screening_settings_one_per_regency"),
        ]

    def __str__(self) -> str:
        return f"N={self.cleared_min_months} M={self.relapse_within_months} K={self.short_arrears_months}"


class Screening(TenantModel):
    """The screening result of one participant in arrears: the queue entry.

    Written set-based by `assessments.screening.screening_run`; `assigned_to`
    and `queued_on` belong to the queue and survive re-screening.

    Regency, participant and import carry no database foreign key (Django still applies
    `on_delete`): the screening statement takes them from the rows it reads, and checking
    them at commit (three checks a new row) took a quarter of a regency's first screening.
    """

    regency = models.ForeignKey(
        "regencies.Regency", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.CASCADE, related_name="+", db_index=False,
        db_constraint=False,
    )
    flags = models.JSONField(default=list, blank=True)
    recommendation = models.CharField(max_length=20, choices=Recommendation.choices)
    # The priority without its months in arrears (`priority` adds them from the participant).
    priority_base = models.IntegerField(default=0)
    # The queue's order within the regency: the priority less 10 for each month of the list the
    # screening read (`screening.list_month_index`). One more month in arrears on the next month's
    # list leaves it as it is, so a month's list rewrites only the entries whose result changed,
    # not every entry whose arrears grew (the order within a run is the priority's). Past the
    # months billed the rank falls 10 behind every month: the screening updates it alone.
    queue_rank = models.IntegerField(default=0)
    family_size = models.PositiveSmallIntegerField(default=1)
    arrears_import = models.ForeignKey(
        "participants.ArrearsImport", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        db_index=False, db_constraint=False,
    )
    # When, and from which list (`arrears_import`), this result was computed: a later screening
    # that computes the same result leaves the entry as it is.
    computed_at = models.DateTimeField()
    queued_on = models.DateField()
    # Indexed only where set (`screening_assigned`): almost every entry has nobody assigned, and
    # each month's list rewrites most entries through every index of the queue.
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        db_index=False,
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    # What the result was computed from (`assessments.screening`): a 64-bit hash of the entry's
    # inputs (the participant's fields the rules read, the family's counts, the clearings, the
    # donors' payments, the thresholds, the list's month against the months billed). A later
    # screening whose inputs hash the same leaves the entry unread and unwritten (two different
    # inputs hashing alike: about once in 2**64 changes). NULL: compute.
    inputs_hash = models.BigIntegerField(null=True, blank=True, editable=False)
    # The flags the entry carries, one bit each (`screening.FLAG_BITS`): the run's counts read
    # these for the entries it leaves as they are, instead of their flags.
    flag_bits = models.PositiveSmallIntegerField(default=0, db_default=0, editable=False)

    class Meta(TenantModel.Meta):
        verbose_name = _("hasil penyaringan")
        verbose_name_plural = _("hasil penyaringan")
        constraints = [
            models.UniqueConstraint(fields=["participant"], name="screening_one_per_participant"),
        ]
        indexes = [
            models.Index(fields=["regency", "-queue_rank"], name="screening_regency_rank"),
            models.Index(fields=["assigned_to"], condition=Q(assigned_to__isnull=False),
                         name="screening_assigned"),
        ]

    def __str__(self) -> str:
        return f"{self.participant_id}: {self.recommendation}"

    @property
    def flag_codes(self) -> list[str]:
        return [flag.get("code") for flag in self.flags or []]

    @property
    def priority(self) -> int:
        """The queue priority: `priority_base` and 10 for each month in arrears, up to 24 (reads
        the participant)."""
        return self.priority_base + priority_for_months(self.participant.months_in_arrears)


# Each month in arrears adds to the priority, up to the months BPJS bills.
PRIORITY_PER_MONTH = 10
PRIORITY_MONTHS_CAP = BILLED_MONTHS


def priority_for_months(months: int) -> int:
    return PRIORITY_PER_MONTH * min(max(months, 0), PRIORITY_MONTHS_CAP)


class Assessment(TenantModel):
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="assessments", db_index=False
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    questionnaire_version = models.PositiveSmallIntegerField(_("versi kuesioner"))
    answers = models.JSONField(default=dict, blank=True)
    screening_snapshot = models.JSONField(default=dict, blank=True)
    outcome = models.CharField(_("hasil"), max_length=10, choices=Outcome.choices, blank=True)
    reason_code = models.CharField(_("alasan"), max_length=20, choices=ReasonCode.choices, blank=True)
    decision_note = models.TextField(_("catatan keputusan"), blank=True)
    return_note = models.TextField(_("catatan pengembalian"), blank=True)
    valid_until = models.DateField(_("berlaku sampai"), null=True, blank=True)
    # The route the answers and the newest list point to (`assessments.routes.route_for`), set
    # when answers are saved and again when decided; donations leave `writeoff`/`rehab` out.
    route = models.CharField(_("rujukan"), max_length=20, choices=Route.choices, blank=True, default="")
    writeoff_programme = models.ForeignKey(
        WriteOffProgramme, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("program pemutihan"),
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    consent_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    consent_recorded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(TenantModel.Meta):
        verbose_name = _("asesmen")
        verbose_name_plural = _("asesmen")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One open (draft or submitted) assessment per participant.
            models.UniqueConstraint(
                fields=["participant"], condition=Q(status__in=["draft", "submitted"]),
                name="assessment_one_open_per_participant",
            ),
            models.CheckConstraint(
                condition=~Q(status="approved") | (Q(outcome="eligible") & Q(valid_until__isnull=False)),
                name="assessment_approved_is_eligible",
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | (Q(outcome="ineligible") & ~Q(reason_code="")),
                name="assessment_rejected_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["participant", "status", "valid_until"], name="assessment_part_status"),
            models.Index(fields=["regency", "status", "-created_at"], name="assessment_regency_status"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_status_display()}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


def evidence_upload_path(instance: Evidence, filename: str) -> str:
    """A random name: nothing of the original file name reaches the disk."""
    suffix = PurePosixPath(filename).suffix.lower()
    return f"evidence/{instance.regency_id}/{uuid.uuid4().hex}{suffix}"


class Evidence(TenantModel):
    """A photo or PDF taken at the household visit. Stored under MEDIA_ROOT (outside
    the web root) and served only by `assessments.views.evidence_download`."""

    assessment = models.ForeignKey(Assessment, on_delete=models.PROTECT, related_name="evidence")
    file = models.FileField(upload_to=evidence_upload_path, max_length=255)
    content_type = models.CharField(max_length=40)
    size_bytes = models.PositiveIntegerField()
    original_name = models.CharField(_("nama berkas"), max_length=255)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        verbose_name = _("bukti")
        verbose_name_plural = _("bukti")
        ordering = ["uploaded_at", "id"]
        indexes = [models.Index(fields=["regency", "assessment"], name="evidence_regency_assessment")]

    def __str__(self) -> str:
        return self.original_name
