import datetime as dt
import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from core.errors import DomainError, PermissionDenied
from core.models import AuditEvent
from regencies.models import Invitation, Membership
from regencies.roles import Role
from regencies.services import (
    InvitationInvalid,
    InvitationLoginRequired,
    invitation_accept,
    invitation_create,
    membership_deactivate,
)
from tests.factories import PASSWORD, UserFactory

NEW_PASSWORD = "Kopi-Toraja-2026!"


@pytest.fixture
def invite(regency_a, admin_a, django_capture_on_commit_callbacks):
    def make(email="baru@example.test", role=Role.ASSESSOR):
        with django_capture_on_commit_callbacks(execute=True):
            return invitation_create(
                regency=regency_a, actor=admin_a, email=email, role=role, base_url="http://testserver/"
            )

    return make


def _members_url(regency):
    return reverse("member_list", kwargs={"regency_slug": regency.slug})


def _accept_url(token):
    return reverse("invitation_accept", kwargs={"token": token})


def test_admin_invites_and_the_email_carries_the_link(invite, regency_a):
    invitation = invite(email="Baru@Example.test")
    assert invitation.email == "baru@example.test"
    assert invitation.expires_at > timezone.now() + dt.timedelta(days=6)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["baru@example.test"]
    assert f"http://testserver/invitations/{invitation.token}/" in message.body
    assert "Luwu Utara" in message.body
    assert AuditEvent.objects.filter(verb="invitation.created", object_id=str(invitation.pk)).exists()


def test_a_new_invitation_replaces_the_pending_one(invite, regency_a):
    first = invite()
    second = invite()
    first.refresh_from_db()
    assert first.revoked_at is not None
    assert second.revoked_at is None


def test_only_admins_may_invite(regency_a, staff_a, admin_b):
    for actor in (staff_a, admin_b):
        with pytest.raises(PermissionDenied):
            invitation_create(regency=regency_a, actor=actor, email="x@example.test", role=Role.ASSESSOR)
    assert not Invitation.objects.for_regency(regency_a).exists()


