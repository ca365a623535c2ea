"""Campaigns, donors, pledges, payments, pooled gifts and their allocations.

Money is integer rupiah. A pledge's amount is frozen when it is made (arrears
from the latest import + the current month, and optional months ahead, at the
tariff in force). Exactly one active pledge per participant is guaranteed by a
partial unique index (`pledge_one_active_per_participant`) and by row locks in
`donations.services` (regency -> participant -> pledge).

A `verified` pledge is NOT in that index: verification means the arrears were
cleared, so the participant leaves the pool by itself (the next import shows no
arrears), and may be helped again years later when a new arrears episode appears.
Until an import newer than the verification shows new arrears, the selectors keep
such a participant out of the pool (see `donations.selectors.available_participants`).
"""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from regencies.tenancy import TenantModel


class DonorProfile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="donor_profile")
    display_name = models.CharField(_("nama tampilan"), max_length=100, blank=True)
    is_anonymous = models.BooleanField(_("tampil sebagai anonim"), default=True)
    phone = models.CharField(_("nomor telepon"), max_length=20, blank=True)
    organisation = models.CharField(_("organisasi/unit kerja"), max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("profil donatur")
        verbose_name_plural = _("profil donatur")

    def __str__(self) -> str:
        return self.display_name or str(self.user)

    @property
    def public_name(self) -> str:
        return str(_("Donatur anonim")) if self.is_anonymous or not self.display_name else self.display_name


class Tariff(models.Model):
    """The participant's monthly contribution per care class, effective from a date
    (Perpres 64/2020). National: edited by the national operator in the admin."""

    care_class = models.PositiveSmallIntegerField(
        _("kelas rawat"), choices=[(1, _("Kelas I")), (2, _("Kelas II")), (3, _("Kelas III"))]
    )
    amount = models.BigIntegerField(_("iuran per bulan (Rp)"))
    effective_from = models.DateField(_("berlaku sejak"))
    note = models.CharField(_("dasar hukum/catatan"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("tarif iuran")
        verbose_name_plural = _("tarif iuran")
        ordering = ["care_class", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["care_class", "effective_from"], name="tariff_class_from_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="tariff_amount_positive"),
            models.CheckConstraint(condition=Q(care_class__in=[1, 2, 3]), name="tariff_class_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.care_class}: {self.amount} ({self.effective_from})"


class Audience(models.TextChoices):
    INTERNAL = "internal", _("Internal Pemda (anggota kabupaten/kota ini)")
    PUBLIC = "public", _("Publik (siapa saja yang mendaftar)")


class Kind(models.TextChoices):
    ONE_TO_ONE = "one_to_one", _("Satu donatur untuk satu peserta")
    POOLED = "pooled", _("Dana bersama")
    BOTH = "both", _("Keduanya")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draf")
    ACTIVE = "active", _("Aktif")
    CLOSED = "closed", _("Ditutup")


class Campaign(TenantModel):
    slug = models.SlugField(_("slug (alamat halaman)"), max_length=60)
    title = models.CharField(_("judul"), max_length=150)
    story = models.TextField(_("cerita"), blank=True)
    audience = models.CharField(_("sasaran donatur"), max_length=10, choices=Audience.choices,
                                default=Audience.INTERNAL)
    kind = models.CharField(_("jenis"), max_length=12, choices=Kind.choices, default=Kind.ONE_TO_ONE)
    target_participants = models.PositiveIntegerField(_("target peserta"), null=True, blank=True)
    target_amount = models.BigIntegerField(_("target dana (Rp)"), null=True, blank=True)
    starts_on = models.DateField(_("mulai"), null=True, blank=True)
    ends_on = models.DateField(_("berakhir"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=CampaignStatus.choices,
                              default=CampaignStatus.DRAFT)
    pledge_limit = models.PositiveSmallIntegerField(
        _("batas janji per donatur"), null=True, blank=True,
        help_text=_("Kosongkan bila tidak dibatasi."),
    )
    hold_hours = models.PositiveSmallIntegerField(_("lama pemesanan (jam)"), default=72)
    months_ahead = models.PositiveSmallIntegerField(
        _("bulan iuran di muka"), default=0,
        help_text=_("Iuran bulan-bulan berikutnya yang ikut dibayar donatur (0 = hanya tunggakan + bulan berjalan)."),
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(TenantModel.Meta):
        verbose_name = _("kampanye")
        verbose_name_plural = _("kampanye")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["slug"], name="campaign_slug_unique"),
            models.CheckConstraint(condition=Q(target_amount__gte=0), name="campaign_target_nonneg"),
            models.CheckConstraint(condition=Q(hold_hours__gte=1) & Q(hold_hours__lte=720),
                                   name="campaign_hold_hours_range"),
            models.CheckConstraint(condition=Q(months_ahead__lte=12), name="campaign_months_ahead_max"),
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True) | Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="campaign_dates_ordered",
            ),
        ]
        indexes = [models.Index(fields=["regency", "status"], name="campaign_regency_status")]

    def __str__(self) -> str:
        return self.title

    @property
    def allows_one_to_one(self) -> bool:
        return self.kind in (Kind.ONE_TO_ONE, Kind.BOTH)

    @property
    def allows_pooled(self) -> bool:
        return self.kind in (Kind.POOLED, Kind.BOTH)

    @property
    def is_public(self) -> bool:
        return self.audience == Audience.PUBLIC


class PledgeStatus(models.TextChoices):
    RESERVED = "reserved", _("Dipesan")
    PLEDGED = "pledged", _("Dijanjikan")
    PAID = "paid", _("Dibayar")
    VERIFIED = "verified", _("Terverifikasi")
    EXPIRED = "expired", _("Kedaluwarsa")
    CANCELLED = "cancelled", _("Dibatalkan")
    RELEASED = "released", _("Dilepas")
    DISPUTED = "disputed", _("Dipersoalkan")


# Holding the participant: at most one of these per participant (partial unique index).
ACTIVE_STATUSES = (PledgeStatus.RESERVED, PledgeStatus.PLEDGED, PledgeStatus.PAID)
# Counted as covering the participant (progress, families, pooled priority).
COVERING_STATUSES = (*ACTIVE_STATUSES, PledgeStatus.VERIFIED, PledgeStatus.DISPUTED)

# from -> allowed to. `released` and `disputed` (and `verified`) are set by reconciliation.
TRANSITIONS: dict[str, frozenset[str]] = {
    PledgeStatus.RESERVED: frozenset({PledgeStatus.PLEDGED, PledgeStatus.EXPIRED, PledgeStatus.CANCELLED,
                                      PledgeStatus.RELEASED}),
    PledgeStatus.PLEDGED: frozenset({PledgeStatus.PAID, PledgeStatus.CANCELLED, PledgeStatus.RELEASED}),
    PledgeStatus.PAID: frozenset({PledgeStatus.VERIFIED, PledgeStatus.DISPUTED}),
    PledgeStatus.DISPUTED: frozenset({PledgeStatus.VERIFIED}),
    PledgeStatus.VERIFIED: frozenset(),
    PledgeStatus.EXPIRED: frozenset(),
    PledgeStatus.CANCELLED: frozenset(),
    PledgeStatus.RELEASED: frozenset(),
}


class Pledge(TenantModel):
    public_id = models.UUIDField(default=uuid.uuid4, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="pledges")
    participant = models.ForeignKey("participants.Participant", on_delete=models.PROTECT, related_name="pledges",
                                    db_index=False)
    # Null for an allocation of the pooled fund (`is_pooled`): a pledge of the campaign itself.
    donor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="pledges")
    is_pooled = models.BooleanField(_("dari dana bersama"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=PledgeStatus.choices,
                              default=PledgeStatus.RESERVED)
    # The amount, frozen when the pledge was made, and how it was made up.
    amount = models.BigIntegerField(_("jumlah (Rp)"))
    arrears_amount = models.BigIntegerField(_("tunggakan menurut impor (Rp)"))
    months_in_arrears = models.PositiveSmallIntegerField(_("bulan tunggakan menurut impor"))
    monthly_tariff = models.BigIntegerField(_("iuran per bulan (Rp)"))
    months_ahead = models.PositiveSmallIntegerField(_("bulan di muka"), default=0)
    arrears_import = models.ForeignKey("participants.ArrearsImport", null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="+", db_index=False)
    as_of = models.DateField(_("data per tanggal"), null=True, blank=True)
    family_adoption = models.UUIDField(null=True, blank=True, help_text="Pledges made together by 'adopt the family'.")
    expires_at = models.DateTimeField(_("batas pemesanan"), null=True, blank=True)
    due_at = models.DateTimeField(_("batas pembayaran"), null=True, blank=True)
    warning_sent_at = models.DateTimeField(null=True, blank=True)
    pledged_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    release_reason = models.CharField(_("alasan dilepas"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(TenantModel.Meta):
        verbose_name = _("janji donasi")
        verbose_name_plural = _("janji donasi")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant"], condition=Q(status__in=["reserved", "pledged", "paid"]),
                name="pledge_one_active_per_participant",
            ),
            models.UniqueConstraint(fields=["public_id"], name="pledge_public_id_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="pledge_amount_positive"),
            models.CheckConstraint(condition=Q(arrears_amount__gte=0), name="pledge_arrears_nonneg"),
            models.CheckConstraint(condition=Q(donor__isnull=False) | Q(is_pooled=True),
                                   name="pledge_donor_or_pooled"),
            models.CheckConstraint(condition=~Q(status="reserved") | Q(expires_at__isnull=False),
                                   name="pledge_reserved_expires"),
        ]
        indexes = [
            models.Index(fields=["regency", "campaign", "status"], name="pledge_regency_campaign"),
            models.Index(fields=["participant", "status"], name="pledge_participant_status"),
            models.Index(fields=["status", "expires_at"], name="pledge_status_expires"),
            models.Index(fields=["donor", "status"], name="pledge_donor_status"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.status}"

    @property
    def current_month_amount(self) -> int:
        return self.amount - self.arrears_amount - self.months_ahead * self.monthly_tariff

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


def receipt_upload_path(instance: Payment, filename: str) -> str:
    """A random name: nothing of the original file name reaches the disk."""
    suffix = PurePosixPath(filename).suffix.lower()
    return f"receipts/{instance.regency_id}/{uuid.uuid4().hex}{suffix}"


class Payment(TenantModel):
    """A payment the donor (or, for the pooled fund, the regency) says was made into the family VA.
    Verification comes from reconciliation against later imports."""

    pledge = models.ForeignKey(Pledge, on_delete=models.PROTECT, related_name="payments")
    amount = models.BigIntegerField(_("jumlah (Rp)"))
    reference = models.CharField(_("nomor referensi"), max_length=64)
    paid_on = models.DateField(_("tanggal bayar"))
    receipt = models.FileField(_("bukti bayar"), upload_to=receipt_upload_path, max_length=255, blank=True)
    receipt_content_type = models.CharField(max_length=40, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        verbose_name = _("pembayaran")
        verbose_name_plural = _("pembayaran")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["pledge", "reference"], name="payment_reference_unique_per_pledge"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
        ]
        indexes = [models.Index(fields=["regency", "created_at"], name="payment_regency_created")]

    def __str__(self) -> str:
        return f"{self.reference} {self.amount}"


class Gift(TenantModel):
    """Money given to a campaign's pooled fund. Only gifts the regency has received are allocated."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="gifts")
    donor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="gifts")
    amount = models.BigIntegerField(_("jumlah (Rp)"))
    reference = models.CharField(_("nomor referensi"), max_length=64)
    received = models.BooleanField(_("sudah diterima"), default=False)
    received_at = models.DateTimeField(null=True, blank=True)
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        verbose_name = _("sumbangan dana bersama")
        verbose_name_plural = _("sumbangan dana bersama")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "reference"], name="gift_reference_unique_per_campaign"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="gift_amount_positive"),
        ]
        indexes = [models.Index(fields=["regency", "campaign", "received"], name="gift_regency_campaign")]

    def __str__(self) -> str:
        return f"{self.reference} {self.amount}"


class Allocation(TenantModel):
    """Part of a gift assigned to a pooled pledge. The sum per gift never exceeds the gift
    (enforced under the regency lock by `donations.pool.pool_allocate`)."""

    gift = models.ForeignKey(Gift, on_delete=models.PROTECT, related_name="allocations")
    pledge = models.ForeignKey(Pledge, on_delete=models.PROTECT, related_name="allocations")
    amount = models.BigIntegerField(_("jumlah (Rp)"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        verbose_name = _("alokasi dana bersama")
        verbose_name_plural = _("alokasi dana bersama")
        constraints = [
            models.UniqueConstraint(fields=["gift", "pledge"], name="allocation_gift_pledge_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_amount_positive"),
        ]
        indexes = [models.Index(fields=["regency", "gift"], name="allocation_regency_gift")]

    def __str__(self) -> str:
        return f"{self.gift_id}->{self.pledge_id}: {self.amount}"
