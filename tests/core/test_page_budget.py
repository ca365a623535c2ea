"""Page weight: every main page of every role, on the demo data, stays within the budget
(HTML at most 30 KB and HTML plus the static files it references at most 150 KB, gzip-compressed
as WhiteNoise serves them). The table of weights is printed (`pytest -s`), and written to the
file named by SATU_PAGE_WEIGHTS when that is set."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client

from tests.page_budget import (
    HTML_BUDGET,
    TOTAL_BUDGET,
    PageWeight,
    gzipped_size,
    weigh,
    weights_table,
)

_ASSET = re.compile(
    r"""<(?:script[^>]*\ssrc|link[^>]*\shref|img[^>]*\ssrc)=["']([^"']+)["']""", re.IGNORECASE
)


def referenced_assets(html: str) -> list[str]:
    """The static files a page loads: scripts, style sheets, icons and images under STATIC_URL."""
    urls = dict.fromkeys(url for url in _ASSET.findall(html) if url.startswith(settings.STATIC_URL))
    return list(urls)


def asset_bytes(url: str) -> bytes:
    path = url.split("?", 1)[0][len(settings.STATIC_URL):]
    found = finders.find(path)
    assert found, f"{url}: no such static file"
    return Path(found).read_bytes()


def page_weight(client: Client, url: str, *, label: str | None = None) -> PageWeight:
    """The page's HTML (raw and gzipped) and the gzipped total with every static file it references."""
    response = client.get(url)
    assert response.status_code == 200, f"{label or url}: {response.status_code}"
    html = response.content
    return weigh(label or url, html, ((a, asset_bytes(a)) for a in referenced_assets(html.decode())))


# --- the helper itself ---------------------------------------------------------------------------


def test_the_assets_of_a_page_are_its_scripts_styles_and_images():
    html = (
        '<link rel="stylesheet" href="/static/css/satu.css"><link rel="icon" href="/static/favicon.svg">'
        '<script src="/static/vendor/htmx.org/dist/htmx.min.js" defer></script>'
        '<img alt="" src="/static/css/satu.css"><a href="/static/not-an-asset.css">x</a>'
        '<script src="https://example.test/x.js"></script>'
    )
    assert referenced_assets(html) == [
        "/static/css/satu.css", "/static/favicon.svg", "/static/vendor/htmx.org/dist/htmx.min.js",
    ]
    assert gzipped_size(b"a" * 10_000) < 100


@pytest.mark.django_db
def test_the_weight_counts_the_html_and_each_static_file_once(client):
    weight = page_weight(client, "/accounts/login/")
    assert "/static/css/satu.css" in weight.assets
    css = gzipped_size(asset_bytes("/static/css/satu.css"))
    assert weight.html_gz < weight.html_raw
    assert weight.total_gz >= weight.html_gz + css


# --- the walk ---------------------------------------------------------------------------------


def role_pages() -> dict[str, list[str]]:
    """Each demo role's main pages (demo data: reporting.demo), with real objects filled in."""
    from assessments.models import Assessment, Status
    from donations.models import Pledge
    from participants.models import ArrearsImport, Participant
    from regencies.models import Regency

    lutra = Regency.objects.get(slug="luwu-utara")
    participant = Participant.objects.for_regency(lutra).order_by("pk").first()
    arrears_import = ArrearsImport.objects.filter(branch__code="palopo").order_by("-pk").first()
    assessments = Assessment.objects.for_regency(lutra)
    submitted = assessments.filter(status=Status.SUBMITTED).order_by("pk").first()
    decided = assessments.filter(status=Status.APPROVED).order_by("pk").first()
    draft = submitted or decided
    donor_pledge = Pledge.all_regencies.filter(donor__email="donatur@demo.test").order_by("pk").first()
    assert participant and arrears_import and draft and decided and donor_pledge

    r = "/r/luwu-utara"
    return {
        "anonymous": ["/", "/accounts/login/", "/accounts/signup/", "/c/lutra-peduli/"],
        "bpjs.palopo@demo.test": ["/", "/branches/palopo/", "/branches/palopo/imports/",
                                  f"/branches/palopo/imports/{arrears_import.pk}/"],
        "admin.lutra@demo.test": ["/", f"{r}/", f"{r}/participants/",
                                  f"{r}/participants/{participant.public_id}/", f"{r}/assessments/",
                                  f"{r}/campaigns/", f"{r}/campaigns/lutra-peduli/", f"{r}/reconciliation/",
                                  f"{r}/members/", f"{r}/settings/"],
        "staf.lutra@demo.test": ["/", "/c/lutra-asn/", "/c/lutra-asn/participants/", "/me/"],
        "asesor.lutra@demo.test": ["/", f"{r}/assessments/", f"{r}/assessments/{draft.pk}/",
                                   f"{r}/participants/"],
        "supervisor.lutra@demo.test": ["/", f"{r}/assessments/", f"{r}/assessments/{decided.pk}/"],
        "bendahara.lutra@demo.test": ["/", f"{r}/money/", f"{r}/money/statements/"],
        "donatur@demo.test": ["/", "/c/lutra-peduli/", "/c/lutra-peduli/participants/", "/me/",
                              f"/me/pledges/{donor_pledge.public_id}/"],
        "operator@demo.test": ["/", "/national/"],
    }


@pytest.mark.django_db
def test_every_main_page_of_every_role_is_within_the_budget():
    from accounts.models import User
    from reporting.demo import demo_seed

    demo_seed(participants=300)
    weights: list[PageWeight] = []
    for role, urls in role_pages().items():
        client = Client()
        if role != "anonymous":
            client.force_login(User.objects.get(email=role))
        for url in urls:
            label = re.sub(r"/(?:[0-9a-f-]{36}|\d+)/", "/<id>/", url)
            weights.append(page_weight(client, url, label=f"{role.split('@')[0]} {label}"))
    table = weights_table(weights)
    print("\n" + table)
    if os.environ.get("SATU_PAGE_WEIGHTS"):
        Path(os.environ["SATU_PAGE_WEIGHTS"]).write_text(table + "\n")
    over = [w.page for w in weights if not w.within_budget]
    assert not over, f"over the budget (HTML {HTML_BUDGET} B, total {TOTAL_BUDGET} B gzip):\n{table}"
