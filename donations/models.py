"""Campaigns, donors, pledges and payments (issue: campaigns and pledges).

For now: the donor profile that every community donor has from sign-up on.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


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
