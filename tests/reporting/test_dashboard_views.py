"""Branch and national dashboards (who sees what), and the regency settings page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import AuditEvent
from participants.models import ImportStatus, ParticipantStatus
from regencies.models import Regency
from reporting.dashboard import regencies_summary
from tests.factories import ArrearsImportFactory, ParticipantFactory, UserFactory


def _branch_url(code):
    return reverse("branch_dashboard", kwargs={"branch_code": code})


@pytest.fixture
def spread(regency_a, regency_a2, regency_b, branch_a, branch_b):
    for _ in range(3):
        ParticipantFactory(regency=regency_a, arrears_amount=100_000)
    ParticipantFactory(regency=regency_a, status=ParticipantStatus.CLEARED)
    ParticipantFactory(regency=regency_a2, arrears_amount=50_000)
    for _ in range(2):
        ParticipantFactory(regency=regency_b, arrears_amount=70_000)
    ArrearsImportFactory(branch=branch_a, status=ImportStatus.APPLIED, as_of=dt.date(2026, 10, 5))
    ArrearsImportFactory(branch=branch_a, status=ImportStatus.FAILED, as_of=dt.date(2026, 11, 5))


def test_summary_per_regency(spread, regency_a, regency_a2, regency_b):
    rows = {r.slug: r for r in regencies_summary(regencies=Regency.objects.all())}
    assert (rows[regency_a.slug].in_arrears, rows[regency_a.slug].arrears_total) == (3, 300_000)
    assert rows[regency_a.slug].last_import_as_of == dt.date(2026, 10, 5)
    assert rows[regency_a2.slug].in_arrears == 1
    assert rows[regency_b.slug].in_arrears == 2
    assert rows[regency_b.slug].last_import_as_of is None
    assert rows[regency_b.slug].verified == 0


def test_branch_dashboard_shows_only_the_branch_regencies(client, spread, bpjs_a, regency_b):
    client.force_login(bpjs_a)
    response = client.get(_branch_url("palopo"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Luwu Utara" in html and "Luwu" in html
    assert regency_b.name not in html
    assert "Rp350.000" in html  # the branch total
    assert "5 Oktober 2026" in html


def test_branch_dashboard_404_for_others(client, spread, bpjs_b, admin_a):
    client.force_login(bpjs_b)
    assert client.get(_branch_url("palopo")).status_code == 404
    assert client.get(_branch_url("tidak-ada")).status_code == 404
    client.force_login(admin_a)  # a regency admin does not act for the branch
    assert client.get(_branch_url("palopo")).status_code == 404


def test_branch_dashboard_anonymous_goes_to_login(client, spread):
    response = client.get(_branch_url("palopo"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_national_dashboard_staff_superuser_only(client, spread, admin_a, bpjs_a, regency_b):
    url = reverse("national_dashboard")
    assert client.get(url).status_code == 404
    for user in (admin_a, bpjs_a, UserFactory(is_staff=True)):
        client.force_login(user)
        assert client.get(url).status_code == 404
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Luwu Utara" in html and regency_b.name in html
    assert "Rp490.000" in html


def test_national_query_count_is_constant(client, spread, django_assert_num_queries):
    from reporting.summaries import summaries_refresh_all
    from tests.factories import RegencyFactory

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("national_dashboard")
    summaries_refresh_all()  # the nightly job (or each regency's list) has filled the summaries
    client.get(url)  # the menu, read once and kept for the next pages
    with CaptureQueriesContext(connection) as first:
        assert client.get(url).status_code == 200
    expected = len(first.captured_queries)  # read now: the next request clears the log it reads
    for _ in range(5):
        regency = RegencyFactory()
        ParticipantFactory(regency=regency)
    summaries_refresh_all()
    client.get(url)  # new regencies: the operator's menu is read again
    with django_assert_num_queries(expected):
        assert client.get(url).status_code == 200


def _settings_url(regency):
    return reverse("regency_settings", kwargs={"regency_slug": regency.slug})


def test_settings_saved_and_audited(client, regency_a, admin_a):
    client.force_login(admin_a)
    assert client.get(_settings_url(regency_a)).status_code == 200
    response = client.post(_settings_url(regency_a), {
        "population": "329934", "jkn_participants": "324000", "active_rate_target": "85", "minimum_wage": "3500000",
    })
    assert response.status_code == 302
    regency_a.refresh_from_db()
    assert (regency_a.population, regency_a.jkn_participants, regency_a.minimum_wage) == (329_934, 324_000, 3_500_000)
    assert regency_a.active_rate_target == 85
    event = AuditEvent.objects.get(verb="regency.settings_update")
    assert event.actor == admin_a and event.regency == regency_a
    assert event.before["population"] is None and event.after["population"] == 329_934
    home = client.get(reverse("regency_home", kwargs={"regency_slug": regency_a.slug})).content.decode()
    assert "98,20%" in home or "98.20%" in home  # coverage


@pytest.mark.parametrize(("field", "value"), [
    ("active_rate_target", "150"), ("population", "-5"), ("population", "banyak"), ("minimum_wage", "-1"),
])
def test_settings_bad_input_is_refused_with_a_message(client, regency_a, admin_a, field, value):
    client.force_login(admin_a)
    data = {"population": "1000", "jkn_participants": "900", "active_rate_target": "80", "minimum_wage": ""}
    data[field] = value
    response = client.post(_settings_url(regency_a), data)
    assert response.status_code == 400
    # The message sits in the field's own error box, which the input names in aria-describedby.
    assert f'id="id_{field}_error" data-error-for="{field}"><p>' in response.content.decode()
    regency_a.refresh_from_db()
    assert regency_a.population is None
    assert not AuditEvent.objects.filter(verb="regency.settings_update").exists()


def test_settings_implausible_participant_total(client, regency_a, admin_a):
    client.force_login(admin_a)
    response = client.post(_settings_url(regency_a), {
        "population": "1000", "jkn_participants": "5000", "active_rate_target": "80"})
    assert response.status_code == 400
    assert "tidak masuk akal" in response.content.decode()


def test_settings_forbidden_to_staff_and_hidden_from_other_regency(client, regency_a, staff_a, admin_b):
    client.force_login(staff_a)
    assert client.get(_settings_url(regency_a)).status_code == 403
    assert client.post(_settings_url(regency_a), {"active_rate_target": "10"}).status_code == 403
    client.force_login(admin_b)
    assert client.get(_settings_url(regency_a)).status_code == 404
