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


@pytest.fixture
def load_prod_afresh():
    """config.settings.prod with config.settings.base executed again under the current environment
    (prod reads base's values through `import *`); base is executed once more afterwards."""
    import config.settings.base

    def load():
        importlib.reload(config.settings.base)
        return load_settings("prod")

    before = dict(os.environ)
    yield load
    with pytest.MonkeyPatch.context() as environ:  # the environment base was first executed in
        for key in set(os.environ) - set(before):
            environ.delenv(key)
        for key, value in before.items():
            environ.setenv(key, value)
        importlib.reload(config.settings.base)


def test_prod_uploads_go_to_object_storage_when_a_bucket_is_named(monkeypatch, load_prod_afresh):
    for key, value in PROD_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_STORAGE_BUCKET_NAME", "satu-media")
    monkeypatch.setenv("AWS_S3_ENDPOINT_URL", "http://minio:9000")

    prod = load_prod_afresh()

    default = prod.STORAGES["default"]
    assert default["BACKEND"] == "storages.backends.s3.S3Storage"
    assert default["OPTIONS"]["bucket_name"] == "satu-media"
    assert default["OPTIONS"]["endpoint_url"] == "http://minio:9000"
    # Private and never overwritten: a second upload of the same name gets a name of its own.
    assert default["OPTIONS"]["default_acl"] is None and default["OPTIONS"]["file_overwrite"] is False


def test_without_a_bucket_uploads_stay_on_this_machine(monkeypatch, load_prod_afresh):
    for key, value in PROD_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_STORAGE_BUCKET_NAME", raising=False)

    prod = load_prod_afresh()

    assert prod.STORAGES["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"


def test_sessions_are_in_the_database_read_through_redis(monkeypatch, load_prod_afresh):
    for key, value in PROD_ENV.items():
        monkeypatch.setenv(key, value)

    prod = load_prod_afresh()

    assert prod.SESSION_ENGINE == "django.contrib.sessions.backends.cached_db"
    assert prod.CACHES[prod.SESSION_CACHE_ALIAS]["BACKEND"] == "core.cache.SessionRedisCache"
    assert prod.CACHES[prod.SESSION_CACHE_ALIAS]["LOCATION"] == "redis://redis.example.go.id:6379/0"


def test_a_replica_url_adds_the_replica_database(monkeypatch, load_prod_afresh):
    for key, value in PROD_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DATABASE_REPLICA_URL", "postgres://satu_ro:secret@replica.example.go.id:5432/satu")

    prod = load_prod_afresh()

    assert prod.DATABASES["replica"]["HOST"] == "replica.example.go.id"
    assert prod.DATABASES["default"]["HOST"] == "db.example.go.id"
    assert prod.DATABASE_ROUTERS == ["core.db_router.ReplicaRouter"]

    monkeypatch.delenv("DATABASE_REPLICA_URL")
    assert "replica" not in load_prod_afresh().DATABASES
