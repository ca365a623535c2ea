"""Tenant isolation, proved: EVERY URL pattern of the project, discovered from the URLconf,
is requested by a user of regency A (every role in A, BPJS admin of A's branch), anonymously
and with A's API token, against the objects of regency B. Nothing may answer 2xx or 5xx.

Nothing is listed by hand: a new route is walked as soon as it is in the URLconf, and a new
URL kwarg fails until it is registered in tests/isolation/registry.py.

For routes with several kwargs (`/branches/<branch_code>/imports/<import_id>/`), mixed
requests are made as well: one kwarg of B and the others of A, which A may open. That
catches a view that checks the first kwarg and then fetches the second one unscoped.
A positive control makes sure the 404s are about isolation: with A's own objects, A does
NOT get a 404 (else the route, or this test's objects, would be broken).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern, RoutePattern

from regencies.permissions import regency_access_for
from tests.isolation.registry import KWARGS, World, build_world

# --- explicit exceptions (each one commented) --------------------------------

# Routes that answer anyone by design and hold no tenant data: allauth's e-mail confirmation
# and password-reset links render a "link invalid or expired" page (200) for a forged key.
# For these the test asserts that nothing of B is in the page instead of a non-2xx status.
PUBLIC_ROUTES = {
    "account_confirm_email",
    "account_reset_password_from_key",
}

# Routes where the secret in the URL IS the permission (an invitation link is opened by an
# invitee who has no account yet). With B's real token a 2xx is correct; the test asserts
# instead that (1) a forged token is refused, and (2) A gains no access to B by any request.
CAPABILITY_ROUTES = {
    "invitation_accept": "token",
}

UNSAFE_METHODS = ("post", "put", "patch", "delete")


# --- discovering the routes ----------------------------------------------------


@dataclass(frozen=True)
class Route:
    parts: tuple  # the pattern objects from the root URLconf down to the view
    pattern: URLPattern

    @property
    def text(self) -> str:
        return "".join(str(p) for p in self.parts)

    @property
    def name(self) -> str | None:
        return self.pattern.name

    @property
    def kwargs(self) -> list[str]:
        names: list[str] = []
        for part in self.parts:
            if isinstance(part, RoutePattern):
                names += list(part.converters)
            elif isinstance(part, RegexPattern):
                names += list(part.regex.groupindex)
        return names

    @property
    def is_admin(self) -> bool:
        return self.text.startswith("admin/")

    @property
    def is_api(self) -> bool:
        return self.text.startswith("api/")

    def url(self, values: dict[str, str]) -> str:
        return "/" + "".join(_fill(part, values) for part in self.parts)

    def view_methods(self) -> list[str]:
        """Unsafe methods the view class declares (function views: found out by a 405)."""
        callback = self.pattern.callback
        cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        if cls is None:
            return []
        allowed = {m.lower() for m in getattr(cls, "http_method_names", UNSAFE_METHODS)}
        return [m for m in UNSAFE_METHODS if hasattr(cls, m) and m in allowed]


def _walk(resolver: URLResolver, parts: tuple = ()):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry, (*parts, entry.pattern))
        else:
            yield Route(parts=(*parts, entry.pattern), pattern=entry)


def _fill(part, values: dict[str, str]) -> str:
    if isinstance(part, RoutePattern):
        return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], str(part))
    text = str(part)
    out, i = [], 0
    while i < len(text):
        match = re.compile(r"\(\?P<(\w+)>").match(text, i)
        if match is None:
            out.append(text[i])
            i += 1
            continue
        depth, j = 1, match.end()
        while depth:  # skip to the group's closing parenthesis
            depth += {"(": 1, ")": -1}.get(text[j], 0) if text[j - 1] != "\\" else 0
            j += 1
        out.append(values[match.group(1)])
        i = j
    filled = "".join(out).removeprefix("^").removesuffix("$")
    return re.sub(r"\\(.)", r"\1", filled)


ALL_ROUTES = list(_walk(get_resolver()))
WITH_KWARGS = [r for r in ALL_ROUTES if r.kwargs]
WITHOUT_KWARGS = [r for r in ALL_ROUTES if not r.kwargs]


# --- requests ------------------------------------------------------------------


@pytest.fixture(scope="module")
def _module_world(django_db_setup, django_db_blocker):
    """A and B are built ONCE for this module (about 70 ms each time otherwise, for 100+
    routes): inside an outer transaction that is rolled back at the end of the module.
    Each test's `db` fixture then runs in a savepoint of it, so what a request changes
    is undone after every test."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


