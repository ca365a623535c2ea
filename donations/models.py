"""Campaigns, donors, pledges, payments, pooled gifts and their allocations.

Money is integer rupiah. A pledge's amount is frozen when it is made (arrears
from the latest import + the current month, and optional months ahead, at the
tariff in force). Exactly one active pledge per participant is guaranteed by the
database (`ActivePledge`: one row per participant, kept by triggers on the pledge
table, unique by participant) and by row locks in `donations.services`
(regency -> participant -> pledge).

A `verified` pledge is NOT active: verification means the arrears were
cleared, so the participant leaves the pool by itself (the next import shows no
arrears), and may be helped again years later when a new arrears episode appears.
Until an import newer than the verification shows new arrears, the selectors keep
such a participant out of the pool (see `donations.selectors.available_participants`).
"""

from __future__ import annotations

import secrets
import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.contrib.postgres.indexes import BrinIndex
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.ids import uuid7
from core.tenancy import TenantModel


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


class PaymentRoute(models.TextChoices):
    DIRECT = "direct", _("Langsung ke VA keluarga")
    COLLECTED = "collected", _("Lewat rekening penampung kampanye")


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
    # How donors pay: straight into the family VA (`direct`), or into the campaign's collecting
    # account with the pledge's payment code, the treasurer handing the money over to BPJS
    # (`collected`, as BPJS's own donation programme and ASN campaigns run).
    payment_route = models.CharField(_("cara bayar"), max_length=10, choices=PaymentRoute.choices,
                                     default=PaymentRoute.DIRECT)
    bank_name = models.CharField(_("bank rekening penampung"), max_length=60, blank=True)
    account_number = models.CharField(_("nomor rekening penampung"), max_length=30, blank=True)
    account_holder = models.CharField(_("atas nama rekening"), max_length=120, blank=True)
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

    @property
    def is_collected(self) -> bool:
        return self.payment_route == PaymentRoute.COLLECTED


class PledgeStatus(models.TextChoices):
    RESERVED = "reserved", _("Dipesan")
    PLEDGED = "pledged", _("Dijanjikan")
    PAID = "paid", _("Dibayar")
    VERIFIED = "verified", _("Terverifikasi")
    EXPIRED = "expired", _("Kedaluwarsa")
    CANCELLED = "cancelled", _("Dibatalkan")
    RELEASED = "released", _("Dilepas")
    DISPUTED = "disputed", _("Dipersoalkan")


# Holding the participant: at most one of these per participant (`ActivePledge`).
ACTIVE_STATUSES = (PledgeStatus.RESERVED, PledgeStatus.PLEDGED, PledgeStatus.PAID)
# Counted as covering the participant (progress, families, pooled priority).
COVERING_STATUSES = (*ACTIVE_STATUSES, PledgeStatus.VERIFIED, PledgeStatus.DISPUTED)
# Still to be decided by reconciliation (`UnfinishedPledge`): a disputed payment is checked again.
UNFINISHED_STATUSES = (*ACTIVE_STATUSES, PledgeStatus.DISPUTED)

# from -> allowed to. `released` and `disputed` (and `verified`) are set by reconciliation.
TRANSITIONS: dict[str, frozenset[str]] = {
    PledgeStatus.RESERVED: frozenset({PledgeStatus.PLEDGED, PledgeStatus.EXPIRED, PledgeStatus.CANCELLED,
                                      PledgeStatus.RELEASED}),
    # `expired` from `pledged`: the payment window passed with nothing paid.
    PledgeStatus.PLEDGED: frozenset({PledgeStatus.PAID, PledgeStatus.CANCELLED, PledgeStatus.RELEASED,
                                     PledgeStatus.EXPIRED}),
    PledgeStatus.PAID: frozenset({PledgeStatus.VERIFIED, PledgeStatus.DISPUTED}),
    PledgeStatus.DISPUTED: frozenset({PledgeStatus.VERIFIED}),
    PledgeStatus.VERIFIED: frozenset(),
    PledgeStatus.EXPIRED: frozenset(),
    PledgeStatus.CANCELLED: frozenset(),
    PledgeStatus.RELEASED: frozenset(),
}


