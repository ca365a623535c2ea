"""Writes for donors, campaigns and pledges."""

from __future__ import annotations

from donations.models import DonorProfile


def donor_profile_ensure(*, user, display_name: str = "", organisation: str = "") -> DonorProfile:
    profile, _created = DonorProfile.objects.get_or_create(
        user=user, defaults={"display_name": display_name, "organisation": organisation}
    )
    return profile
