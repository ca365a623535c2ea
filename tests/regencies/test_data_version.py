"""The version of a regency's data (`regencies.versions`): moved by the database when a write to
a watched table commits, and the list pages kept under it show a change once it commits.

These tests commit (`transaction=True`): the version moves at commit, and inside a transaction
nothing is kept."""

import threading
import time

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from participants.models import Participant
from regencies.versions import WATCHED_TABLES, data_version, fresh, kept
from tests.factories import ParticipantFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_every_watched_table_moves_the_version_on_insert_update_and_delete():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname LIKE %s GROUP BY 1", ["%_data_changed_%"])
        found = dict(cursor.fetchall())
    assert found == dict.fromkeys(WATCHED_TABLES, 3)


def test_a_committed_write_moves_its_regencys_version_and_a_rolled_back_one_does_not(regency_a, regency_b):
    p = ParticipantFactory(regency=regency_a)
    ParticipantFactory(regency=regency_b)
    a, b = data_version(regency_a.pk), data_version(regency_b.pk)

    Participant.objects.for_regency(regency_a).filter(pk=p.pk).update(name="NAMA BARU")
    assert (data_version(regency_a.pk), data_version(regency_b.pk)) == (a + 1, b)

    with pytest.raises(RuntimeError), transaction.atomic():
        Participant.objects.for_regency(regency_a).filter(pk=p.pk).update(name="TIDAK JADI")
        raise RuntimeError
    assert data_version(regency_a.pk) == a + 1

    # One transaction, several statements, a row moved to another regency: each regency once.
    with transaction.atomic():
        Participant.objects.for_regency(regency_a).filter(pk=p.pk).update(months_in_arrears=7)
        with connection.cursor() as cursor:
            cursor.execute("UPDATE participants_participant SET regency_id = %s WHERE id = %s", [regency_b.pk, p.pk])
        assert data_version(regency_a.pk) == a + 1  # not before the commit
    assert (data_version(regency_a.pk), data_version(regency_b.pk)) == (a + 2, b + 1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM regencies_datachange")
        assert cursor.fetchone()[0] == 0  # the notes go with the commit


def test_kept_builds_again_after_a_change_and_always_inside_a_transaction(regency_a):
    calls = []

    def build():
        calls.append(1)
        return len(calls)

    assert kept(regency_a.pk, "t", ("x",), build) == 1
    assert kept(regency_a.pk, "t", ("x",), build) == 1  # kept
    assert kept(regency_a.pk, "t", ("y",), build) == 2  # another key
    ParticipantFactory(regency=regency_a)
    assert kept(regency_a.pk, "t", ("x",), build) == 3  # the regency's data changed
    with transaction.atomic():
        assert kept(regency_a.pk, "t", ("x",), build) == 4
        assert kept(regency_a.pk, "t", ("x",), build) == 5
    with fresh():  # built every time, nothing kept
        assert kept(regency_a.pk, "t", ("z",), build) == 6
        assert kept(regency_a.pk, "t", ("z",), build) == 7
    assert kept(regency_a.pk, "t", ("z",), build) == 8
    assert kept(regency_a.pk, "t", ("x",), build) == 3


def test_the_participant_list_shows_a_rename_as_soon_as_it_commits(client, regency_a, admin_a):
    p = ParticipantFactory(regency=regency_a, name="ANDI SULAIMAN", months_in_arrears=5)
    url = reverse("participant_list", kwargs={"regency_slug": regency_a.slug})
    client.force_login(admin_a)
    assert "ANDI SULAIMAN" in client.get(url).content.decode()
    with CaptureQueriesContext(connection) as kept_page:
        assert "ANDI SULAIMAN" in client.get(url).content.decode()
    assert not any("participants_participant" in q["sql"] for q in kept_page.captured_queries)

    Participant.objects.for_regency(regency_a).filter(pk=p.pk).update(name="ANDI SULAIMAN PUTRA")
    assert "ANDI SULAIMAN PUTRA" in client.get(url).content.decode()


def test_the_api_list_shows_a_new_participant_as_soon_as_it_commits(regency_a, admin_a):
    from tests.factories import api_client_for

    api = api_client_for(admin_a)
    url = f"/api/v1/regencies/{regency_a.slug}/participants/"
    ParticipantFactory(regency=regency_a, months_in_arrears=3)
    assert api.get(url).json()["count"] == 1
    assert api.get(url).json()["count"] == 1
    ParticipantFactory(regency=regency_a, months_in_arrears=4)
    assert api.get(url).json()["count"] == 2
    assert api.get(url, {"status": "nonsense"}).status_code == 400  # checked before anything kept


def test_the_version_is_locked_at_commit_so_writers_of_one_regency_do_not_deadlock(regency_a):
    """Main writes a participant (noting the regency), then waits for a row the other
    transaction holds. Had the note taken the version's row lock at once, the other's write
    would wait for main and main for the other: a deadlock. Taken at commit, both commit."""
    first, second = ParticipantFactory(regency=regency_a), ParticipantFactory(regency=regency_a)
    before = data_version(regency_a.pk)
    main_wrote, other_wrote = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def other() -> None:
        from django.db import connections

        try:
            assert main_wrote.wait(10)
            with transaction.atomic():
                Participant.objects.for_regency(regency_a).filter(pk=second.pk).update(months_in_arrears=9)
                other_wrote.set()
                time.sleep(0.5)  # main is now waiting for `second`
        except BaseException as exc:
            errors.append(exc)
        finally:
            other_wrote.set()
            connections.close_all()

    thread = threading.Thread(target=other)
    thread.start()
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '10s'")
            Participant.objects.for_regency(regency_a).filter(pk=first.pk).update(months_in_arrears=8)
            main_wrote.set()
            assert other_wrote.wait(10)
            Participant.objects.for_regency(regency_a).filter(pk=second.pk).update(months_in_arrears=8)
    finally:
        thread.join(15)
    assert errors == []
    assert data_version(regency_a.pk) == before + 2
    assert Participant.objects.for_regency(regency_a).get(pk=second.pk).months_in_arrears == 8


def test_the_dashboard_shows_a_new_member_and_the_participant_link_by_permission(
        client, regency_a, admin_a, staff_a):
    from regencies.models import Membership
    from regencies.roles import Role
    from tests.factories import member

    url = reverse("regency_home", kwargs={"regency_slug": regency_a.slug})
    list_url = reverse("participant_list", kwargs={"regency_slug": regency_a.slug})
    client.force_login(admin_a)
    assessors = Membership.objects.for_regency(regency_a).filter(role=Role.ASSESSOR, is_active=True).count()
    row = '<tr><td>{}</td><td class="num">{}</td></tr>'.format
    first = client.get(url).content.decode()
    assert f"{list_url}?status=inactive" in first and row(Role.ASSESSOR.label, assessors) in first
    assert row(Role.ASSESSOR.label, assessors) in client.get(url).content.decode()  # kept
    member(regency_a, Role.ASSESSOR, email="asesor.baru@example.test")
    assert row(Role.ASSESSOR.label, assessors + 1) in client.get(url).content.decode()  # moved with the commit
    client.force_login(staff_a)  # the same version, a reader who may not open the list
    assert f'{list_url}?status=inactive' not in client.get(url).content.decode()


def test_a_kept_participant_list_shows_the_full_nik_export_only_to_who_may_reveal(client, regency_a, admin_a,
                                                                                 bpjs_a):
    ParticipantFactory(regency=regency_a, months_in_arrears=2)
    url = reverse("participant_list", kwargs={"regency_slug": regency_a.slug})
    client.force_login(admin_a)
    assert "nik=full" in client.get(url).content.decode()
    client.force_login(bpjs_a)  # the same address and version, a reader who may not reveal a NIK
    page = client.get(url)
    assert page.status_code == 200 and "nik=full" not in page.content.decode()
    client.force_login(admin_a)
    assert "nik=full" in client.get(url).content.decode()
