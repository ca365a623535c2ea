"""Navigation by role: what the signed-in user can open.

The menu's lists (regencies and branches the user acts for) are read on every page: they are
kept in the cache per user (`NAV_TTL`) and forgotten when one of the user's roles is saved or
deleted (`nav_changed`, from `regencies.signals`). They only draw links: every page checks the
user's access itself, so a menu a few minutes old never opens anything.
"""

from django.core.cache import cache
from django.db import transaction

from regencies.permissions import user_branches, user_regencies

NAV_TTL = 300


def _nav_key(user_id: int) -> str:
    return f"regencies:nav:{user_id}"


def nav_changed(user_id: int) -> None:
    """Forget the user's menu, now and after the commit of the change."""
    def forget() -> None:
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
