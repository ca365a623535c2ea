"""The audit trail is append-only: in Python and in the database itself."""

import pytest
from django.db import Error, connection, transaction

from core.audit import audit_history, audit_record
from core.models import AuditEvent, AuditImmutable
from regencies.models import District


def test_audit_record_writes_who_where_what_and_the_change(admin_a, regency_a, district_a):
    event = audit_record(
        actor=admin_a, verb="district.rename", obj=district_a,
        before={"name": "Masamba"}, after={"name": "Masamba Kota"},
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.actor == admin_a
    assert stored.regency == regency_a  # taken from the object
    assert stored.verb == "district.rename"
    assert (stored.object_type, stored.object_id) == ("regencies.district", str(district_a.pk))
    assert stored.before == {"name": "Masamba"}
    assert stored.after == {"name": "Masamba Kota"}
    assert stored.created_at is not None


def test_an_anonymous_actor_is_stored_as_nobody(regency_a):
    from django.contrib.auth.models import AnonymousUser

    event = audit_record(actor=AnonymousUser(), verb="x.y", object_type="t", object_id=1, regency=regency_a)
    assert AuditEvent.objects.get(pk=event.pk).actor is None


def test_history_of_one_object_is_in_order(admin_a, district_a):
    first = audit_record(actor=admin_a, verb="district.a", obj=district_a)
    second = audit_record(actor=admin_a, verb="district.b", obj=district_a)
    audit_record(actor=admin_a, verb="other", object_type="regencies.district", object_id=district_a.pk + 1)
    history = audit_history(object_type="regencies.district", object_id=district_a.pk)
    assert list(history) == [first, second]


def test_saving_an_existing_event_again_is_refused(admin_a, district_a):
    event = audit_record(actor=admin_a, verb="district.rename", obj=district_a)
    event.verb = "something.else"
    with pytest.raises(AuditImmutable):
        event.save()
    with pytest.raises(AuditImmutable):
        event.delete()
    assert AuditEvent.objects.get(pk=event.pk).verb == "district.rename"


def _raw(sql, params):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_the_database_refuses_update_and_delete(admin_a, district_a):
    event = audit_record(actor=admin_a, verb="district.rename", obj=district_a)
    with pytest.raises(Error, match="append-only"):
        _raw("UPDATE core_auditevent SET verb = %s WHERE id = %s", ["forged", event.pk])
    with pytest.raises(Error, match="append-only"):
        _raw("DELETE FROM core_auditevent WHERE id = %s", [event.pk])
    # Queryset bulk operations bypass Model.save()/delete(): the trigger still stops them.
    with pytest.raises(Error), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(verb="forged")
    with pytest.raises(Error), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).verb == "district.rename"


def test_an_audit_row_rolls_back_with_the_change_it_describes(admin_a, regency_a):
    with pytest.raises(RuntimeError), transaction.atomic():
        district = District.objects.create(regency=regency_a, name="Seko")
        audit_record(actor=admin_a, verb="district.create", obj=district)
        raise RuntimeError("the service failed after writing")
    assert not AuditEvent.objects.filter(verb="district.create").exists()
    assert not District.objects.for_regency(regency_a).filter(name="Seko").exists()
