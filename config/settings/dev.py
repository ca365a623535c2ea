"""Local development: `make run`. Never used in production."""

# `make run` writes the URLs of the embedded PostgreSQL and Redis it started to
# var/services.env; read it (only for variables not set) before base reads the env,
# so that `manage.py ...` in another terminal uses the same services.
from pathlib import Path

from scripts.services import load_env_file

load_env_file(Path(__file__).resolve().parents[2] / "var" / "services.env")

from .base import *  # noqa: E402, F403
from .base import env  # noqa: E402

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="dev-only-not-secret-satu-untuk-satu")
EMAIL_BACKEND = env(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
ENABLE_DEMO_DATA = True
# The benchmark commands (`manage.py bench_*`); never in production.
INSTALLED_APPS = [*INSTALLED_APPS, "bench"]  # noqa: F405
# Every demo user except the donor has TOTP with this base32 secret.
DEMO_TOTP_SECRET = env("DEMO_TOTP_SECRET", default="JBSWY3DPEHPK3PXP")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# Static files come straight from the apps and node_modules (no collectstatic in dev/test).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
