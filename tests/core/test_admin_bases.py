"""The admin's two shared bases: read-only rows (audit trail, outbox, tokens, imports, pledges,
payments, the ledger...) and national reference data (tariffs, write-off programmes)."""

from __future__ import annotations

import pytest
from django.contrib import admin

from core.admin import NationalDataAdmin, ReadOnlyAdmin
from tests.factories import UserFactory

READ_ONLY = [
    "core.auditevent", "core.outboxmessage", "accounts.apitoken", "participants.arrearsimport",
    "donations.pledge", "donations.payment", "donations.gift", "donations.allocation",
    "donations.providernotification", "donations.handover", "donations.ledgerentry",
]
NATIONAL = ["donations.tariff", "assessments.writeoffprogramme"]


def _admin_of(label: str) -> admin.ModelAdmin:
    return next(a for m, a in admin.site._registry.items() if m._meta.label_lower == label)


def _request(rf, **user):
    request = rf.get("/admin/")
    request.user = UserFactory.build(**{"is_staff": True, "is_superuser": True, "is_active": True, **user})
    return request


@pytest.mark.parametrize("label", READ_ONLY)
def test_read_only_rows_are_never_added_changed_or_deleted_in_the_admin(rf, label):
    model_admin = _admin_of(label)
    assert isinstance(model_admin, ReadOnlyAdmin)
    request = _request(rf)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, None)
    assert not model_admin.has_delete_permission(request, None)


@pytest.mark.parametrize("label", NATIONAL)
def test_national_data_is_the_operators_alone_and_never_deleted(rf, label):
    model_admin = _admin_of(label)
    assert isinstance(model_admin, NationalDataAdmin)
    request = _request(rf)
    assert model_admin.has_module_permission(request) and model_admin.has_view_permission(request)
    assert model_admin.has_add_permission(request) and model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    request = _request(rf, is_superuser=False)
    assert not model_admin.has_module_permission(request)
    assert not model_admin.has_view_permission(request) and not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_change_permission(_request(rf, is_active=False))
