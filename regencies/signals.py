"""Roles saved or taken away, regencies and branches changed: the menus are read again; a user left without any active
role loses every API token.

Lives here, not in accounts, because the roles are this app's (accounts never imports it).
Connected in RegenciesConfig.ready().
"""

from __future__ import annotations

from django.db.models.signals import m2m_changed, post_delete, post_save

from regencies.models import BpjsBranch, BranchMembership, Membership, Regency


def _holds_any_role(user_id: int) -> bool:
    return (
        Membership.all_regencies.filter(user_id=user_id, is_active=True).exists()
        or BranchMembership.objects.filter(user_id=user_id, is_active=True).exists()
    )


def _role_changed(sender, instance, raw=False, **kwargs):
    from regencies.context_processors import nav_changed

    nav_changed(instance.user_id)
    if raw or (getattr(instance, "is_active", True) and kwargs.get("signal") is post_save):
        return
    if _holds_any_role(instance.user_id):
        return
    from accounts.models import User
    from accounts.tokens import tokens_revoke_all

    user = User.objects.filter(pk=instance.user_id).first()
    if user is not None:
        tokens_revoke_all(user=user, reason="role_removed")


def _places_changed(sender, raw=False, **kwargs):
    from regencies.context_processors import nav_changed

    if not raw:
        nav_changed(None)


def connect_signals() -> None:
    for place in (Regency, BpjsBranch):
        post_save.connect(_places_changed, sender=place, dispatch_uid=f"regencies.nav.save.{place.__name__}")
        post_delete.connect(_places_changed, sender=place, dispatch_uid=f"regencies.nav.delete.{place.__name__}")
    m2m_changed.connect(_places_changed, sender=BpjsBranch.regencies.through, dispatch_uid="regencies.nav.branches")
    for model in (Membership, BranchMembership):
        post_save.connect(_role_changed, sender=model, dispatch_uid=f"regencies.tokens.save.{model.__name__}")
        post_delete.connect(_role_changed, sender=model, dispatch_uid=f"regencies.tokens.delete.{model.__name__}")
