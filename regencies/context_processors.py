"""Navigation by role: what the signed-in user can open.

The menu's lists (regencies and branches the user acts for) are read on every page: they are
kept in the cache per user (`NAV_TTL`) and forgotten when one of the user's roles is saved or
deleted, and everyone's when a regency or a branch (or a branch's regencies) changes
(`nav_changed`, from `regencies.signals`). They only draw links: every page checks the
user's access itself, so a menu a few minutes old never opens anything.
"""

import uuid

from django.core.cache import cache
from django.db import transaction

from regencies.permissions import user_branches, user_regencies

NAV_TTL = 300


_NAV_VERSION = "regencies:nav:v"


def _nav_key(user_id: int) -> str:
    return f"regencies:nav:{cache.get(_NAV_VERSION) or 0}:{user_id}"


def nav_changed(user_id: int | None) -> None:
    """Forget the user's menu (None: everyone's), now and after the commit of the change."""
    def forget() -> None:
        if user_id is None:
            cache.set(_NAV_VERSION, uuid.uuid4().hex, None)
        else:
            cache.delete(_nav_key(user_id))

    forget()
    transaction.on_commit(forget)


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def lazy():
        key = _nav_key(user.pk)
        lists = cache.get(key)
        if lists is None:
            lists = {"regencies": user_regencies(user), "branches": user_branches(user)}
            cache.set(key, lists, NAV_TTL)
        return lists

    loaded: dict = {}

    class Nav:
        def __getattr__(self, name):
            if not loaded:
                loaded.update(lazy())
            return loaded[name]

    return {"nav": Nav(), "current_regency": getattr(request, "regency", None),
            "current_access": getattr(request, "regency_access", None)}
