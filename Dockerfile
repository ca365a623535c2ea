# Production image: web (gunicorn), Celery worker and beat all run from it (docker-compose.yml).

# --- front-end libraries from the npm registry (package-lock.json), never a CDN -------
FROM node:20-bookworm-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

# --- the app -----------------------------------------------------------------------
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.prod
WORKDIR /app

RUN apt-get update \
 && apt-get install --yes --no-install-recommends gettext \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system satu && useradd --system --gid satu --home-dir /app satu

# Dependencies first (pinned in pyproject.toml), so code changes reuse this layer.
COPY pyproject.toml ./
RUN pip install .

COPY --from=assets /app/node_modules ./node_modules
COPY . .

# collectstatic needs the prod settings to load; these placeholders exist only at build time.
RUN export DJANGO_SECRET_KEY=collectstatic-build-only \
        DJANGO_ALLOWED_HOSTS=localhost \
        DATABASE_URL=postgres://build@localhost/build \
        REDIS_URL=redis://localhost:6379/0 \
 && python manage.py collectstatic --noinput --verbosity 0 \
 && python manage.py compilemessages --verbosity 0 \
 && mkdir -p /app/var/media \
 && chown -R satu:satu /app/var

USER satu
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
