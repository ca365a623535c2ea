"""Fixtures for two regencies of two branches: A (Luwu Utara, KC Palopo) and B (Lombok Timur, KC Selong)."""

import datetime as dt
from typing import Any

import pytest

from regencies.roles import Role
from tests.factories import (
    PASSWORD,
    BranchFactory,
    DistrictFactory,
    RegencyFactory,
    VillageFactory,
    branch_admin,
    member,
)


@pytest.fixture(autouse=True)
def _empty_cache():
    """The cache (locmem in tests, one per process) holds DRF throttle counts among other
    things: every test starts from an empty one, so the order of tests never matters."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True, scope="session")
def _flush_past_append_only_triggers():
    """The append-only tables (core.append_only) refuse TRUNCATE, and the flush between
    transactional tests is a TRUNCATE. The flush runs with `session_replication_role = replica`,
    under which no trigger fires: only a superuser (the test runner's role) may set it, the
    application's database role may not (tests/core/test_append_only_truncate.py)."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    sql_flush = DatabaseOperations.sql_flush

    def sql_flush_past_triggers(self, style, tables, **kwargs):
        statements = sql_flush(self, style, tables, **kwargs)
        return ["SET LOCAL session_replication_role = replica", *statements] if statements else statements

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "sql_flush", sql_flush_past_triggers)
        yield


# The months the tests' arrears records use (fixed dates in 2026, and dates around today).
HISTORY_MONTHS = (dt.date(2024, 1, 1), dt.date(2028, 12, 1))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> None:
    """The test database's arrears history has a partition for every month the tests write
    (participants.partitions): records that tests create directly, not through an import,
    do not land in the DEFAULT partition, which `check_integrity` reports. Production gets its
    months from the import and the monthly beat job."""
    from participants.partitions import history_partition_ensure, month_add

    with django_db_blocker.unblock():
        month = HISTORY_MONTHS[0]
        while month <= HISTORY_MONTHS[1]:
            history_partition_ensure(month=month)
            month = month_add(month, 1)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Every test that applied an arrears import (the pipeline sent `arrears_import_applied`) ends
    with the integrity checks (core.integrity, one query per check): an orphan or a broken
    reference left by the import, or by the test's own data beside it, fails the test."""
    from participants.services import arrears_import_applied

    applied: list[int] = []

    def note(sender, import_id, **kwargs):
        applied.append(import_id)

    arrears_import_applied.connect(note, weak=False, dispatch_uid="tests.integrity")
    try:
        result = yield
    finally:
        arrears_import_applied.disconnect(dispatch_uid="tests.integrity")
    _tallies_match_pledges(item)
    if applied:
        from core.integrity import run

        report = run()
        if not report.ok:
            pytest.fail(f"check_integrity after the import: {report.failed}", pytrace=False)
    return result


def _tallies_match_pledges(item) -> None:
    """Every test that passed with the database ends with the pledge tallies the database keeps
    (donations.tallies) equal to what its pledges say: each test's pledges, made by whatever path,
    check the triggers. A test whose connection no longer works is not checked."""
    uses_db = {"db", "transactional_db", "django_db_reset_sequences"} & set(item.fixturenames)
    if not uses_db and item.get_closest_marker("django_db") is None:
        return
    from django.db import DatabaseError, connection, transaction
    from psycopg2.extensions import TRANSACTION_STATUS_INERROR

    from donations import tallies

    raw = connection.connection
    if raw is None or raw.closed or connection.needs_rollback or raw.info.transaction_status == TRANSACTION_STATUS_INERROR:
        return
    try:
        with transaction.atomic():
            differ = tallies.differences()
    except DatabaseError:
        return
    if differ:
        pytest.fail(f"{differ} pledge tally or unfinished-pledge rows differ from the pledges (donations.tallies)",
                    pytrace=False)


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def regency_a(db):
    return RegencyFactory(code="73.22", name="Luwu Utara", slug="luwu-utara", timezone="Asia/Makassar")


@pytest.fixture
def regency_a2(db):
    """A second regency of branch A (Luwu)."""
    return RegencyFactory(code="73.17", name="Luwu", slug="luwu", timezone="Asia/Makassar")


@pytest.fixture
def regency_b(db):
    return RegencyFactory(code="52.03", name="Lombok Timur", slug="lombok-timur", timezone="Asia/Makassar")


@pytest.fixture
def branch_a(regency_a, regency_a2):
    branch = BranchFactory(code="palopo", name="KC Palopo")
    branch.regencies.add(regency_a, regency_a2)
    return branch


@pytest.fixture
def branch_b(regency_b):
    branch = BranchFactory(code="selong", name="KC Selong")
    branch.regencies.add(regency_b)
    return branch


@pytest.fixture
def district_a(regency_a):
    return DistrictFactory(regency=regency_a, name="Masamba", code="73.22.01")


@pytest.fixture
def village_a(district_a):
    return VillageFactory(district=district_a, regency=district_a.regency, name="Baloli", code="73.22.01.2001")


@pytest.fixture
def district_b(regency_b):
    return DistrictFactory(regency=regency_b, name="Selong", code="52.03.01")


def _person(name: str, place: str, email: str, role: str | None = None) -> Any:
    """The fixture `name`: a user holding `role` in the regency fixture `place`, or, without a
    role, a BPJS admin of the branch fixture `place`; TOTP enrolled either way."""

    def make(request: pytest.FixtureRequest) -> Any:
        where = request.getfixturevalue(place)
        return branch_admin(where, email=email) if role is None else member(where, role, email=email)

    make.__doc__ = f"{email}: {role or 'BPJS admin'} of {place}."
    return pytest.fixture(make, name=name)


# name, the regency or branch fixture, e-mail, role (none: a BPJS branch admin)
admin_a = _person("admin_a", "regency_a", "admin.a@example.test", Role.REGENCY_ADMIN)
staff_a = _person("staff_a", "regency_a", "staf.a@example.test", Role.PEMDA_STAFF)
assessor_a = _person("assessor_a", "regency_a", "asesor.a@example.test", Role.ASSESSOR)
supervisor_a = _person("supervisor_a", "regency_a", "supervisor.a@example.test", Role.SUPERVISOR)
treasurer_a = _person("treasurer_a", "regency_a", "bendahara.a@example.test", Role.TREASURER)
admin_b = _person("admin_b", "regency_b", "admin.b@example.test", Role.REGENCY_ADMIN)
assessor_b = _person("assessor_b", "regency_b", "asesor.b@example.test", Role.ASSESSOR)
treasurer_b = _person("treasurer_b", "regency_b", "bendahara.b@example.test", Role.TREASURER)
bpjs_a = _person("bpjs_a", "branch_a", "bpjs.a@example.test")
bpjs_b = _person("bpjs_b", "branch_b", "bpjs.b@example.test")
