"""Tenancy: regencies (tenants), BPJS branches, districts, villages, memberships."""

from __future__ import annotations

import secrets
import zoneinfo

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.tenancy import TenantModel
from regencies.roles import BranchRole, Role

TIMEZONE_CHOICES = [
    ("Asia/Jakarta", "WIB (Asia/Jakarta)"),
    ("Asia/Makassar", "WITA (Asia/Makassar)"),
    ("Asia/Jayapura", "WIT (Asia/Jayapura)"),
]

regency_code_validator = RegexValidator(r"^\d{2}\.\d{2}$", _("Kode wilayah harus berbentuk PP.RR, mis. 73.22."))


# The word before a regency's name is part of its name ("Kabupaten Luwu", never "Regency Luwu").
PROPER_KIND = {"kabupaten": "Kabupaten", "kota": "Kota"}


class Regency(models.Model):
    """A kabupaten or kota: the tenant."""

    class Kind(models.TextChoices):
        KABUPATEN = "kabupaten", _("Kabupaten")
        KOTA = "kota", _("Kota")

    code = models.CharField(_("kode Kemendagri"), max_length=5, validators=[regency_code_validator])
    name = models.CharField(_("nama"), max_length=100)
    kind = models.CharField(_("jenis"), max_length=10, choices=Kind.choices, default=Kind.KABUPATEN)
    slug = models.SlugField(_("slug"), max_length=60)
    timezone = models.CharField(_("zona waktu"), max_length=40, choices=TIMEZONE_CHOICES)
    population = models.PositiveIntegerField(_("jumlah penduduk"), null=True, blank=True)
    jkn_participants = models.PositiveIntegerField(_("jumlah peserta JKN"), null=True, blank=True)
    active_rate_target = models.DecimalField(
        _("target keaktifan (%)"), max_digits=5, decimal_places=2, default=80,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    minimum_wage = models.BigIntegerField(_("UMK (Rp per bulan)"), null=True, blank=True)
    # UU 27/2022: a participant's personal data is anonymised this many years after the last
    # arrears list that named them (and no open pledge): donations.privacy.retention.
    retention_years = models.PositiveSmallIntegerField(
        _("masa simpan data pribadi (tahun)"), default=5,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text=_("Data pribadi peserta dianonimkan sekian tahun setelah daftar tunggakan terakhir "
                    "yang memuatnya, bila tidak ada janji donasi yang masih berjalan."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("kabupaten/kota")
        verbose_name_plural = _("kabupaten/kota")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["code"], name="regency_code_unique"),
            models.UniqueConstraint(fields=["slug"], name="regency_slug_unique"),
            models.CheckConstraint(condition=Q(minimum_wage__gte=0), name="regency_umk_nonneg"),
        ]

    def __str__(self) -> str:
        # "Kabupaten Luwu", "Kota Palopo": part of the proper name, the same in every language.
        return f"{PROPER_KIND[self.kind]} {self.name}"

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def code_digits(self) -> str:
        return self.code.replace(".", "")


class BpjsBranch(models.Model):
    """A BPJS Kesehatan branch office (Kantor Cabang); its area spans several regencies."""

    code = models.SlugField(_("kode"), max_length=40)
    name = models.CharField(_("nama"), max_length=100)
    timezone = models.CharField(_("zona waktu"), max_length=40, choices=TIMEZONE_CHOICES)
    regencies = models.ManyToManyField(Regency, related_name="branches", verbose_name=_("wilayah"))
    # A full list uploaded from the browser or the API that would mark more than this share of
    # the branch's participants as having left the list waits for a BPJS admin's confirmation.
    clear_confirm_percent = models.PositiveSmallIntegerField(
        _("batas peserta keluar tanpa konfirmasi (%)"), default=10,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("Daftar lengkap yang akan mengeluarkan lebih dari persentase ini dari peserta cabang "
                    "(atau melepas janji donasi aktif) menunggu konfirmasi admin BPJS."),
    )

    class Meta:
        verbose_name = _("cabang BPJS Kesehatan")
        verbose_name_plural = _("cabang BPJS Kesehatan")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["code"], name="branch_code_unique")]

    def __str__(self) -> str:
        return self.name


