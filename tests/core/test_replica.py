"""The read replica (DATABASE_REPLICA_URL, core.db_router): the dashboards and the exports read it,
nothing writes to it, and every other read stays on `default`.

The replica here is a second database on the test server, copied from the test database once the
test's rows are committed, then made read-only as a hot standby is, and changed a little so that a
page shows which of the two it read."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import psycopg2
import pytest
from django.db import connection, connections, transaction
from django.urls import reverse

from core.db_router import REPLICA, ReplicaRouter, replica_reads
from donations.models import Audience, Campaign, CampaignStatus, Kind
from participants.models import Participant
from tests.factories import ParticipantFactory


def _admin_connection() -> psycopg2.extensions.connection:
    db = connection.settings_dict
    admin = psycopg2.connect(dbname="postgres", user=db["USER"], password=db["PASSWORD"], host=db["HOST"],
                             port=db["PORT"] or 5432)
    admin.autocommit = True
    return admin


class Replica:
    def __init__(self) -> None:
        self.name = f"{connection.settings_dict['NAME']}_replica"

    def create(self) -> None:
        """Copy the test database as it is now into the replica (no connection may be open to it)."""
        connections.close_all()
        admin = _admin_connection()
        try:
            with admin.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{self.name}"')
                cur.execute(f'CREATE DATABASE "{self.name}" TEMPLATE "{connection.settings_dict["NAME"]}"')
        finally:
            admin.close()

    def execute(self, sql: str, params: list | None = None) -> None:
        """Change the replica behind the app's back (as the primary's later rows would)."""
        db = connection.settings_dict
        conn = psycopg2.connect(dbname=self.name, user=db["USER"], password=db["PASSWORD"], host=db["HOST"],
                                port=db["PORT"] or 5432)
        try:
            with conn, conn.cursor() as cur:
                cur.execute(sql, params)
        finally:
            conn.close()

    def attach(self) -> None:
        """Read-only, as a hot standby is; the app connects to it on its first marked read."""
        self.execute(f'ALTER DATABASE "{self.name}" SET default_transaction_read_only = on')

    def detach(self) -> None:
        connections[REPLICA].close()
        admin = _admin_connection()
        try:
            with admin.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        finally:
            admin.close()


@pytest.fixture(scope="module", autouse=True)
def _replica_alias(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """DATABASES["replica"] for this module's tests, as DATABASE_REPLICA_URL makes it (the tests'
    `databases` must name it before they start). MIRROR: the test teardown does not flush it."""
    with django_db_blocker.unblock():
        default = connections["default"].settings_dict
    connections.settings[REPLICA] = {**default, "NAME": Replica().name,
                                     "TEST": {**default["TEST"], "MIRROR": "default"}}
    try:
        yield
    finally:
        connections[REPLICA].close()
        del connections[REPLICA]
        del connections.settings[REPLICA]


@pytest.fixture
def replica() -> Iterator[Replica]:
    replica = Replica()
    try:
        yield replica
    finally:
        replica.detach()


@pytest.mark.django_db(transaction=True, databases=["default", REPLICA])
def test_the_dashboard_reads_the_replica(client, replica, regency_a, staff_a):
    Campaign.objects.create(regency=regency_a, slug="asn-peduli", title="ASN Peduli", audience=Audience.PUBLIC,
                            kind=Kind.ONE_TO_ONE, status=CampaignStatus.ACTIVE)
    replica.create()
    replica.execute("UPDATE donations_campaign SET title = 'Kampanye yang hanya ada di replika'")
    replica.attach()
    client.force_login(staff_a)

    response = client.get(reverse("regency_home", kwargs={"regency_slug": regency_a.slug}))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Kampanye yang hanya ada di replika" in html
    assert "ASN Peduli" not in html
    # Everything else still reads default (the campaign list is not a dashboard).
    assert Campaign.objects.for_regency(regency_a).get().title == "ASN Peduli"


@pytest.mark.django_db(transaction=True, databases=["default", REPLICA])
def test_an_export_reads_the_replica_and_its_audit_event_is_written_to_default(
    client, replica, regency_a, assessor_a,
):
    from core.models import AuditEvent

    ParticipantFactory(regency=regency_a, name="NAMA DI PRIMER")
    replica.create()
    replica.execute("UPDATE participants_participant SET name = 'NAMA DI REPLIKA'")
    replica.attach()
    client.force_login(assessor_a)

    response = client.get(reverse("participant_export", kwargs={"regency_slug": regency_a.slug}),
                          {"format": "csv"})

    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert any("NAMA DI REPLIKA" in row for row in rows)
    assert "NAMA DI PRIMER" not in text
    assert AuditEvent.objects.filter(verb="export.participants").count() == 1  # on default
    assert Participant.objects.for_regency(regency_a).get().name == "NAMA DI PRIMER"


@pytest.mark.django_db(transaction=True)
def test_the_router_sends_only_marked_reads_outside_a_transaction_to_the_replica():
    router = ReplicaRouter()

    assert router.db_for_read(Participant) == "default"
    with replica_reads():
        assert router.db_for_read(Participant) == REPLICA
        assert router.db_for_write(Participant) == "default"
        with transaction.atomic():
            assert router.db_for_read(Participant) == "default"
    assert router.db_for_read(Participant) == "default"
    assert router.allow_migrate(REPLICA, "participants") is False
    assert router.allow_migrate("default", "participants") is True


def test_without_a_replica_marked_reads_stay_on_default(monkeypatch):
    router = ReplicaRouter()
    monkeypatch.delitem(connections.settings, REPLICA)

    with replica_reads():
        assert router.db_for_read(Participant) == "default"
