"""Settings of the load benchmark's gunicorn (`bench/load.py`): production's, on loopback.

Everything of `config.settings.prod` (DEBUG off, whitenoise's compressed manifest storage,
persistent connections, the Redis cache), except what a plain-HTTP server on 127.0.0.1
cannot have: no redirect to HTTPS, and the static files collected into a scratch directory
(`BENCH_STATIC_ROOT`) instead of the checkout's `var/static`. The required secrets come from
the environment the benchmark sets (`DJANGO_SECRET_KEY`, `DJANGO_ALLOWED_HOSTS`, `REDIS_URL`).
"""

from pathlib import Path

from config.settings.prod import *  # noqa: F403
from config.settings.prod import env

SECURE_SSL_REDIRECT = False
STATIC_ROOT = Path(env("BENCH_STATIC_ROOT"))