class District(TenantModel):
    """Kecamatan."""

    code = models.CharField(_("kode"), max_length=8, blank=True)
    name = models.CharField(_("nama"), max_length=100)

    class Meta(TenantModel.Meta):
        verbose_name = _("kecamatan")
        verbose_name_plural = _("kecamatan")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["regency", "name"], name="district_regency_name_unique"),
            models.UniqueConstraint(
                fields=["regency", "code"], condition=~Q(code=""), name="district_regency_code_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Village(TenantModel):
    """Desa or kelurahan."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="villages")
    code = models.CharField(_("kode"), max_length=13, blank=True)
    name = models.CharField(_("nama"), max_length=100)

    class Meta(TenantModel.Meta):
        verbose_name = _("desa/kelurahan")
        verbose_name_plural = _("desa/kelurahan")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["district", "name"], name="village_district_name_unique"),
            models.UniqueConstraint(
                fields=["regency", "code"], condition=~Q(code=""), name="village_regency_code_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(TenantModel):
    """A user's role in one regency. A user may hold several roles."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("peran"), max_length=20, choices=Role.choices)
    districts = models.ManyToManyField(District, blank=True, related_name="assessors")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        verbose_name = _("keanggotaan")
        verbose_name_plural = _("keanggotaan")
        constraints = [
            models.UniqueConstraint(fields=["regency", "user", "role"], name="membership_unique"),
        ]
        indexes = [models.Index(fields=["user", "regency"])]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} ({self.regency_id})"


class BranchMembership(models.Model):
    """A user acting for a BPJS branch (uploads its arrears lists)."""

    branch = models.ForeignKey(BpjsBranch, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="branch_memberships")
    role = models.CharField(_("peran"), max_length=20, choices=BranchRole.choices, default=BranchRole.BPJS_ADMIN)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("keanggotaan cabang")
        verbose_name_plural = _("keanggotaan cabang")
        constraints = [models.UniqueConstraint(fields=["branch", "user", "role"], name="branch_membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} — {self.branch}"


def _invitation_token() -> str:
    return secrets.token_urlsafe(32)


class Invitation(TenantModel):
    """A regency admin invites someone by e-mail with a role; the link sets a password."""

    email = models.EmailField(_("e-mail"))
    role = models.CharField(_("peran"), max_length=20, choices=Role.choices)
    token = models.CharField(max_length=64, default=_invitation_token, editable=False)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        verbose_name = _("undangan")
        verbose_name_plural = _("undangan")
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["token"], name="invitation_token_unique")]
        indexes = [models.Index(fields=["regency", "created_at"])]

    def __str__(self) -> str:
        return f"{self.email} ({self.role})"


class ContributionShare(models.Model):
    """The regency's monthly share of the class III contribution, effective-dated (national table).

    Perpres 64/2020: class III Rp42.000 = Rp35.000 paid by the participant + Rp7.000 government
    assistance, of which Rp4.200 central and Rp2.800 regency — paid only for ACTIVE participants.
    The dashboard reads the row in force; edited by the national operator (admin).
    """

    care_class = models.PositiveSmallIntegerField(_("kelas rawat"), default=3)
    regency_amount = models.BigIntegerField(_("bagian pemda per peserta per bulan (Rp)"))
    effective_from = models.DateField(_("berlaku sejak"))
    note = models.CharField(_("dasar hukum/catatan"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("bagian iuran pemda")
        verbose_name_plural = _("bagian iuran pemda")
        ordering = ["care_class", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["care_class", "effective_from"], name="contribution_share_unique"),
            models.CheckConstraint(condition=Q(regency_amount__gte=0), name="contribution_share_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.care_class}: Rp{self.regency_amount} ({self.effective_from})"
