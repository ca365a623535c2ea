"""The home page puts each role's work first: per regency and role the work waiting, with counts
and a link to the list that shows exactly that; per BPJS branch its imports and what awaits
confirmation; the donor's pledges and the open public campaigns. Another regency's work never
shows, and the page reads a fixed number of queries whatever the size of the data."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from donations.models import (
    Audience,
    CampaignStatus,
    PledgeStatus,
)
from donations.services import donor_profile_ensure
from regencies.models import BranchMembership, Membership
from regencies.roles import Role
from reporting.selectors import home_work
from tests import role_world
from tests.factories import UserFactory, member
from tests.role_world import world_with_work


@pytest.fixture
def world_a(regency_a, branch_a, assessor_a, supervisor_a, staff_a, treasurer_a, admin_a):
    return world_with_work(regency_a, branch_a, assessor=assessor_a, supervisor=supervisor_a, staff=staff_a,
                           treasurer=treasurer_a, admin=admin_a)


@pytest.fixture
def world_b(regency_b, branch_b, assessor_b, admin_b):
    """The same work in Lombok Timur, and more of it: none of it may show in Luwu Utara."""
    supervisor = member(regency_b, Role.SUPERVISOR, email="supervisor.b@example.test")
    staff = member(regency_b, Role.PEMDA_STAFF, email="staf.b@example.test")
    treasurer = member(regency_b, Role.TREASURER, email="bendahara.b@example.test")
    return world_with_work(regency_b, branch_b, k=3, assessor=assessor_b, supervisor=supervisor, staff=staff,
                           treasurer=treasurer, admin=admin_b)


def _role(work, regency, role):
    section = next(s for s in work.regencies if s.regency == regency)
    return next(r for r in section.roles if r.role == role)


def _counts(role_work):
    return {key: c.value for key, c in role_work.counts.items()}


def _html(client, user) -> str:
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def _work_links(html: str) -> list[tuple[str, str]]:
    """(href, text) of each work link, in page order."""
    return [(href.replace("&amp;", "&"), re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)).strip())
            for href, text in re.findall(r'<a class="work-link[^"]*" href="([^"]+)">(.*?)</a>', html, re.S)]


# --- each role's work, with counts and links ---------------------------------------------------


def test_assessor_sees_their_queue_and_drafts_first(client, world_a, world_b, regency_a, assessor_a):
    work = home_work(user=assessor_a)
    assert [s.regency for s in work.regencies] == [regency_a]
    assert _counts(_role(work, regency_a, Role.ASSESSOR)) == {"todo": 6, "todo_mine": 2, "drafts_mine": 2}
    links = _work_links(_html(client, assessor_a))
    assert links[0] == ("/r/luwu-utara/assessments/?status=todo&mine=1",
                        "2 peserta ditugaskan kepada Anda, perlu dinilai")
    assert ("/r/luwu-utara/assessments/?status=draft&mine=1", "2 draf asesmen Anda belum diajukan") in links
    assert ("/r/luwu-utara/assessments/?status=todo", "6 peserta di antrean perlu dinilai") in links


def test_each_count_is_what_its_link_lists(client, world_a, world_b, assessor_a, supervisor_a):
    """The queue page behind each link says the same number (its own count)."""
    for user in (assessor_a, supervisor_a):
        client.force_login(user)
        for href, text in _work_links(client.get("/").content.decode()):
            if "/assessments/" not in href:
                continue
            number = text.split()[0]
            page = client.get(href).content.decode()
            assert re.search(rf"\b{re.escape(number)} peserta\b", page), (href, text)


def test_supervisor_sees_decisions_waiting_and_the_queue_opens_on_them(client, world_a, world_b, regency_a,
                                                                         supervisor_a):
    work = home_work(user=supervisor_a)
    assert _counts(_role(work, regency_a, Role.SUPERVISOR)) == {"submitted": 5, "submitted_own": 1, "todo": 6}
    html = _html(client, supervisor_a)
    links = _work_links(html)
    assert links[0] == ("/r/luwu-utara/assessments/?status=submitted", "5 asesmen menunggu keputusan")
    assert "termasuk 1 ajuan Anda sendiri" in html
    # The queue without a filter opens on the submissions awaiting a decision.
    queue = client.get("/r/luwu-utara/assessments/").content.decode()
    assert re.search(r'<option value="submitted" selected>', queue)
    assert re.search(r"\b5 peserta\b", queue)


def test_assessor_queue_still_opens_on_todo(client, world_a, assessor_a):
    client.force_login(assessor_a)
    queue = client.get("/r/luwu-utara/assessments/").content.decode()
    assert re.search(r'<option value="todo" selected>', queue)


def test_staff_sees_their_campaign_and_pledges(client, world_a, world_b, regency_a, staff_a):
    work = home_work(user=staff_a)
    staff = _role(work, regency_a, Role.PEMDA_STAFF)
    assert [c.slug for c in staff.campaigns] == [world_a.internal.slug]
    assert _counts(staff) == {"to_confirm": 1, "to_pay": 2, "paid": 0, "verified": 0, "total": 3}
    links = _work_links(_html(client, staff_a))
    assert links[0] == (f"/c/{world_a.internal.slug}/", "Pilih peserta di ASN Luwu Utara")
    assert ("/me/", "1 janji Anda perlu dikonfirmasi") in links
    assert ("/me/", "2 janji Anda menunggu pembayaran") in links
    assert ("/me/", "3 janji Anda di kabupaten/kota ini") in links


def test_staff_does_not_see_a_closed_or_draft_campaign(world_a, regency_a, staff_a):
    role_world.campaign(regency_a, audience=Audience.INTERNAL, status=CampaignStatus.DRAFT)
    role_world.campaign(regency_a, audience=Audience.INTERNAL, status=CampaignStatus.CLOSED)
    role_world.campaign(regency_a, audience=Audience.INTERNAL, ends_on=dt.date(2020, 1, 1))
    staff = _role(home_work(user=staff_a), regency_a, Role.PEMDA_STAFF)
    assert [c.slug for c in staff.campaigns] == [world_a.internal.slug]


def test_treasurer_sees_hand_overs_and_statements(client, world_a, world_b, regency_a, treasurer_a):
    counts = _counts(_role(home_work(user=treasurer_a), regency_a, Role.TREASURER))
    assert counts == {"paid_not_handed_over": 4, "handovers_draft": 1, "statements_in_progress": 1,
                      "statements_rejected": 0, "statements_total": 3}
    links = _work_links(_html(client, treasurer_a))
    assert links[0] == ("/r/luwu-utara/money/", "4 janji lunas belum diserahkan ke BPJS")
    assert ("/r/luwu-utara/money/statements/", "1 mutasi rekening sedang dicocokkan") in links


def test_regency_admin_sees_decisions_anomalies_and_campaigns(client, world_a, world_b, regency_a, admin_a):
    counts = _counts(_role(home_work(user=admin_a), regency_a, Role.REGENCY_ADMIN))
    assert counts == {"submitted": 5, "submitted_own": 0, "anomalies_open": 2, "campaigns_active": 2}
    links = _work_links(_html(client, admin_a))
    assert links[0] == ("/r/luwu-utara/assessments/?status=submitted", "5 asesmen menunggu keputusan")
    assert ("/r/luwu-utara/reconciliation/", "2 anomali rekonsiliasi terbuka") in links


def test_bpjs_admin_sees_imports_awaiting_confirmation_first(client, world_a, world_b, branch_a, bpjs_a):
    work = home_work(user=bpjs_a)
    assert work.regencies == []  # the branch's regencies are reached through the branch
    [branch] = work.branches
    assert branch.branch == branch_a
    assert {k: c.value for k, c in branch.counts.items()} == {"running": 1, "awaiting": 1, "applied": 2, "total": 4}
    [awaiting] = branch.awaiting
    html = _html(client, bpjs_a)
    links = _work_links(html)
    assert links[0] == (f"/branches/palopo/imports/{awaiting.pk}/",
                        "Daftar per 22 November 2026 menunggu konfirmasi Anda")
    assert ("/branches/palopo/imports/", "1 impor sedang diproses") in links
    assert 'href="/r/luwu-utara/"' in html and 'href="/r/luwu/"' in html
    assert "/r/lombok-timur/" not in html and "selong" not in html


def test_donor_sees_pledges_and_open_public_campaigns(client, world_a, world_b, regency_b):
    donor = UserFactory(email="donatur.rumah@example.test")
    donor_profile_ensure(user=donor)
    public = role_world.campaign(regency_b, title="Lotim Peduli")
    role_world.campaign(regency_b, title="Draf Publik", status=CampaignStatus.DRAFT)
    role_world.pledge(public, donor)
    role_world.pledge(public, donor, PledgeStatus.VERIFIED)
    work = home_work(user=donor)
    assert work.regencies == [] and work.branches == []
    assert {k: c.value for k, c in work.pledges.items()} == {
        "to_confirm": 0, "to_pay": 1, "paid": 0, "verified": 1, "total": 2}
    titles = [c.title for c in work.public_campaigns]
    assert "Lotim Peduli" in titles and "Draf Publik" not in titles
    assert not any(t.startswith("ASN ") for t in titles)  # internal campaigns are not public
    html = _html(client, donor)
    links = _work_links(html)
    assert links[0] == ("/me/", "1 janji menunggu pembayaran")
    assert (f"/c/{public.slug}/", "Lotim Peduli") in links
    assert "1 terverifikasi" in html


def test_every_section_links_its_regency_dashboard(client, world_a, supervisor_a):
    html = _html(client, supervisor_a)
    assert 'href="/r/luwu-utara/"' in html
    assert "Dasbor Luwu Utara" in html


# --- several regencies and roles; tenancy ------------------------------------------------------


def test_a_section_per_regency_and_role(client, world_a, world_b, regency_a, regency_b, assessor_a):
    Membership.objects.create(regency=regency_a, user=assessor_a, role=Role.PEMDA_STAFF)
    Membership.objects.create(regency=regency_b, user=assessor_a, role=Role.TREASURER)
    work = home_work(user=assessor_a)
    assert [(s.regency.slug, [r.role for r in s.roles]) for s in work.regencies] == [
        ("lombok-timur", ["treasurer"]), ("luwu-utara", ["assessor", "pemda_staff"])]
    # Each regency's numbers are its own.
    assert _counts(_role(work, regency_b, Role.TREASURER))["paid_not_handed_over"] == 6
    assert _counts(_role(work, regency_a, Role.ASSESSOR))["todo"] == 6
    html = _html(client, assessor_a)
    assert html.count('class="card work-card"') == 3


@pytest.mark.parametrize("who", ["assessor_a", "supervisor_a", "staff_a", "treasurer_a", "admin_a", "bpjs_a"])
def test_another_regencys_work_never_shows(client, world_a, world_b, request, who):
    user = request.getfixturevalue(who)
    html = _html(client, user)
    assert "Lombok Timur" not in html
    assert "/r/lombok-timur/" not in html
    assert world_b.internal.slug not in html and world_b.collected.slug not in html
    for href, _text in _work_links(html):
        assert "lombok" not in href and "selong" not in href


def test_an_inactive_membership_shows_no_regency_work(client, world_a, staff_a):
    Membership.objects.for_regency(world_a.regency).filter(user=staff_a).update(is_active=False)
    assert home_work(user=staff_a).regencies == []
    html = _html(client, staff_a)
    assert "/r/luwu-utara/" not in html
    assert world_a.internal.slug not in html  # the internal campaign is for members only


# --- a fixed number of queries whatever the data's size ----------------------------------------


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/")
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_home_reads_the_same_number_of_queries_at_two_sizes(client, world_a, branch_a, regency_a):
    user = UserFactory(email="semua.peran@example.test", mfa=True)
    for role in Role:
        Membership.objects.create(regency=regency_a, user=user, role=role)
    BranchMembership.objects.create(branch=branch_a, user=user)
    donor_profile_ensure(user=user)
    client.force_login(user)
    client.get("/")  # the session and the caches settle
    small = _queries(client)
    world_a.add(5)
    big = _queries(client)
    assert small == big, (small, big)
    # And the numbers moved with the data.
    assert _counts(_role(home_work(user=user), regency_a, Role.ASSESSOR))["todo"] == 21


@pytest.mark.parametrize("who", ["assessor_a", "supervisor_a", "staff_a", "treasurer_a", "admin_a", "bpjs_a"])
def test_every_work_link_opens(client, world_a, world_b, request, who):
    user = request.getfixturevalue(who)
    links = _work_links(_html(client, user))
    assert links
    for href in dict.fromkeys(href for href, _text in links):
        assert client.get(href).status_code == 200, href


def test_the_regency_dashboard_next_steps_lead_to_the_work(client, world_a, assessor_a, supervisor_a, treasurer_a):
    client.force_login(assessor_a)
    html = client.get("/r/luwu-utara/").content.decode()
    assert 'href="/r/luwu-utara/assessments/?status=todo"' in html
    assert "?status=submitted" not in html
    client.force_login(supervisor_a)
    html = client.get("/r/luwu-utara/").content.decode()
    assert 'href="/r/luwu-utara/assessments/?status=submitted"' in html
    client.force_login(treasurer_a)
    assert 'href="/r/luwu-utara/money/"' in client.get("/r/luwu-utara/").content.decode()
