"""Static files in production: WhiteNoise's compressed manifest storage (gzip/brotli copies,
content-hashed names), and `collectstatic` with it succeeds on the repository's files, with every
`{% static %}` of the templates resolving to a hashed, compressed file. The tests themselves keep
the plain storage (no collectstatic before a test run). Also the favicon."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management import call_command
from django.test import Client, override_settings

MANIFEST = "whitenoise.storage.CompressedManifestStaticFilesStorage"
PROD_ENV = {
    "DJANGO_SECRET_KEY": "x7Qk2pL9vR4tY8wZ1aB5cD3eF6gH0jKmN2pQ4rS6tU8vW0xY-static-check",
    "DJANGO_ALLOWED_HOSTS": "satu.example.go.id",
    "DATABASE_URL": "postgres://satu:secret@db.example.go.id:5432/satu",
    "REDIS_URL": "redis://redis.example.go.id:6379/0",
}
TEMPLATES = Path(settings.BASE_DIR) / "templates"
_STATIC_TAG = re.compile(r"""\{%\s*static\s+["']([^"']+)["']""")


def template_static_paths() -> set[str]:
    return {m for t in TEMPLATES.rglob("*.html") for m in _STATIC_TAG.findall(t.read_text(encoding="utf-8"))}


def test_prod_selects_the_manifest_storage_and_leaves_other_settings_alone(monkeypatch):
    for key, value in PROD_ENV.items():
        monkeypatch.setenv(key, value)
    spec = importlib.util.find_spec("config.settings.prod")
    assert spec is not None and spec.loader is not None
    prod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(prod)

    assert prod.STORAGES["staticfiles"]["BACKEND"] == MANIFEST
    # The settings of this process (test) were not changed by loading prod's.
    assert settings.STORAGES["staticfiles"]["BACKEND"] == "django.contrib.staticfiles.storage.StaticFilesStorage"


def test_the_templates_name_static_files_that_exist():
    paths = template_static_paths()
    assert {"css/satu.css", "favicon.svg", "favicon.ico"} <= paths
    assert not any("chart" in p for p in paths)


@pytest.mark.django_db
def test_collectstatic_with_the_prod_storage_hashes_and_compresses_every_referenced_file(tmp_path):
    storages = {**settings.STORAGES, "staticfiles": {"BACKEND": MANIFEST}}
    with override_settings(STORAGES=storages, STATIC_ROOT=tmp_path):
        call_command("collectstatic", "--noinput", verbosity=0)
        assert (tmp_path / "staticfiles.json").exists()
        for name in sorted(template_static_paths()):
            url = staticfiles_storage.url(name)  # raises for a file missing from the manifest
            hashed = url.removeprefix(settings.STATIC_URL)
            assert hashed != name and re.search(r"\.[0-9a-f]{12}\.", hashed), (name, url)
            assert (tmp_path / hashed).exists(), hashed
            if not name.endswith(".ico"):  # WhiteNoise leaves already-compressed formats alone
                assert (tmp_path / f"{hashed}.gz").exists(), hashed

        page = Client().get("/accounts/login/")
        assert page.status_code == 200
        assert staticfiles_storage.url("css/satu.css") in page.content.decode()
        favicon = Client().get("/favicon.ico")
        assert favicon.status_code == 302 and favicon["Location"] == staticfiles_storage.url("favicon.ico")


def test_favicon_ico_redirects_to_the_static_file(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == f"{settings.STATIC_URL}favicon.ico"
    assert "max-age" in response["Cache-Control"]


def test_the_favicons_are_small_and_linked_from_every_page(client, settings):
    settings.WHITENOISE_USE_FINDERS = True
    for name, content_type in (("favicon.ico", "image/"), ("favicon.svg", "image/svg+xml")):
        response = Client().get(f"{settings.STATIC_URL}{name}")
        assert response.status_code == 200, name
        assert response["Content-Type"].startswith(content_type)
        assert len(b"".join(response.streaming_content)) < 2048, name
    html = (TEMPLATES / "base.html").read_text(encoding="utf-8")
    assert """<link rel="icon" href="{% static 'favicon.svg' %}" type="image/svg+xml">""" in html
