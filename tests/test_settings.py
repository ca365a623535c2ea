"""Settings: prod passes `check --deploy` and has no secret defaults; dev and test import."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

ROOT = Path(__file__).resolve().parent.parent
PROD_ENV = {
    "DJANGO_SECRET_KEY": "x7Qk2pL9vR4tY8wZ1aB5cD3eF6gH0jKmN2pQ4rS6tU8vW0xY-prod-check",
    "DJANGO_ALLOWED_HOSTS": "satu.example.go.id",
    "DATABASE_URL": "postgres://satu:secret@db.example.go.id:5432/satu",
    "REDIS_URL": "redis://redis.example.go.id:6379/0",
}


def load_settings(name: str):
    """Execute config/settings/<name>.py afresh (not from sys.modules) and return the module."""
    spec = importlib.util.find_spec(f"config.settings.{name}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_prod_passes_check_deploy_at_warning_level():
    env = {**os.environ, **PROD_ENV, "DJANGO_SETTINGS_MODULE": "config.settings.prod"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", sorted(PROD_ENV))
def test_prod_without_a_required_variable_fails_naming_it(monkeypatch, missing):
    for key, value in PROD_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv(missing)

    with pytest.raises(ImproperlyConfigured, match=missing):
        load_settings("prod")


def test_prod_settings_are_strict(monkeypatch):
    for key, value in PROD_ENV.items():
        monkeypatch.setenv(key, value)

    prod = load_settings("prod")

    assert prod.DEBUG is False
    assert prod.SECRET_KEY.endswith("-prod-check")
    assert prod.ALLOWED_HOSTS == ["satu.example.go.id"]
    assert prod.DATABASES["default"]["HOST"] == "db.example.go.id"
    assert prod.CELERY_BROKER_URL == "redis://redis.example.go.id:6379/0"
    assert prod.ENABLE_DEMO_DATA is False
    assert prod.SESSION_COOKIE_SECURE and prod.CSRF_COOKIE_SECURE


def test_dev_settings_import_with_safe_local_defaults(monkeypatch):
    monkeypatch.delenv("DJANGO_SECRET_KEY", raising=False)
    monkeypatch.delenv("DJANGO_DEBUG", raising=False)

    dev = load_settings("dev")

    assert dev.DEBUG is True
    assert dev.SECRET_KEY
    assert dev.ENABLE_DEMO_DATA is True
    assert dev.EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend"


def test_test_settings_import():
    test = load_settings("test")

    assert test.DEBUG is False
    assert test.CELERY_TASK_ALWAYS_EAGER is True
    assert test.ENABLE_DEMO_DATA is True


def test_this_run_uses_the_test_settings():
    from django.conf import settings

    assert settings.SETTINGS_MODULE == "config.settings.test"
    assert settings.CELERY_TASK_ALWAYS_EAGER is True
    assert "bench" in settings.INSTALLED_APPS


def test_make_test_runs_the_test_settings_whatever_the_shell_exports():
    from scripts.test import pytest_env

    shell = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.dev"}
    env = pytest_env({"DATABASE_URL": os.environ.get("DATABASE_URL", "")}, environ=shell)
    assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.test"

    # pytest-django prefers the environment variable to pyproject.toml: the child really runs
    # the test settings (the test above fails under any other module).
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/test_settings.py::test_this_run_uses_the_test_settings"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_make_run_runs_the_dev_settings_unless_satu_settings_names_another():
    from scripts.run import run_settings

    assert run_settings({"DJANGO_SETTINGS_MODULE": "config.settings.test"}) == "config.settings.dev"
    assert run_settings({}) == "config.settings.dev"
    assert run_settings({"SATU_SETTINGS": "config.settings.prod"}) == "config.settings.prod"


def test_prod_has_no_benchmark_app(monkeypatch):
    for key, value in PROD_ENV.items():
        monkeypatch.setenv(key, value)

    assert "bench" not in load_settings("prod").INSTALLED_APPS
    assert "bench" in load_settings("dev").INSTALLED_APPS
