"""The role table and the one place that answers "may this user do that here"."""

import pytest
from django.http import Http404

from participants.models import Participant
from regencies.permissions import (
    RegencyAccess,
    branch_get_for_user,
    regency_access_for,
    regency_access_get,
    user_branches,
    user_regencies,
)
from regencies.roles import ROLE_PERMISSIONS, Perm, Role
from tests.factories import ParticipantFactory, UserFactory

P = Perm
EXPECTED = {
    Role.REGENCY_ADMIN: set(Perm),
    Role.SUPERVISOR: {P.VIEW_DASHBOARD, P.VIEW_PARTICIPANTS, P.REVEAL_NIK, P.ASSESS,
                      P.DECIDE_ASSESSMENT, P.PLEDGE_INTERNAL},
    Role.ASSESSOR: {P.VIEW_DASHBOARD, P.VIEW_PARTICIPANTS, P.REVEAL_NIK, P.ASSESS, P.PLEDGE_INTERNAL},
    Role.PEMDA_STAFF: {P.VIEW_DASHBOARD, P.PLEDGE_INTERNAL},
    # The treasurer handles money, not people: no participant list, no NIK.
    Role.TREASURER: {P.VIEW_DASHBOARD, P.PLEDGE_INTERNAL, P.MANAGE_MONEY},
}


def test_the_role_table():
    assert set(ROLE_PERMISSIONS) == set(Role)
    for role, perms in EXPECTED.items():
        assert set(ROLE_PERMISSIONS[role]) == perms, role


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("perm", list(Perm))
def test_can_follows_the_table(regency_a, role, perm):
    access = RegencyAccess(regency=regency_a, roles=frozenset({role}))
    assert access.can(perm) is (perm in EXPECTED[role])


def test_only_supervisors_and_admins_decide_and_only_admins_invite(regency_a):
    def can(role, perm):
        return RegencyAccess(regency=regency_a, roles=frozenset({role})).can(perm)

    assert [r for r in Role if can(r, Perm.DECIDE_ASSESSMENT)] == [Role.REGENCY_ADMIN, Role.SUPERVISOR]
    assert [r for r in Role if can(r, Perm.INVITE_MEMBERS)] == [Role.REGENCY_ADMIN]
    assert not can(Role.PEMDA_STAFF, Perm.VIEW_PARTICIPANTS)


def test_several_roles_add_up(regency_a):
    access = RegencyAccess(regency=regency_a, roles=frozenset({Role.PEMDA_STAFF, Role.ASSESSOR}))
    assert access.perms == frozenset(EXPECTED[Role.ASSESSOR])
    assert access.has_role(Role.ASSESSOR) and not access.has_role(Role.SUPERVISOR)


def test_access_of_the_fixture_users(regency_a, admin_a, staff_a, assessor_a, supervisor_a, admin_b):
    assert regency_access_for(user=admin_a, regency=regency_a).roles == {Role.REGENCY_ADMIN}
    assert regency_access_for(user=staff_a, regency=regency_a).can(Perm.PLEDGE_INTERNAL)
    assert not regency_access_for(user=staff_a, regency=regency_a).can(Perm.REVEAL_NIK)
    assert regency_access_for(user=assessor_a, regency=regency_a).can(Perm.ASSESS)
    assert regency_access_for(user=supervisor_a, regency=regency_a).can(Perm.DECIDE_ASSESSMENT)
    assert regency_access_for(user=admin_b, regency=regency_a) is None


def test_a_branch_admin_may_view_participants_of_the_branch_regencies_only(
    bpjs_a, regency_a, regency_a2, regency_b
):
    for regency in (regency_a, regency_a2):
        access = regency_access_for(user=bpjs_a, regency=regency)
        assert access.is_branch_admin
        assert access.can(Perm.VIEW_PARTICIPANTS)
        assert not access.can(Perm.REVEAL_NIK)
        assert not access.can(Perm.INVITE_MEMBERS)
        assert not access.can(Perm.DECIDE_ASSESSMENT)
    assert regency_access_for(user=bpjs_a, regency=regency_b) is None
    with pytest.raises(Http404):
        regency_access_get(user=bpjs_a, slug="lombok-timur")


def test_a_branch_admin_sees_participants_of_the_branch_regencies_but_not_others(
    bpjs_a, regency_a, regency_a2, regency_b
):
    mine = ParticipantFactory(regency=regency_a)
    mine2 = ParticipantFactory(regency=regency_a2)
    ParticipantFactory(regency=regency_b)
    visible = set()
    for regency in user_regencies(bpjs_a):
        if regency_access_for(user=bpjs_a, regency=regency).can(Perm.VIEW_PARTICIPANTS):
            visible |= set(Participant.objects.for_regency(regency))
    assert visible == {mine, mine2}


def test_user_regencies_and_branches(bpjs_a, bpjs_b, admin_a, regency_b):
    assert [r.slug for r in user_regencies(bpjs_a)] == ["luwu", "luwu-utara"]
    assert [r.slug for r in user_regencies(admin_a)] == ["luwu-utara"]
    assert [b.code for b in user_branches(bpjs_b)] == ["selong"]
    assert user_branches(admin_a) == []
    assert branch_get_for_user(user=bpjs_a, code="palopo").code == "palopo"
    for user, code in [(bpjs_a, "selong"), (admin_a, "palopo"), (bpjs_a, "tidak-ada")]:
        with pytest.raises(Http404):
            branch_get_for_user(user=user, code=code)


def test_anonymous_and_plain_users_have_no_access(regency_a):
    from django.contrib.auth.models import AnonymousUser

    assert regency_access_for(user=AnonymousUser(), regency=regency_a) is None
    assert user_regencies(AnonymousUser()) == []
    assert regency_access_for(user=UserFactory(), regency=regency_a) is None


def test_staff_without_superuser_is_not_the_operator(regency_a):
    assert regency_access_for(user=UserFactory(is_staff=True), regency=regency_a) is None
    operator = UserFactory(is_staff=True, is_superuser=True)
    access = regency_access_for(user=operator, regency=regency_a)
    assert access.is_operator and access.can(Perm.VIEW_PARTICIPANTS)
    assert not access.can(Perm.INVITE_MEMBERS)
