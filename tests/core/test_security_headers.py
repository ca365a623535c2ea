"""Browser security headers: a strict Content-Security-Policy on every response (and nothing in
the templates that it would block), `Cache-Control: no-store` on whatever may carry personal
data, but not on static files nor on the public campaign page seen by an anonymous visitor."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from donations.models import Audience, Campaign, CampaignStatus, Kind
from tests.factories import api_client_for

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)
TEMPLATES = Path(settings.BASE_DIR) / "templates"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def assert_no_store(response):
    assert response["Cache-Control"] == "no-store", (response.request["PATH_INFO"], response.headers)
    assert response["Pragma"] == "no-cache"


def assert_cacheable(response):
    assert "no-store" not in response.get("Cache-Control", ""), response.request["PATH_INFO"]
    assert "Pragma" not in response


@pytest.fixture
def campaign(regency_a):
    return Campaign.objects.create(regency=regency_a, slug="lutra-peduli", title="Luwu Utara Peduli",
                                   audience=Audience.PUBLIC, kind=Kind.BOTH, status=CampaignStatus.ACTIVE)


@pytest.fixture
def static_client(settings):
    """A client whose WhiteNoise serves the files of static/ and node_modules (as in `make run`)."""
    settings.WHITENOISE_USE_FINDERS = True
    return Client()


# --- Content-Security-Policy ---------------------------------------------------------------


def test_the_policy_is_strict():
    assert settings.CONTENT_SECURITY_POLICY == POLICY
    directives = dict(d.strip().split(" ", 1) for d in POLICY.split(";"))
    for directive in ("script-src", "style-src", "default-src"):
        assert "unsafe" not in directives[directive] and "*" not in directives[directive]


def test_csp_on_pages_api_errors_and_static_files(db, admin_a, regency_a, campaign, static_client):
    admin = signed_in(admin_a)
    responses = {
        "home": Client().get("/"),
        "login": Client().get("/accounts/login/"),
        "campaign (anonymous)": Client().get("/c/lutra-peduli/"),
        "regency page": admin.get(f"/r/{regency_a.slug}/"),
        "participant list": admin.get(f"/r/{regency_a.slug}/participants/"),
        "API": api_client_for(admin_a).get("/api/v1/regencies/"),
        "API refused": Client().get("/api/v1/regencies/"),
        "404": Client().get("/no-such-page/"),
        "admin login": Client().get("/admin/login/"),
        "API docs": Client().get("/api/v1/docs/"),
        "static": static_client.get("/static/css/satu.css"),
    }
    for name, response in responses.items():
        assert response["Content-Security-Policy"] == POLICY, name
    assert responses["regency page"].status_code == 200
    assert responses["API"].status_code == 200
    assert responses["static"].status_code == 200


def test_the_api_docs_load_their_start_up_script_from_the_app(db):
    """drf-spectacular's Swagger page would carry an inline script; the split view serves it."""
    page = Client().get("/api/v1/docs/")
    html = page.content.decode()
    script_urls = re.findall(r'<script src="([^"]+)"', html)
    assert "<style" not in html and not re.search(r"<script(?![^>]*\bsrc=)", html)

    start_up = Client().get(next(u for u in script_urls if "script" in u.split("?", 1)[-1]).replace("&amp;", "&"))

    assert start_up.status_code == 200
    assert start_up["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in start_up.content


# --- nothing in the templates that the policy would block -----------------------------------

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
HANDLER_ATTRIBUTE = re.compile(r"""\s(on[a-z]+|hx-on[:\-][\w:\-.]*)\s*=\s*["']""", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"""\sstyle\s*=\s*["']""", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"""(href|src|action)\s*=\s*["']\s*javascript:""", re.IGNORECASE)
DATA_SCRIPT = re.compile(r"""\btype\s*=\s*["'](application/(ld\+)?json)["']""", re.IGNORECASE)


def template_problems(text: str) -> list[str]:
    problems = []
    for match in SCRIPT_TAG.finditer(text):
        attributes = match.group(1)
        if "src=" not in attributes and not DATA_SCRIPT.search(attributes):
            problems.append(f"inline script: {match.group(0)}")
    problems += [f"event handler attribute: {m.group(1)}" for m in HANDLER_ATTRIBUTE.finditer(text)]
    problems += ["style attribute" for _ in STYLE_ATTRIBUTE.finditer(text)]
    problems += ["<style> element" for _ in STYLE_ELEMENT.finditer(text)]
    problems += ["javascript: URL" for _ in JAVASCRIPT_URL.finditer(text)]
    return problems


def test_the_template_scan_finds_what_the_policy_blocks():
    assert template_problems('<script src="/static/js/x.js" defer></script>') == []
    assert template_problems('<script type="application/json" id="d">{}</script>') == []
    assert template_problems("<script>alert(1)</script>")
    assert template_problems('<button onclick="go()">')
    assert template_problems('<form hx-on::after-request="x()">')
    assert template_problems('<div style="width: 5%">')
    assert template_problems("<style>p {}</style>")
    assert template_problems('<a href="javascript:void(0)">')
    assert template_problems('<div class="x" data-onclick="y">') == []


def test_no_template_has_inline_script_or_style():
    """Every template of the project (templates/ and each app's templates/): scripts and styles
    only from static files, so the strict policy blocks nothing the app itself sends."""
    folders = [TEMPLATES, *Path(settings.BASE_DIR).glob("*/templates")]
    found = {}
    for folder in folders:
        for path in folder.rglob("*.html"):
            if "node_modules" in path.parts or ".venv" in path.parts:
                continue
            problems = template_problems(path.read_text(encoding="utf-8"))
            if problems:
                found[str(path.relative_to(settings.BASE_DIR))] = problems
    assert not found, found
    assert (TEMPLATES / "base.html").exists()


# --- Cache-Control: no-store --------------------------------------------------------------


def test_no_store_on_every_page_of_a_signed_in_user(db, admin_a, regency_a, campaign):
    admin = signed_in(admin_a)
    for path in ("/", f"/r/{regency_a.slug}/", f"/r/{regency_a.slug}/participants/", "/c/lutra-peduli/",
                 "/no-such-page/"):
        assert_no_store(admin.get(path))


def test_no_store_on_personal_paths_whoever_asks(db, regency_a, branch_a):
    anonymous = Client()
    for path in (f"/r/{regency_a.slug}/", f"/branches/{branch_a.code}/imports/", "/me/",
                 "/accounts/login/", "/accounts/password/reset/", "/admin/login/"):
        assert_no_store(anonymous.get(path))


def test_no_store_on_every_api_response(db, admin_a):
    assert_no_store(api_client_for(admin_a).get("/api/v1/regencies/"))
    assert_no_store(Client().get("/api/v1/regencies/"))  # 401/403 too
    assert_no_store(Client().post("/api/v1/auth/token/", {"email": "x@example.test", "password": "x"}))


def test_the_public_campaign_page_and_static_files_stay_cacheable(db, campaign, static_client):
    page = Client().get("/c/lutra-peduli/")
    assert page.status_code == 200
    assert_cacheable(page)
    assert_cacheable(Client().get("/"))

    for path in ("/static/css/satu.css", "/static/js/file-size.js", "/static/vendor/htmx.org/dist/htmx.min.js"):
        response = static_client.get(path)
        assert response.status_code == 200, path
        assert_cacheable(response)


def test_a_signed_in_donor_gets_no_store_on_the_campaign_page(db, campaign):
    from tests.factories import UserFactory

    donor = UserFactory(email="donatur@example.test")
    response = signed_in(donor).get("/c/lutra-peduli/")
    assert response.status_code == 200
    assert_no_store(response)
