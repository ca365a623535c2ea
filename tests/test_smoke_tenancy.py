import pytest

from participants.models import Participant
from regencies.models import District
from regencies.tenancy import TenantScopeRequired


def test_default_manager_refuses_a_query_without_regency(db):
    with pytest.raises(TenantScopeRequired):
        list(Participant.objects.all())
    with pytest.raises(TenantScopeRequired):
        District.objects.filter(name="Masamba")
    with pytest.raises(TenantScopeRequired):
        District.objects.create(name="Masamba")


def test_for_regency_scopes(district_a, district_b, regency_a, regency_b):
    assert list(District.objects.for_regency(regency_a)) == [district_a]
    assert list(District.objects.for_regency(regency_b)) == [district_b]
    with pytest.raises(TenantScopeRequired):
        District.objects.for_regency(None)