@pytest.fixture
def world(_module_world, db) -> World:
    return _module_world


def clients(world: World) -> dict[str, Client]:
    member = Client()
    member.force_login(world.a.member)
    return {
        "anonymous": Client(),
        "user A": member,
        "token A": Client(HTTP_AUTHORIZATION=f"Token {world.a.token}"),
    }


def values_for(route: Route, world: World) -> list[tuple[str, dict[str, str]]]:
    """(label, kwargs) to try: all of B; for several kwargs also each one of B with the rest of A."""
    missing = [k for k in route.kwargs if k not in KWARGS]
    if missing:
        pytest.fail(
            f"Route {route.text!r} ({route.name}) has URL kwarg(s) {missing} that the isolation "
            f"test does not know. Register each in KWARGS of tests/isolation/registry.py: a function "
            f"returning the value for an object of one regency (see the module docstring)."
        )

    def side_values(b_kwargs: set[str]) -> dict[str, str]:
        return {
            k: KWARGS[k](world.b if k in b_kwargs else world.a, route.pattern) for k in route.kwargs
        }

    combos = [("all of B", side_values(set(route.kwargs)))]
    if len(route.kwargs) > 1 and not route.is_admin:
        combos += [(f"{k} of B, the rest of A", side_values({k})) for k in route.kwargs]
    return combos


def request(client: Client, method: str, url: str):
    if method == "get":
        return client.get(url)
    return getattr(client, method)(url, data=b"", content_type="application/json")


def responses(client: Client, route: Route, url: str):
    """GET, then the unsafe methods the view declares; POST when GET is not allowed."""
    answered = []
    first = request(client, "get", url)
    answered.append(("GET", first))
    methods = route.view_methods()
    if first.status_code == 405 and "post" not in methods:
        methods = ["post", *methods]
    for method in methods:
        answered.append((method.upper(), request(client, method, url)))
    return answered


def _goes_to_login(response) -> bool:
    location = response.get("Location", "")
    return location.startswith(("/accounts/login/", "/admin/login/", settings.LOGIN_URL))


def problems_of(route: Route, who: str, label: str, url: str, method: str, response) -> list[str]:
    status = response.status_code
    where = f"{who} {method} {url} ({label}) -> {status}"
    if status >= 500:
        return [f"{where}: server error"]
    if route.is_admin:
        # Staff only: A (not staff) and anonymous visitors are sent to the admin login.
        if 200 <= status < 300 or (300 <= status < 400 and not _goes_to_login(response)):
            return [f"{where}: the admin answered a non-staff user"]
        return []
    if route.name in PUBLIC_ROUTES:
        return []  # checked for B's data in test_routes_with_kwargs
    if route.name in CAPABILITY_ROUTES:
        return []  # checked separately below
    if status == 405:
        return []  # the method is refused before any object is looked at; the others are tried
    signed_in = who == "user A" or (who == "token A" and route.is_api)
    if signed_in:
        # Another regency's object is a 404: never 403 (that would confirm it exists), never 2xx.
        return [] if status == 404 else [f"{where}: expected 404"]
    if status in (401, 403, 404) or (300 <= status < 400 and _goes_to_login(response)):
        return []
    return [f"{where}: expected the login page, 401 or 404"]


def body_of(response) -> str:
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    return content.decode("utf-8", errors="replace")


