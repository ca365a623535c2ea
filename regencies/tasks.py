"""Celery tasks of the regencies app: thin wrappers that take ids."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation


@shared_task(acks_late=True)
def send_invitation_email(invitation_id: int, base_url: str = "") -> bool:
    """E-mail the invitation link. Does nothing for an invitation no longer pending."""
    from regencies.models import Invitation
    from regencies.services import invitation_link, invitation_state

    invitation = (
        Invitation.all_regencies.select_related("regency", "invited_by").filter(pk=invitation_id).first()
    )
    if invitation is None or invitation_state(invitation) != "pending":
        return False
    context = {
        "invitation": invitation,
        "regency": invitation.regency,
        "role_label": invitation.get_role_display(),
        "link": invitation_link(invitation=invitation, base_url=base_url),
        "valid_days": settings.INVITATION_VALID_DAYS,
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string("regencies/email/invitation_subject.txt", context).strip()
        body = render_to_string("regencies/email/invitation_message.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [invitation.email])
    return True