PAYMENT_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def new_payment_code() -> str:
    """`SU` + 8 characters (40 bits): what a donor types into a transfer's description."""
    return "SU" + "".join(secrets.choice(PAYMENT_CODE_ALPHABET) for _ in range(8))


class Pledge(TenantModel):
    public_id = models.UUIDField(default=uuid7, editable=False)
    # Indexed through (regency, campaign, created_at, id): a campaign's pledges are read with its regency.
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="pledges", db_index=False)
    participant = models.ForeignKey("participants.Participant", on_delete=models.PROTECT, related_name="pledges",
                                    db_index=False)
    # Null for an allocation of the pooled fund (`is_pooled`): a pledge of the campaign itself.
    # Indexed through (donor, created_at, id) below.
    donor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="pledges", db_index=False)
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
    # The month moves on: the regency's date of the latest quote, and the first day of
    # the last month whose contribution the amount includes (the quote month + months ahead). A
    # pledge confirmed or paid in a later month is re-quoted (`services._requote`): the months now
    # due are added at the tariff in force in each. Null for a pledge made before they were kept.
    quoted_on = models.DateField(_("jumlah dihitung pada"), null=True, blank=True)
    covers_until = models.DateField(_("iuran dibayar sampai bulan"), null=True, blank=True)
    # A REHAB pledge: the remaining instalments it pays (null: an ordinary pledge).
    rehab_instalments = models.PositiveSmallIntegerField(_("sisa cicilan REHAB"), null=True, blank=True)
    # The participant's segment when the pledge was made: reconciliation's `left_segment` rule
    # compares it with the newest list (empty for a pledge made before it was kept here: the
    # rule then reads it from the pledge's list).
    segment = models.CharField(_("segmen"), max_length=4, blank=True, default="")
    family_adoption = models.UUIDField(null=True, blank=True, help_text="Pledges made together by 'adopt the family'.")
    # The participant's district when the pledge was made: set by the database on insert when not
    # given (migration 0015). The dashboard counts the participants covered per district by it
    # (`CoverTally`), so a later move of the participant does not move the pledge's count.
    district = models.ForeignKey("regencies.District", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+", db_index=False, db_constraint=False, editable=False)
    # The code a donor quotes in a transfer's description (collected route) and that a payment
    # provider gets as `order_id`: unique, short, no look-alike characters.
    payment_code = models.CharField(_("kode pembayaran"), max_length=12, default=new_payment_code, editable=False,
                                    db_collation="C")
    # The sum of the pledge's payments, kept by `donations.money.payments` in the transaction that
    # records each one (under the pledge's row lock).
    paid_amount = models.BigIntegerField(_("sudah dibayar (Rp)"), default=0)
    # Lapse notices sent before an unpaid pledge lapses: 0 none, 1 three days before, 2 one day before.
    lapse_notices = models.PositiveSmallIntegerField(default=0)
    # The hand-over batch that passed this pledge's money to BPJS (collected route).
    handover = models.ForeignKey("donations.Handover", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="pledges", db_index=False)
    expires_at = models.DateTimeField(_("batas pemesanan"), null=True, blank=True)
    due_at = models.DateTimeField(_("batas pembayaran"), null=True, blank=True)
    warning_sent_at = models.DateTimeField(null=True, blank=True)
    # The unpaid-pledge reminder (reconciliation): sent once.
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
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
            models.UniqueConstraint(fields=["public_id"], name="pledge_public_id_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="pledge_amount_positive"),
            models.CheckConstraint(condition=Q(arrears_amount__gte=0), name="pledge_arrears_nonneg"),
            models.CheckConstraint(condition=Q(donor__isnull=False) | Q(is_pooled=True),
                                   name="pledge_donor_or_pooled"),
            models.CheckConstraint(condition=~Q(status="reserved") | Q(expires_at__isnull=False),
                                   name="pledge_reserved_expires"),
            models.UniqueConstraint(fields=["payment_code"], name="pledge_payment_code_unique"),
            models.CheckConstraint(condition=Q(paid_amount__gte=0), name="pledge_paid_amount_nonneg"),
        ]
        # No index names a column a change of status writes, so that change is a HOT update (why:
        # bench/README.md, "Why no pledge index names `status`"); the active pledge is `ActivePledge`.
        indexes = [
            # Also the campaign's and the donor's pledge lists, newest first in keyset pages
            # (created_at and id never change, so a change of status stays a HOT update).
            models.Index(fields=["regency", "campaign", "created_at", "id"], name="pledge_campaign_created"),
            models.Index(fields=["participant"], name="pledge_participant"),
            models.Index(fields=["donor", "created_at", "id"], name="pledge_donor_created"),
            models.Index(fields=["handover"], name="pledge_handover", condition=Q(handover__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.status}"

    @property
    def outstanding(self) -> int:
        return max(self.amount - self.paid_amount, 0)

    @property
    def is_paid_in_full(self) -> bool:
        return self.paid_amount >= self.amount

    @property
    def lapses_at(self):
        """When an unpaid, confirmed pledge lapses (the regency's payment window from confirmation)."""
        if self.status == PledgeStatus.PLEDGED and self.paid_amount == 0:
            return self.due_at
        return None

    @property
    def current_month_amount(self) -> int:
        return self.amount - self.arrears_amount - self.months_ahead * self.monthly_tariff - self.requoted_amount

    @property
    def requoted_amount(self) -> int:
        """The contributions added by re-quotes (months that became due after the quote month)."""
        return max(self.amount - self.arrears_amount - (1 + self.months_ahead) * self.monthly_tariff, 0)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class ActivePledge(TenantModel):
    """The pledge holding a participant (reserved, pledged or paid): one row per such pledge.

    Written only by the database: statement triggers on `donations_pledge` (migration 0009) add
    the row when a pledge becomes active and remove it when the pledge leaves those statuses, in
    the statement that changes the pledge. The primary key is the participant (its constraint is
    named `pledge_one_active_per_participant`): a second active pledge for a participant fails
    that statement with an IntegrityError, whoever writes it. The jobs that look at pledges in
    progress (expiry, reminders) start here: it holds only the pledges in progress."""

    participant = models.OneToOneField("participants.Participant", primary_key=True, on_delete=models.DO_NOTHING,
                                       related_name="+")
    pledge = models.OneToOneField(Pledge, on_delete=models.DO_NOTHING, related_name="active")

    class Meta(TenantModel.Meta):
        verbose_name = _("janji aktif")
        verbose_name_plural = _("janji aktif")

    def __str__(self) -> str:
        return f"{self.participant_id} -> {self.pledge_id}"


class UnfinishedPledge(TenantModel):
    """A pledge reconciliation still has to decide (reserved, pledged, paid or disputed): one row
    per such pledge.

    Written only by the database: statement triggers on `donations_pledge` (migration 0017) add the
    row when a pledge enters those statuses and remove it when it leaves them, in the statement
    that changes the pledge, like `ActivePledge` (which a disputed pledge has left: it no longer
    holds its participant). A run starts here instead of reading every pledge the regency ever had
    (no pledge index names `status`, so that a change of status stays a HOT update): at the year's
    twelfth list that read kept about 1 pledge in 10 (bench/README.md, session 20)."""

    pledge = models.OneToOneField(Pledge, primary_key=True, on_delete=models.DO_NOTHING, related_name="+")

    class Meta(TenantModel.Meta):
        verbose_name = _("janji belum selesai")
        verbose_name_plural = _("janji belum selesai")
        indexes = [models.Index(fields=["regency", "pledge"], name="unfinished_pledge_regency")]

    def __str__(self) -> str:
        return str(self.pledge_id)


class PledgeTally(TenantModel):
    """Per campaign and status: how many pledges and their rupiah (`Pledge.amount`).

    Written only by the database: statement triggers on `donations_pledge` (migration 0015) add
    each statement's new rows and subtract its old ones, in that statement, whatever wrote it. The
    dashboards' pledge counts and sums read these few rows instead of every pledge the regency
    ever had; `check_integrity` compares them with the pledges (`donations.tallies`)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+", db_index=False)
    status = models.CharField(max_length=10, choices=PledgeStatus.choices)
    pledges = models.BigIntegerField(default=0)
    rupiah = models.BigIntegerField(default=0)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["regency", "campaign", "status"], name="pledgetally_key"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.status}: {self.pledges}"


class CoverScope(models.TextChoices):
    REGENCY = "r", "regency"
    CAMPAIGN = "c", "campaign"
    DISTRICT = "d", "district"


class CoverTally(TenantModel):
    """Participants a covering pledge (`COVERING_STATUSES`) covers, each counted once: in the
    regency, per campaign and per district (the pledge's `district`; null: none known).

    Written only by the database, like `PledgeTally`: for the participants whose coverage a
    statement changed, the trigger compares what covered them before the statement with what
    covers them after it, so a participant with two covering pledges still counts once."""

    scope = models.CharField(max_length=1, choices=CoverScope.choices)
    campaign = models.ForeignKey(Campaign, null=True, on_delete=models.CASCADE, related_name="+", db_index=False)
    district = models.ForeignKey("regencies.District", null=True, on_delete=models.DO_NOTHING, related_name="+",
                                 db_index=False, db_constraint=False)
    participants = models.BigIntegerField(default=0)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["regency", "scope", "campaign", "district"], name="covertally_key",
                                    nulls_distinct=False),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.campaign_id} {self.district_id}: {self.participants}"


def receipt_upload_path(instance: Payment, filename: str) -> str:
    """A random name: nothing of the original file name reaches the disk."""
    suffix = PurePosixPath(filename).suffix.lower()
    return f"receipts/{instance.regency_id}/{uuid.uuid4().hex}{suffix}"


class PaymentSource(models.TextChoices):
    DONOR = "donor", _("Dilaporkan donatur")
    BANK_STATEMENT = "bank_statement", _("Mutasi rekening")
    PROVIDER = "provider", _("Gerbang pembayaran")
    STAFF = "staff", _("Dicatat petugas")


class Payment(TenantModel):
    """Money paid for a pledge: reported by the donor or staff, read from the collecting account's
    statement, or notified by a payment provider. Each has a numbered receipt and a ledger row.
    Verification that it reached BPJS comes from reconciliation against later imports."""

    pledge = models.ForeignKey(Pledge, on_delete=models.PROTECT, related_name="payments")
    amount = models.BigIntegerField(_("jumlah (Rp)"))
    reference = models.CharField(_("nomor referensi"), max_length=64)
    paid_on = models.DateField(_("tanggal bayar"))
    source = models.CharField(_("sumber"), max_length=16, choices=PaymentSource.choices,
                              default=PaymentSource.DONOR)
    # Receipt (kuitansi) number: per regency and year, without gaps (`donations.money.receipts`).
    receipt_number = models.CharField(_("nomor kuitansi"), max_length=40)
    receipt = models.FileField(_("bukti bayar"), upload_to=receipt_upload_path, max_length=255, blank=True)
    receipt_content_type = models.CharField(max_length=40, blank=True)
    # Null for payments no person recorded (a statement line, a provider notification).
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        verbose_name = _("pembayaran")
        verbose_name_plural = _("pembayaran")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["pledge", "reference"], name="payment_reference_unique_per_pledge"),
            models.UniqueConstraint(fields=["regency", "receipt_number"], name="payment_receipt_number_unique"),
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


# --- reconciliation (donations.reconciliation) ---------------------------------------------------


class ReconciliationSettings(TenantModel):
    """Per-regency knobs of reconciliation; a regency without a row uses the defaults."""

    grace_days = models.PositiveSmallIntegerField(
        _("masa tenggang (hari)"), default=30,
        help_text=_("Setelah sekian hari sejak pembayaran, impor yang masih menunjukkan tunggakan "
                    "membuat janji dipersoalkan."),
    )
    reminder_days = models.PositiveSmallIntegerField(
        _("pengingat janji belum dibayar (hari)"), default=7,
        help_text=_("Donatur diingatkan bila janjinya belum dibayar lebih dari sekian hari."),
    )
    payment_window_days = models.PositiveSmallIntegerField(
        _("batas pembayaran (hari)"), default=14,
        help_text=_("Janji yang sudah dikonfirmasi tetapi belum dibayar sama sekali gugur setelah sekian hari."),
    )
    reservations_per_day = models.PositiveSmallIntegerField(
        _("pemesanan per donatur per hari"), default=5,
        help_text=_("Pemesanan yang belum dikonfirmasi dibatasi sekian per donatur per hari."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(TenantModel.Meta):
        verbose_name = _("pengaturan rekonsiliasi")
        verbose_name_plural = _("pengaturan rekonsiliasi")
        constraints = [
            models.UniqueConstraint(fields=["regency"], name="reconciliation_settings_one_per_regency"),
            models.CheckConstraint(condition=Q(grace_days__gte=1) & Q(grace_days__lte=365),
                                   name="reconciliation_grace_range"),
            models.CheckConstraint(condition=Q(reminder_days__gte=1) & Q(reminder_days__lte=90),
                                   name="reconciliation_reminder_range"),
            models.CheckConstraint(condition=Q(payment_window_days__gte=3) & Q(payment_window_days__lte=90),
                                   name="reconciliation_payment_window_range"),
            models.CheckConstraint(condition=Q(reservations_per_day__gte=1) & Q(reservations_per_day__lte=100),
                                   name="reconciliation_reservations_per_day_range"),
        ]

    def __str__(self) -> str:
        return f"{self.regency_id}: {self.grace_days}/{self.reminder_days}"


class ReconciliationTrigger(models.TextChoices):
    IMPORT = "import", _("Setelah impor")
    NIGHTLY = "nightly", _("Terjadwal (malam)")
    MANUAL = "manual", _("Dijalankan manual")
    ASSESSMENT = "assessment", _("Setelah penilaian (rujukan pemutihan)")


class ReconciliationRun(TenantModel):
    """One run over one regency that changed something (a run that changes nothing is not stored)."""

    trigger = models.CharField(_("pemicu"), max_length=10, choices=ReconciliationTrigger.choices)
    arrears_import = models.ForeignKey("participants.ArrearsImport", null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="+",
                                       help_text="The newest applied import of the regency when the run started.")
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    verified = models.PositiveIntegerField(default=0)
    disputed = models.PositiveIntegerField(default=0)
    released_cleared_by_other = models.PositiveIntegerField(default=0)
    released_left_segment = models.PositiveIntegerField(default=0)
    released_written_off = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    anomalies = models.PositiveIntegerField(default=0)

    class Meta(TenantModel.Meta):
        verbose_name = _("rekonsiliasi")
        verbose_name_plural = _("rekonsiliasi")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["regency", "started_at"], name="recon_run_regency_started")]

    def __str__(self) -> str:
        return f"{self.regency_id} {self.started_at:%Y-%m-%d %H:%M}"


class Outcome(models.TextChoices):
    VERIFIED = "verified", _("Terverifikasi")
    DISPUTED = "disputed", _("Dipersoalkan")
    RELEASED_CLEARED = "released_cleared_by_other", _("Dilepas: tunggakan dilunasi pihak lain")
    RELEASED_SEGMENT = "released_left_segment", _("Dilepas: keluar dari segmen PBPU/BP")
    RELEASED_WRITTEN_OFF = "released_written_off", _("Dilepas: tunggakan dihapus (pemutihan)")


class ReleaseReason(models.TextChoices):
    CLEARED_BY_OTHER = "cleared_by_other", _("Tunggakan sudah lunas oleh pihak lain atau peserta keluar dari daftar")
    LEFT_SEGMENT = "left_segment", _("Peserta pindah segmen (keluar dari daftar PBPU/BP)")
    WRITTEN_OFF = "written_off", _("Tunggakan peserta dihapus negara (pemutihan) sebelum dibayar")


class ReconciliationOutcome(TenantModel):
    """One decision that changed a pledge, with the import that caused it (so a report can say why).

    This ledger is the audit trail of the pledge changes reconciliation makes: who (the run: its
    trigger, and `started_by` when a person started it; the run itself has an audit event), when
    (`created_at`), from what and to what (`from_status`, `to_status`, with the reason and the
    evidence). Like `core.AuditEvent` it is append-only: the database refuses to change or remove
    a row (migration 0007). A pledge's history (`selectors.pledge_history`, the API's `history`)
    reads its audit events and these rows together.

    Written only by the set-based SQL of `donations.reconciliation.rules`, which takes every id
    from existing rows in the same transaction: like the import's bulk tables (participants.models
    .Family), the foreign keys are not DB constraints, since a deferred RI trigger per row and key
    doubled the time of a 200k-pledge run (bench/README.md); PROTECT still holds in Django."""

    regency = models.ForeignKey("regencies.Regency", on_delete=models.PROTECT, related_name="+", db_index=False,
                                db_constraint=False)
    # Indexed by a BRIN below: a run's outcomes are written together, in one statement.
    run = models.ForeignKey(ReconciliationRun, on_delete=models.PROTECT, related_name="outcomes",
                            db_index=False, db_constraint=False)
    pledge = models.ForeignKey(Pledge, on_delete=models.PROTECT, related_name="reconciliation_outcomes",
                               db_index=False, db_constraint=False)
    outcome = models.CharField(_("hasil"), max_length=30, choices=Outcome.choices)
    from_status = models.CharField(max_length=10, choices=PledgeStatus.choices)
    to_status = models.CharField(max_length=10, choices=PledgeStatus.choices)
    reason = models.CharField(_("alasan"), max_length=200, blank=True)
    arrears_import = models.ForeignKey("participants.ArrearsImport", null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="+", db_index=False,
                                       db_constraint=False)
    evidence_as_of = models.DateField(_("data per tanggal"), null=True, blank=True)
    evidence_arrears = models.BigIntegerField(_("tunggakan menurut impor (Rp)"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        verbose_name = _("hasil rekonsiliasi")
        verbose_name_plural = _("hasil rekonsiliasi")
        ordering = ["-created_at", "-id"]
        # Read by pledge (its history) and by run (e-mails after a run: the rows of a run lie
        # together, so a BRIN of a few pages finds them). The regency's pages and export read all
        # of its rows, which a scan of the table serves as well as an index on regency would.
        indexes = [
            models.Index(fields=["pledge"], name="recon_outcome_pledge"),
            BrinIndex(fields=["run"], name="recon_outcome_run_brin"),
        ]

    def __str__(self) -> str:
        return f"{self.pledge_id}: {self.from_status}->{self.to_status}"


class AnomalyKind(models.TextChoices):
    DISPUTED_PAYMENT = "disputed_payment", _("Pembayaran dipersoalkan")
    IMPORT_CONTRADICTS = "import_contradicts_payment", _("Impor bertentangan dengan pembayaran")
    FAMILY_PARTLY_VERIFIED = "family_partly_verified", _("Keluarga baru sebagian terverifikasi")
    OVERPAYMENT = "overpayment", _("Pembayaran melebihi jumlah janji")
    PARTLY_PAID_OVERDUE = "partly_paid_overdue", _("Baru dibayar sebagian setelah batas pembayaran")
    PAYMENT_ON_CLOSED_PLEDGE = "payment_on_closed_pledge", _("Uang masuk untuk janji yang sudah ditutup")


class AnomalyStatus(models.TextChoices):
    OPEN = "open", _("Terbuka")
    RESOLVED = "resolved", _("Selesai")


class Anomaly(TenantModel):
    """Something reconciliation cannot decide alone: staff look at it and resolve it with a note."""

    kind = models.CharField(_("jenis"), max_length=30, choices=AnomalyKind.choices)
    status = models.CharField(_("status"), max_length=10, choices=AnomalyStatus.choices, default=AnomalyStatus.OPEN)
    # Written in bulk by reconciliation's SQL: no DB constraints on these keys (see ReconciliationOutcome),
    # and no index of their own: pages read anomalies by regency and status; the pledge is indexed
    # through the unique (pledge, kind) and the open family through the unique open (family, kind).
    regency = models.ForeignKey("regencies.Regency", on_delete=models.PROTECT, related_name="+", db_index=False,
                                db_constraint=False)
    pledge = models.ForeignKey(Pledge, null=True, blank=True, on_delete=models.PROTECT, related_name="anomalies",
                               db_index=False, db_constraint=False)
    family = models.ForeignKey("participants.Family", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+", db_index=False, db_constraint=False)
    run = models.ForeignKey(ReconciliationRun, null=True, blank=True, on_delete=models.PROTECT,
                            related_name="anomaly_rows", db_index=False, db_constraint=False)
    arrears_import = models.ForeignKey("participants.ArrearsImport", null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="+", db_index=False,
                                       db_constraint=False)
    detail = models.CharField(_("keterangan"), max_length=300, blank=True)
    note = models.TextField(_("catatan penyelesaian"), blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    # Indexed only where set (below): reconciliation writes every anomaly without it.
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", db_index=False)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        verbose_name = _("anomali rekonsiliasi")
        verbose_name_plural = _("anomali rekonsiliasi")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["pledge", "kind"], condition=Q(pledge__isnull=False),
                                    name="anomaly_pledge_kind_unique"),
            # A family's own anomaly (no pledge); a pledge's anomaly also names its family, and two
            # pledges of one family may each have one.
            models.UniqueConstraint(fields=["family", "kind"],
                                    condition=Q(status="open", family__isnull=False, pledge__isnull=True),
                                    name="anomaly_family_kind_open_unique"),
            models.CheckConstraint(condition=Q(pledge__isnull=False) | Q(family__isnull=False),
                                   name="anomaly_pledge_or_family"),
        ]
        indexes = [
            models.Index(fields=["regency", "status", "created_at"], name="anomaly_regency_status"),
            models.Index(fields=["resolved_by"], name="anomaly_resolved_by", condition=Q(resolved_by__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.status}"



# --- money: receipts, ledger, bank statements, provider notifications, hand-overs ----------------


class ReceiptCounter(TenantModel):
    """The last receipt number given in a regency and year; its row lock makes numbers gapless."""

    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta(TenantModel.Meta):
        constraints = [models.UniqueConstraint(fields=["regency", "year"], name="receipt_counter_unique")]

    def __str__(self) -> str:
        return f"{self.regency_id}/{self.year}: {self.last}"


class LedgerKind(models.TextChoices):
    RECEIVED = "received", _("Diterima")
    HANDED_OVER = "handed_over", _("Diserahkan ke BPJS")
    REFUNDED = "refunded", _("Dikembalikan")


class LedgerSource(models.TextChoices):
    DONOR = "donor", _("Dilaporkan donatur")
    BANK_STATEMENT = "bank_statement", _("Mutasi rekening")
    PROVIDER = "provider", _("Gerbang pembayaran")
    STAFF = "staff", _("Dicatat petugas")
    DIRECT_VA = "direct_va", _("Langsung ke VA keluarga")
    HANDOVER = "handover", _("Penyerahan ke BPJS")
    REFUND = "refund", _("Pengembalian")


class LedgerEntry(TenantModel):
    """One movement of money of a campaign: every rupiah received (a payment, an unmatched
    statement line) and every rupiah handed over to BPJS or refunded. Append-only (migration).
    Per campaign: received = handed over + waiting + refunded, where waiting is what remains."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="+", db_index=False)
    kind = models.CharField(max_length=12, choices=LedgerKind.choices)
    source = models.CharField(max_length=16, choices=LedgerSource.choices)
    amount = models.BigIntegerField()
    pledge = models.ForeignKey(Pledge, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                               db_index=False)
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                db_index=False)
    statement_line = models.ForeignKey("donations.StatementLine", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+", db_index=False)
    handover = models.ForeignKey("donations.Handover", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+", db_index=False)
    # The received row a hand-over or refund row pays out (unmatched money refunded, say).
    settles = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                db_index=False)
    note = models.CharField(max_length=200, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+", db_index=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        verbose_name = _("buku kas")
        verbose_name_plural = _("buku kas")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="ledger_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["regency", "campaign", "kind"], name="ledger_regency_campaign_kind"),
            models.Index(fields=["payment"], name="ledger_payment", condition=Q(payment__isnull=False)),
            models.Index(fields=["settles"], name="ledger_settles", condition=Q(settles__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"


class StatementStatus(models.TextChoices):
    QUEUED = "queued", _("Menunggu")
    PROCESSING = "processing", _("Diproses")
    DONE = "done", _("Selesai")
    REJECTED = "rejected", _("Ditolak")


def statement_upload_path(instance: BankStatement, filename: str) -> str:
    suffix = PurePosixPath(filename).suffix.lower()
    return f"statements/{instance.regency_id}/{uuid.uuid4().hex}{suffix}"


class BankStatement(TenantModel):
    """One uploaded account statement (mutasi rekening) of a campaign's collecting account."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="statements")
    file = models.FileField(upload_to=statement_upload_path, max_length=255)
    original_name = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=12, choices=StatementStatus.choices, default=StatementStatus.QUEUED)
    lines = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)
    unmatched = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    amount_matched = models.BigIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        verbose_name = _("mutasi rekening")
        verbose_name_plural = _("mutasi rekening")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["regency", "campaign", "created_at"], name="statement_regency_campaign")]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.status})"


class LineOutcome(models.TextChoices):
    MATCHED = "matched", _("Cocok")
    UNMATCHED = "unmatched", _("Tidak cocok")
    DUPLICATE = "duplicate", _("Sudah tercatat")
    OVERPAID = "overpaid", _("Cocok, melebihi jumlah")
    CLOSED_PLEDGE = "closed_pledge", _("Janji sudah ditutup")


class StatementLine(TenantModel):
    """A credit line of a statement. The same line (date + reference + amount) is kept once per
    regency: a later file that repeats it records it as a duplicate of nothing (not stored)."""

    statement = models.ForeignKey(BankStatement, on_delete=models.PROTECT, related_name="line_rows", db_index=False)
    row = models.PositiveIntegerField()
    line_date = models.DateField()
    description = models.CharField(max_length=500, blank=True)
    amount = models.BigIntegerField()
    reference = models.CharField(max_length=64)
    outcome = models.CharField(max_length=14, choices=LineOutcome.choices)
    pledge = models.ForeignKey(Pledge, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                               db_index=False)
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                db_index=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        verbose_name = _("baris mutasi")
        verbose_name_plural = _("baris mutasi")
        ordering = ["statement", "row"]
        constraints = [
            models.UniqueConstraint(fields=["regency", "line_date", "reference", "amount"],
                                    name="statement_line_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="statement_line_amount_positive"),
        ]
        indexes = [models.Index(fields=["statement", "row"], name="statement_line_statement")]

    def __str__(self) -> str:
        return f"{self.line_date} {self.reference} {self.amount}"


class ProviderNotification(models.Model):
    """A payment provider's notification, kept once per (provider, transaction id). Not a tenant
    row until matched: an unknown order has no regency (the national operator sees it)."""

    provider = models.CharField(max_length=20)
    transaction_id = models.CharField(max_length=100)
    order_id = models.CharField(max_length=100)
    transaction_status = models.CharField(max_length=20)
    gross_amount = models.BigIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=20)
    regency = models.ForeignKey("regencies.Regency", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+", db_index=False)
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                db_index=False)
    body = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("notifikasi pembayaran")
        verbose_name_plural = _("notifikasi pembayaran")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "transaction_id"], name="provider_notification_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.transaction_id} {self.outcome}"


class HandoverStatus(models.TextChoices):
    DRAFT = "draft", _("Disiapkan")
    TRANSFERRED = "transferred", _("Sudah ditransfer")


class Handover(TenantModel):
    """A hand-over batch to BPJS: one line per family VA, the family's paid pledges in it."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="handovers")
    number = models.CharField(_("nomor"), max_length=40)
    status = models.CharField(max_length=12, choices=HandoverStatus.choices, default=HandoverStatus.DRAFT)
    families = models.PositiveIntegerField(default=0)
    total = models.BigIntegerField(default=0)
    reference = models.CharField(_("referensi transfer"), max_length=64, blank=True)
    transferred_at = models.DateField(_("tanggal transfer"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        verbose_name = _("penyerahan ke BPJS")
        verbose_name_plural = _("penyerahan ke BPJS")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["regency", "number"], name="handover_number_unique")]
        indexes = [models.Index(fields=["regency", "campaign"], name="handover_regency_campaign")]

    def __str__(self) -> str:
        return self.number


class HandoverLine(TenantModel):
    handover = models.ForeignKey(Handover, on_delete=models.PROTECT, related_name="lines")
    family = models.ForeignKey("participants.Family", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+", db_index=False, db_constraint=False)
    va_number = models.CharField(max_length=16)
    members = models.PositiveSmallIntegerField(default=1)
    amount = models.BigIntegerField()

    class Meta(TenantModel.Meta):
        ordering = ["handover", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="handover_line_amount_positive")]

    def __str__(self) -> str:
        return f"{self.va_number} {self.amount}"