# --- the tests -------------------------------------------------------------------


def test_every_include_is_walked():
    texts = {r.text for r in ALL_ROUTES}
    for expected in ("api/v1/auth/token/", "api/v1/regencies/", "api/v1/schema/", "accounts/login/",
                     "admin/", "r/<slug:regency_slug>/"):
        assert expected in texts, expected
    assert any(r.is_admin and r.kwargs for r in ALL_ROUTES)
    assert any(r.is_api and r.kwargs for r in ALL_ROUTES)
    assert any(isinstance(r.parts[-1], RegexPattern) and r.kwargs for r in ALL_ROUTES)


@pytest.mark.parametrize("route", WITH_KWARGS, ids=[r.text for r in WITH_KWARGS])
def test_routes_with_kwargs_refuse_objects_of_another_regency(route: Route, world: World):
    problems: list[str] = []
    combos = values_for(route, world)
    for label, values in combos:
        url = route.url(values)
        match = resolve(url)
        assert match.func == route.pattern.callback and match.kwargs.keys() >= set(values), (
            f"the test built {url} for {route.text}, which resolves elsewhere"
        )
        for who, client in clients(world).items():
            for method, response in responses(client, route, url):
                problems += problems_of(route, who, label, url, method, response)
                if route.name in PUBLIC_ROUTES and method == "GET":
                    body = body_of(response)
                    problems += [
                        f"{who} GET {url}: shows B's {marker!r}"
                        for marker in world.markers_of_b() if marker in body
                    ]

    if route.name in CAPABILITY_ROUTES:
        kwarg = CAPABILITY_ROUTES[route.name]
        values = {k: KWARGS[k](world.b, route.pattern) for k in route.kwargs}
        values[kwarg] = values[kwarg][:-4] + "XXXX"
        forged = route.url(values)
        for who, client in clients(world).items():
            for method, response in responses(client, route, forged):
                if response.status_code < 300 or response.status_code >= 500:
                    problems.append(f"{who} {method} {forged} (forged {kwarg}) -> {response.status_code}")
        if regency_access_for(user=world.a.member, regency=world.b.regency) is not None:
            problems.append(f"{route.text}: A gained access to B's regency through {kwarg} of B")

    # Positive control: with A's own objects, A is not refused (so the 404s above mean isolation).
    if not route.is_admin and route.name not in PUBLIC_ROUTES | set(CAPABILITY_ROUTES):
        own = {k: KWARGS[k](world.a, route.pattern) for k in route.kwargs}
        member = clients(world)["user A"]
        first = responses(member, route, route.url(own))
        method, response = next(((m, r) for m, r in first if r.status_code != 405), first[0])
        if response.status_code in (404,) or response.status_code >= 500:
            problems.append(
                f"positive control: user A {method} {route.url(own)} (A's own objects) -> "
                f"{response.status_code}; the route or the test's objects are broken"
            )

    assert not problems, f"{route.text} ({route.name}):\n  " + "\n  ".join(problems)


GETTABLE = [r for r in WITHOUT_KWARGS if not r.is_admin]


@pytest.mark.parametrize("route", GETTABLE, ids=[r.text or "/" for r in GETTABLE])
def test_pages_without_kwargs_show_nothing_of_another_regency(route: Route, world: World):
    problems = []
    for who, client in clients(world).items():
        response = client.get(route.url({}))
        if response.status_code >= 500:
            problems.append(f"{who} GET {route.url({})} -> {response.status_code}")
        body = body_of(response)
        problems += [f"{who} GET {route.url({})} shows B's {m!r}" for m in world.markers_of_b() if m in body]
    assert not problems, "\n".join(problems)


def test_the_regency_list_api_does_not_list_another_regency(world: World):
    for who in ("user A", "token A"):
        response = clients(world)[who].get("/api/v1/regencies/")
        assert response.status_code == 200
        slugs = [r["slug"] for r in response.json()["results"]]
        assert slugs == ["luwu-utara"], who
