"""pytest: `make test`. Real PostgreSQL and Redis, no e-mail sent, fast hashing."""

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = "test-only-not-secret"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ENABLE_DEMO_DATA = True
# The benchmark commands (`manage.py bench_*`); never in production.
INSTALLED_APPS = [*INSTALLED_APPS, "bench"]  # noqa: F405
# Every demo user except the donor has TOTP with this base32 secret.
DEMO_TOTP_SECRET = env("DEMO_TOTP_SECRET", default="JBSWY3DPEHPK3PXP")
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default="/tmp/satu-test-media")  # noqa: S108
ACCOUNT_RATE_LIMITS = False
# Sessions: `cached_db` as everywhere, with nothing in front of the database (a per-process
# cache would outlive the rollback of each test); tests/core/test_sessions.py runs them through
# Redis across two processes.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "sessions": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
}
# The read replica is exercised by tests/core/test_replica.py, on a database of its own; the
# rest of the tests read `default` whatever the shell exports.
DATABASES.pop("replica", None)  # noqa: F405
# Uploads on this machine's disk; tests/core/test_storage_s3.py runs them through an S3 server.
STORAGES["default"] = {"BACKEND": "django.core.files.storage.FileSystemStorage"}  # noqa: F405

# Static files come straight from the apps and node_modules (no collectstatic in dev/test).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