def test_member_page_for_admin_lists_and_invites(client, regency_a, admin_a, staff_a, django_capture_on_commit_callbacks):
    client.force_login(admin_a)
    page = client.get(_members_url(regency_a))
    assert page.status_code == 200
    assert staff_a.email in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_members_url(regency_a), {"email": "asesor.baru@example.test", "role": "assessor"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    page = client.get(_members_url(regency_a)).content.decode()
    assert "asesor.baru@example.test" in page


def test_member_page_bad_input_is_a_clear_message(client, regency_a, admin_a):
    client.force_login(admin_a)
    response = client.post(_members_url(regency_a), {"email": "bukan-email", "role": "raja"})
    assert response.status_code == 400
    assert not Invitation.objects.for_regency(regency_a).exists()
    html = response.content.decode()
    assert "field-error" in html


def test_member_page_is_forbidden_for_staff_and_hidden_from_others(client, regency_a, staff_a, admin_b):
    client.force_login(staff_a)
    assert client.get(_members_url(regency_a)).status_code == 403
    assert client.post(_members_url(regency_a), {"email": "a@example.test", "role": "assessor"}).status_code == 403
    client.force_login(admin_b)
    assert client.get(_members_url(regency_a)).status_code == 404
    assert not Invitation.objects.for_regency(regency_a).exists()


def _revoke(client, user, regency, invitation):
    """`user` revokes `invitation` on `regency`'s member page: the response (the invitation read again)."""
    client.force_login(user)
    response = client.post(_members_url(regency), {"action": "revoke", "invitation": invitation.pk})
    invitation.refresh_from_db()
    return response


def test_revoke_from_the_member_page(client, invite, regency_a, admin_a):
    invitation = invite()
    assert _revoke(client, admin_a, regency_a, invitation).status_code == 302
    assert invitation.revoked_at is not None
    client.logout()
    page = client.get(_accept_url(invitation.token))
    assert page.status_code == 410
    assert "dibatalkan" in page.content.decode()


def test_revoke_of_another_regencys_invitation_is_404(client, regency_b, admin_b, invite):
    invitation = invite()
    assert _revoke(client, admin_b, regency_b, invitation).status_code == 404
    assert invitation.revoked_at is None


def test_accept_sets_password_membership_and_logs_in(client, invite, regency_a):
    invitation = invite()
    page = client.get(_accept_url(invitation.token))
    assert page.status_code == 200
    assert "Luwu Utara" in page.content.decode()
    assert "Asesor" in page.content.decode()
    response = client.post(_accept_url(invitation.token), {
        "full_name": "Andi Baru", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD,
    })
    assert response.status_code == 302
    assert response["Location"] == reverse("regency_home", kwargs={"regency_slug": "luwu-utara"})
    user = User.objects.get(email="baru@example.test")
    assert user.check_password(NEW_PASSWORD)
    assert user.full_name == "Andi Baru"
    assert Membership.objects.for_regency(regency_a).filter(user=user, role=Role.ASSESSOR, is_active=True).exists()
    assert EmailAddress.objects.filter(user=user, verified=True).exists()
    # Logged in as the new member, who must enrol MFA (every role) before any other page.
    assert client.session["_auth_user_id"] == str(user.pk)
    enrol = client.get(response["Location"])
    assert enrol.status_code == 302 and enrol["Location"] == reverse("mfa_activate_totp")
    # the link is spent
    again = client.__class__().get(_accept_url(invitation.token))
    assert again.status_code == 410
    assert "sudah dipakai" in again.content.decode()
    with pytest.raises(InvitationInvalid):
        invitation_accept(token=invitation.token, password=NEW_PASSWORD, full_name="X")


def test_accept_refuses_weak_or_mismatched_passwords(client, invite):
    invitation = invite()
    weak = client.post(_accept_url(invitation.token), {"full_name": "A", "password1": "123", "password2": "123"})
    assert weak.status_code == 400
    mismatch = client.post(_accept_url(invitation.token), {
        "full_name": "A", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD + "x"})
    assert mismatch.status_code == 400
    assert "tidak sama" in mismatch.content.decode()
    assert not User.objects.filter(email="baru@example.test").exists()


def test_expired_invitation_is_a_clear_410_and_nothing_is_created(client, invite, regency_a):
    invitation = invite()
    Invitation.objects.for_regency(regency_a).filter(pk=invitation.pk).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    page = client.get(_accept_url(invitation.token))
    assert page.status_code == 410
    assert "kedaluwarsa" in page.content.decode()
    response = client.post(_accept_url(invitation.token), {
        "full_name": "A", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 410
    assert not User.objects.filter(email="baru@example.test").exists()
    assert not Membership.objects.for_regency(regency_a).filter(user__email="baru@example.test").exists()


def test_unknown_token_is_404_and_reveals_nothing(client, invite):
    invite()
    for token in ("tidak-ada", "x" * 200, "a%20b"):
        response = client.get(f"/invitations/{token}/")
        assert response.status_code == 404
        html = response.content.decode()
        assert "Luwu" not in html and "baru@example.test" not in html
    assert client.post("/invitations/tidak-ada/", {"password1": "x"}).status_code == 404
    with pytest.raises(DomainError):
        invitation_accept(token="tidak-ada", password=NEW_PASSWORD, full_name="A")


def test_invitation_to_an_existing_user_adds_the_membership(client, regency_a, assessor_b, invite):
    invitation = invite(email=assessor_b.email, role=Role.SUPERVISOR)
    # not logged in: asked to log in first, nothing changes
    page = client.get(_accept_url(invitation.token))
    assert page.status_code == 200
    assert "/accounts/login/?next=" in page.content.decode()
    assert client.post(_accept_url(invitation.token)).status_code == 403
    with pytest.raises(InvitationLoginRequired):
        invitation_accept(token=invitation.token, password="whatever", full_name="")
    assert not Membership.objects.for_regency(regency_a).filter(user=assessor_b).exists()
    # logged in as the invitee: one click, the password is untouched
    client.force_login(assessor_b)
    response = client.post(_accept_url(invitation.token))
    assert response.status_code == 302
    assert Membership.objects.for_regency(regency_a).filter(user=assessor_b, role=Role.SUPERVISOR).exists()
    assessor_b.refresh_from_db()
    assert assessor_b.check_password(PASSWORD)


def test_existing_user_logged_in_as_someone_else_cannot_accept(client, regency_a, assessor_b, staff_a, invite):
    invitation = invite(email=assessor_b.email)
    client.force_login(staff_a)
    page = client.get(_accept_url(invitation.token))
    assert "Keluarlah dahulu" in page.content.decode()
    assert client.post(_accept_url(invitation.token)).status_code == 403
    assert not Membership.objects.for_regency(regency_a).filter(user=assessor_b).exists()


def test_membership_deactivate(client, regency_a, admin_a, staff_a):
    membership = Membership.objects.for_regency(regency_a).get(user=staff_a)
    client.force_login(admin_a)
    response = client.post(_members_url(regency_a), {"action": "deactivate", "membership": membership.pk})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.is_active is False
    assert AuditEvent.objects.filter(verb="membership.deactivated").count() == 1
    client.force_login(staff_a)
    assert client.get(reverse("regency_home", kwargs={"regency_slug": regency_a.slug})).status_code == 404


def test_admin_cannot_remove_own_admin_role(regency_a, admin_a):
    own = Membership.objects.for_regency(regency_a).get(user=admin_a)
    with pytest.raises(DomainError):
        membership_deactivate(regency=regency_a, actor=admin_a, membership=own)


def test_invitation_email_link_works_end_to_end(client, regency_a, admin_a, django_capture_on_commit_callbacks):
    client.force_login(admin_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_members_url(regency_a), {"email": "staf.baru@example.test", "role": "pemda_staff"})
    link = re.search(r"http://testserver(/invitations/[^/\s]+/)", mail.outbox[0].body).group(1)
    client.logout()
    assert client.get(link).status_code == 200
    response = client.post(link, {"full_name": "Staf Baru", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    user = UserFactory._meta.model.objects.get(email="staf.baru@example.test")
    assert Membership.objects.for_regency(regency_a).filter(user=user, role=Role.PEMDA_STAFF).exists()


def test_invitation_email_waits_in_the_outbox_while_the_broker_is_down(regency_a, admin_a, django_capture_on_commit_callbacks):
    from core.models import OutboxMessage
    from core.outbox import relay
    from tests.core.broker import celery_broker, closed_url

    with celery_broker(closed_url()), django_capture_on_commit_callbacks(execute=True):
        invitation = invitation_create(regency=regency_a, actor=admin_a, email="x@example.test", role=Role.ASSESSOR)
    assert mail.outbox == []
    assert OutboxMessage.objects.get(task="regencies.tasks.send_invitation_email").sent_at is None
    assert relay()["sent"] == 1  # the broker is back (eager in tests: the task runs here)
    assert len(mail.outbox) == 1
    assert invitation.token in mail.outbox[0].body


def test_not_found_and_forbidden_pages_are_clear(client, regency_a, staff_a):
    client.force_login(staff_a)
    missing = client.get("/r/tidak-ada/")
    assert missing.status_code == 404
    assert "Halaman tidak ditemukan" in missing.content.decode()
    forbidden = client.get(_members_url(regency_a))
    assert forbidden.status_code == 403
    assert "Tidak berhak" in forbidden.content.decode()
