"""Summary tables: each regency's figures (`reporting.figures`) kept current by the jobs that
change them, so that the dashboards read a few rows instead of scanning the regency.

Written only by `reporting.summaries` (inside the import's, screening's and reconciliation's
transactions, after an approval, nightly, and by `manage.py refresh_summaries`); read by the
regency, branch and national dashboards. `check_integrity` proves they match the live figures.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.tenancy import TenantModel


class RegencySummary(TenantModel):
    """One row per regency: the figures of `reporting.figures` as of `computed_on`."""

    # Eligibility is "an approval still valid on a day": the day the figures were computed for.
    computed_on = models.DateField()
    refreshed_at = models.DateTimeField()
    participants = models.PositiveIntegerField(default=0)
    in_arrears = models.PositiveIntegerField(default=0)
    families_in_arrears = models.PositiveIntegerField(default=0)
    arrears_total = models.BigIntegerField(default=0)
    cleared = models.PositiveIntegerField(default=0)
    reactivated = models.PositiveIntegerField(default=0)
    reactivated_by_donors = models.PositiveIntegerField(default=0)
    reactivated_class3_by_donors = models.PositiveIntegerField(default=0)
    families_reactivated = models.PositiveIntegerField(default=0)
    written_off = models.PositiveIntegerField(default=0)
    moved_to_pbi = models.PositiveIntegerField(default=0)
    screened = models.PositiveIntegerField(default=0)
    eligible = models.PositiveIntegerField(default=0)
    last_list_as_of = models.DateField(null=True, blank=True)
    last_list_applied_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        verbose_name = _("ringkasan kabupaten/kota")
        verbose_name_plural = _("ringkasan kabupaten/kota")
        constraints = [models.UniqueConstraint(fields=["regency"], name="regency_summary_unique")]

    def __str__(self) -> str:
        return f"{self.regency_id} {self.computed_on}"


class DistrictSummary(TenantModel):
    """One row per district of a regency (and one for participants without a district)."""

    district = models.ForeignKey(
        "regencies.District", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        db_constraint=False,
    )
    name = models.CharField(max_length=150, blank=True)
    in_arrears = models.PositiveIntegerField(default=0)
    eligible = models.PositiveIntegerField(default=0)
    reactivated = models.PositiveIntegerField(default=0)
    arrears_total = models.BigIntegerField(default=0)

    class Meta(TenantModel.Meta):
        verbose_name = _("ringkasan kecamatan")
        verbose_name_plural = _("ringkasan kecamatan")
        indexes = [models.Index(fields=["regency", "name"], name="district_summary_regency")]

    def __str__(self) -> str:
        return f"{self.regency_id} {self.name}"


class TrendPoint(TenantModel):
    """One point of the regency's trend per list month: the newest FULL list of the branch in
    that month (partial and outdated lists are no point: they do not say who is in arrears)."""

    list_month = models.DateField()  # the first day of the month
    arrears_import = models.ForeignKey(
        "participants.ArrearsImport", on_delete=models.CASCADE, related_name="+", db_constraint=False,
    )
    as_of = models.DateField()
    listed = models.PositiveIntegerField(default=0)
    in_arrears = models.PositiveIntegerField(default=0)
    arrears_total = models.BigIntegerField(default=0)

    class Meta(TenantModel.Meta):
        verbose_name = _("titik tren")
        verbose_name_plural = _("titik tren")
        constraints = [
            models.UniqueConstraint(fields=["regency", "list_month"], name="trend_point_regency_month"),
        ]

    def __str__(self) -> str:
        return f"{self.regency_id} {self.list_month}"
