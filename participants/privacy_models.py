"""A participant's rights under UU 27/2022: correction requests and the anonymisation record.

Imported at the end of `participants.models` (Django finds models there); the services that
use them live in `donations.privacy` (they read assessments and donations too).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.tenancy import TenantModel


class CorrectableField(models.TextChoices):
    """What a data subject may ask to correct (the identity fields the arrears list carries)."""

    NAME = "name", _("Nama")
    NIK = "nik", _("NIK")
    CARD_NUMBER = "card_number", _("Nomor kartu JKN")
    FAMILY_NUMBER = "family_number", _("Nomor KK")
    BIRTH_DATE = "birth_date", _("Tanggal lahir")
    SEX = "sex", _("Jenis kelamin")
    ADDRESS = "address", _("Alamat")
    VILLAGE = "village", _("Desa/kelurahan")
    ARREARS = "arrears", _("Tunggakan")
    ASSESSMENT = "assessment", _("Jawaban asesmen")
    OTHER = "other", _("Lainnya")


class CorrectionStatus(models.TextChoices):
    OPEN = "open", _("Terbuka")
    DONE = "done", _("Selesai (sudah dikoreksi)")
    REJECTED = "rejected", _("Ditolak")


class CorrectionRequest(TenantModel):
    """A data subject asked for their data to be corrected: recorded by staff, resolved with a note.

    The identity fields come from BPJS's arrears list: a correction is made at the source (BPJS,
    Dukcapil) and arrives with the next list; the request records what was asked and what was done.
    """

    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="correction_requests",
        db_index=False,
    )
    field = models.CharField(_("data yang dikoreksi"), max_length=20, choices=CorrectableField.choices)
    requested_value = models.TextField(_("isi yang diminta / uraian"), max_length=1000)
    status = models.CharField(_("status"), max_length=10, choices=CorrectionStatus.choices,
                              default=CorrectionStatus.OPEN)
    note = models.TextField(_("catatan penyelesaian"), blank=True, max_length=1000)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        verbose_name = _("permintaan koreksi data")
        verbose_name_plural = _("permintaan koreksi data")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", resolved_at__isnull=True)
                | (~Q(status="open") & Q(resolved_at__isnull=False)),
                name="correction_resolved_when_closed",
            ),
        ]
        indexes = [models.Index(fields=["regency", "participant"], name="correction_regency_participant")]

    def __str__(self) -> str:
        return f"{self.field} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status == CorrectionStatus.OPEN


class AnonymisationReason(models.TextChoices):
    REQUEST = "request", _("Atas permintaan peserta")
    RETENTION = "retention", _("Masa simpan berakhir")


class Anonymisation(TenantModel):
    """The participant's personal fields were replaced (irreversible): one row per participant."""

    participant = models.OneToOneField("participants.Participant", on_delete=models.PROTECT,
                                       related_name="anonymisation")
    reason = models.CharField(_("alasan"), max_length=10, choices=AnonymisationReason.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    note = models.CharField(_("catatan"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        verbose_name = _("anonimisasi peserta")
        verbose_name_plural = _("anonimisasi peserta")
        indexes = [models.Index(fields=["regency", "created_at"], name="anonymisation_regency_created")]

    def __str__(self) -> str:
        return f"{self.participant_id} ({self.reason})"
