"""Navigation by role: what the signed-in user can open."""

from regencies.permissions import user_branches, user_regencies


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def lazy():
        return {"regencies": user_regencies(user), "branches": user_branches(user)}

    cache: dict = {}

    class Nav:
        def __getattr__(self, name):
            if not cache:
                cache.update(lazy())
            return cache[name]

    return {"nav": Nav(), "current_regency": getattr(request, "regency", None),
            "current_access": getattr(request, "regency_access", None)}
