"""Settings shared by every environment; values come from the environment (12-factor).

`dev`, `test` and `prod` import this module and change only what differs.
"""

from pathlib import Path
from typing import Any

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

# --- core -------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
SITE_ID = 1

DJANGO_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
]
THIRD_PARTY_APPS = [
    "rest_framework",
    "drf_spectacular",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_htmx",
]
LOCAL_APPS = [
    "core",
    "accounts",
    "regencies",
    "participants",
    "assessments",
    "donations",
    "reporting",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # CONTENT_SECURITY_POLICY below on every response, static files included.
    "core.middleware_security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Cache-Control: no-store on what may carry personal data (NO_STORE_PATH_PREFIXES below).
    "core.middleware_security.NoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A Redis/broker outage: a 503 page or {"detail", "code": "service_unavailable"}, never a 500.
    "core.middleware.BrokerOutageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Every role except community donors must enrol MFA before any other page.
    "accounts.middleware.MfaRequiredMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "regencies.middleware.RegencyMiddleware",
]

# Django's form renderer with <select> written in Python (core/form_renderer.py).
FORM_RENDERER = "core.form_renderer.FormRenderer"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "regencies.context_processors.navigation",
            ],
            "builtins": ["core.templatetags.satu"],
        },
    }
]

# --- browser security headers (core.middleware_security) --------------------
# Scripts and styles only from the app: no inline <script>, no on*= handlers, no style="" (a test
# scans templates/; the browser tests fail on any CSP violation). htmx and Swagger UI come from
# node_modules through the app; data: images are Swagger UI's and allauth's TOTP QR code.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)
# Responses under these paths get Cache-Control: no-store whoever asks; so does every response
# to a signed-in user. The public campaign page (/c/...) for an anonymous visitor and static
# files stay cacheable.
NO_STORE_PATH_PREFIXES = [
    "/api/", "/r/", "/branches/", "/national/", "/me/", "/accounts/", "/invitations/", "/admin/",
]

# --- data -------------------------------------------------------------------
# DATABASE_URL / REDIS_URL are set by the environment, or by `make run` / `make test`
# (scripts/services.py) which start an embedded PostgreSQL and Redis under var/.
DATABASES = {"default": env.db("DATABASE_URL", default="postgres:///satu")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=0)
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# An optional streaming replica of `default` (PostgreSQL hot standby): the dashboards and the
# exports read from it (core.db_router); every write, every read inside a
# transaction and everything else stay on `default`. Unset: everything on `default`.
DATABASE_REPLICA_URL = env("DATABASE_REPLICA_URL", default="")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = env.db("DATABASE_REPLICA_URL")
    DATABASES["replica"]["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
    # The test database of `replica` is `default`'s: pytest-django creates no second one.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["core.db_router.ReplicaRouter"]
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")

# The cache holds only what can be rebuilt (login rate limits, API throttle counts); when Redis
# is away it falls back to local memory (core.cache), so login never needs Redis.
# Sessions are in the database, read through Redis (`cached_db`, the `sessions` alias): no web
# process keeps anything another one needs, and a Redis outage logs nobody out (core.cache
# .SessionRedisCache then reads the database and drops Redis's copies when it is back).
CACHES = {
    "default": {
        "BACKEND": "core.cache.FailoverRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "satu",
    },
    "sessions": {
        "BACKEND": "core.cache.SessionRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "satu-session",
    },
}
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_CACHE_ALIAS = "sessions"

# --- auth -------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_FORMS = {
    "signup": "accounts.allauth_forms.SignupForm",
    "change_password": "accounts.allauth_forms.ChangePasswordForm",
    "set_password": "accounts.allauth_forms.SetPasswordForm",
    "reset_password_from_key": "accounts.allauth_forms.ResetPasswordKeyForm",
}
# Per client address ("ip": core.clientip, DJANGO_NUM_PROXIES) and per account ("key": the
# e-mail address). Failed logins count the web form, the admin (which logs in through allauth)
# and POST /api/v1/auth/token/ together: ten failures from one client do not lock out another,
# five for one account lock that account wherever the attempts come from, and a locked account
# gets no API token either. `signup_email` is ours (accounts.adapters).
ACCOUNT_RATE_LIMITS: dict[str, str] | bool = {  # False (the tests) turns them off
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "reset_password": "10/m/ip,3/h/key",
    "reset_password_from_key": "20/m/ip",
    "signup": "20/h/ip",
    "signup_email": "3/h/key",
}
# The client address: the N-th entry from the right of X-Forwarded-For behind N reverse proxies
# we run (docker-compose.yml: one, Caddy); 0 = the app is reached directly and the header is
# ignored. The same for allauth (accounts.adapters) and DRF throttles (core.api).
NUM_PROXIES = env.int("DJANGO_NUM_PROXIES", default=0)
ALLAUTH_TRUSTED_PROXY_COUNT = NUM_PROXIES
# API tokens (accounts.tokens): valid this many days from their creation.
API_TOKEN_DAYS = env.int("API_TOKEN_DAYS", default=30)
# MFA (allauth.mfa; accounts.mfa): TOTP (RFC 6238: SHA-1, 30 s, 6 digits) with recovery codes.
# Required for every role except community donors (accounts.middleware.MfaRequiredMiddleware).
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_PERIOD = 30
MFA_TOTP_DIGITS = 6
MFA_TOTP_ISSUER = "Satu untuk Satu"
MFA_RECOVERY_CODE_COUNT = 10

# --- i18n -------------------------------------------------------------------
LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Bahasa Indonesia")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
# Stored in UTC; every page shows times in the regency's own zone
# (regencies.middleware activates it). Outside a regency: WITA, the movement's home.
TIME_ZONE = "Asia/Makassar"

# --- static & media ---------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS: list[Path | tuple[str, Path]] = [BASE_DIR / "static"]
# Front-end libraries come from the npm registry at install time (package.json),
# never from a CDN at run time.
NODE_MODULES_DIR = BASE_DIR / "node_modules"
if NODE_MODULES_DIR.exists():
    STATICFILES_DIRS.append(("vendor", NODE_MODULES_DIR))
# Uploaded files (arrears lists, evidence) are private: stored outside the web root
# and served only through views that check permission.
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=VAR_DIR / "media")
MEDIA_URL = "/media/"
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# More than one machine: uploads on S3-compatible object storage (MinIO in docker-compose.yml),
# which every web process and every worker reads through the storage API (core.uploads). Set
# when AWS_STORAGE_BUCKET_NAME is; the keys come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
# (read by boto3). Unset (`make run`): the files are under MEDIA_ROOT on this machine.
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            # Empty: Amazon S3 itself; MinIO or another S3-compatible server: its URL.
            "endpoint_url": env("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env("AWS_S3_REGION_NAME", default="") or None,
            "addressing_style": env("AWS_S3_ADDRESSING_STYLE", default="path"),
            "signature_version": "s3v4",
            "location": env("AWS_LOCATION", default=""),
            # Private files: no public ACL, never overwritten (a second upload of the same name
            # gets a new name, as on disk); links, were any made, expire within 5 minutes.
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,
            "querystring_expire": 300,
        },
    }
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- e-mail -----------------------------------------------------------------
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="Satu untuk Satu <noreply@satu.local>")
EMAIL_BACKEND = env(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend"
)

# --- API --------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Hashed, expiring, revocable tokens (accounts.tokens), `Authorization: Token <token>`.
        "accounts.tokens.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_THROTTLE_RATES": {
        # POST auth/token/ (accounts.api.TokenApi): per client address and per e-mail address.
        "auth_token": env("API_AUTH_TOKEN_RATE", default="10/min"),
        "auth_token_email": env("API_AUTH_TOKEN_EMAIL_RATE", default="20/hour"),
        # Reservations (API and the campaign page): per donor and per client address.
        "reservation_user": env("RESERVATION_RATE_USER", default="30/hour"),
        "reservation_ip": env("RESERVATION_RATE_IP", default="120/hour"),
    },
    # Our throttles read the client address through core.clientip (NUM_PROXIES above); DRF's own
    # get_ident gets the same number (never None, which would trust a client-sent header).
    "NUM_PROXIES": NUM_PROXIES,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Satu untuk Satu API",
    "DESCRIPTION": "Arrears imports, participants, assessments, campaigns and pledges.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # The docs page loads Swagger UI from node_modules (npm: swagger-ui-dist), never a CDN.
    "SWAGGER_UI_DIST": STATIC_URL + "vendor/swagger-ui-dist",
    "SWAGGER_UI_FAVICON_HREF": STATIC_URL + "vendor/swagger-ui-dist/favicon-32x32.png",
    # Several models have a `status` field with different choices; name each enum.
    "ENUM_NAME_OVERRIDES": {
        "ImportStatusEnum": "participants.models.ImportStatus",
        "AssessmentStatusEnum": "assessments.models.Status",
        "PledgeStatusEnum": "donations.models.PledgeStatus",
    },
}

# --- Celery -----------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
# Delivery of tasks (every import must end, even when a worker dies):
# - acks_late: a message is acknowledged only when its task returns, so a worker that dies
#   mid-task does not lose it; every task is idempotent, so running one twice is safe.
# - reject_on_worker_lost: a pool child killed (OOM, SIGKILL) puts its message back at once
#   instead of waiting for the visibility timeout; an import counts its runs and refuses a
#   third (participants.services.MAX_ATTEMPTS), so a file that kills the worker cannot loop.
# - prefetch 1: a worker holds no message it is not running: a 60 s list never waits behind
#   another already taken by a busy worker.
# - time limits: the longest real task is a 2-million-row list (about 10 minutes); the soft
#   limit lets the task mark its import `failed` with a message, the hard one kills a child
#   that ignores it (its import is then swept: participants.services.import_sweep).
# - visibility_timeout (Redis): an unacknowledged message is delivered again after this long;
#   it must exceed the hard limit, or a task still running would be started a second time.
#   It is only the last resort: a dead import worker is noticed by its heartbeat within
#   ARREARS_IMPORT_STALE_SECONDS, not after this timeout.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=20 * 60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=25 * 60)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=30 * 60)}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE: dict = {}
# Queues that fit the work (one worker each in `make run` and docker-compose.yml), so an arrears
# list never waits behind screening or a batch of e-mails: `imports` (the import pipeline),
# `jobs` (screening, reconciliation, pooled allocation, statements, pledge expiry), `email`
# (every e-mail task), `celery` (the default: the outbox relay and anything unrouted).
# First matching pattern wins.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {
    # The sweep finds imports whose worker died: never behind an import on the imports queue.
    "participants.import_sweep": {"queue": "celery"},
    "participants.*": {"queue": "imports"},
    "*email*": {"queue": "email"},
    "*notify*": {"queue": "email"},
    "assessments.*": {"queue": "jobs"},
    "donations.*": {"queue": "jobs"},
    "reporting.*": {"queue": "jobs"},
    "core.check_integrity": {"queue": "jobs"},
}
# The transactional outbox (core.outbox): after-commit work is written in the caller's
# transaction and sent right after the commit; what the broker could not take is sent by this
# relay. Beat keeps ticking through a Redis outage (unpublishable ticks are skipped), so the
# backlog leaves within OUTBOX_RELAY_SECONDS of Redis coming back; `manage.py relay_outbox`
# sends it by hand. Sent rows are kept OUTBOX_KEEP_DAYS for the operator.
OUTBOX_RELAY_SECONDS = env.float("OUTBOX_RELAY_SECONDS", default=15.0)
OUTBOX_RELAY_GRACE_SECONDS = 10.0
OUTBOX_KEEP_DAYS = 7
CELERY_BEAT_SCHEDULE["core-outbox-relay"] = {
    "task": "core.outbox_relay", "schedule": OUTBOX_RELAY_SECONDS,
    "options": {"expires": OUTBOX_RELAY_SECONDS * 4},
}
# Donations: warn 24 h before a reservation lapses and expire lapsed ones (every 5 minutes);
# allocate the pooled funds nightly (19:00 UTC = 03:00 WITA).
CELERY_BEAT_SCHEDULE["donations-pledge-expiry"] = {
    "task": "donations.tasks.pledges_expiry_task", "schedule": 300.0,
}
CELERY_BEAT_SCHEDULE["donations-pool-allocate-nightly"] = {
    "task": "donations.tasks.pool_allocate_task", "schedule": crontab(hour=19, minute=0),
}
# Reconciliation: nightly over every regency (18:30 UTC = 02:30 WITA, before the pooled
# allocation); unpaid-pledge reminders and new-anomaly e-mails hourly.
CELERY_BEAT_SCHEDULE["donations-reconcile-nightly"] = {
    "task": "donations.tasks.reconcile_nightly_task", "schedule": crontab(hour=18, minute=30),
}
CELERY_BEAT_SCHEDULE["donations-reconciliation-reminders"] = {
    "task": "donations.tasks.reconciliation_reminders_task", "schedule": crontab(minute=15),
}
# Regencies reconciled at the same time, each on its own connection (0 = min(4, CPU count)).
RECONCILIATION_WORKERS = env.int("DJANGO_RECONCILIATION_WORKERS", default=0)
# Personal data (UU 27/2022, donations.privacy.retention): nightly (20:00 UTC = 04:00 WITA) the
# participants past their regency's retention period are anonymised and the uploaded files of
# imports and bank statements finished more than PRIVACY_UPLOAD_RETENTION_DAYS ago are deleted.
PRIVACY_UPLOAD_RETENTION_DAYS = env.int("PRIVACY_UPLOAD_RETENTION_DAYS", default=90)
CELERY_BEAT_SCHEDULE["donations-privacy-purge-nightly"] = {
    "task": "donations.tasks.privacy_purge_task", "schedule": crontab(hour=20, minute=0),
}
# Integrity (core.integrity, `manage.py check_integrity`): nightly at 21:00 UTC (05:00 WITA),
# after reconciliation, allocation and the purge; failures become an `integrity.failed` audit event.
CELERY_BEAT_SCHEDULE["core-check-integrity-nightly"] = {
    "task": "core.check_integrity", "schedule": crontab(hour=21, minute=0),
}
# The dashboards' summaries (reporting.summaries): nightly at 20:30 UTC (after midnight in WIB and
# WITA: eligibility lapses with the date), before the integrity checks compare them.
CELERY_BEAT_SCHEDULE["reporting-summaries-nightly"] = {
    "task": "reporting.tasks.summaries_refresh_all_task", "schedule": crontab(hour=20, minute=30),
}
# The arrears history, one partition per list month (participants.partitions): on the 1st of
# each month (17:00 UTC = 01:00 WITA) the current month's and the next N months' partitions are
# made if missing (an import also makes its own month's before it applies).
HISTORY_PARTITION_MONTHS_AHEAD = env.int("HISTORY_PARTITION_MONTHS_AHEAD", default=3)
CELERY_BEAT_SCHEDULE["participants-history-partitions-monthly"] = {
    "task": "participants.ensure_history_partitions", "schedule": crontab(day_of_month=1, hour=17, minute=0),
}

# --- logging ----------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # No personal data in logs: NIK/KK, card numbers and names are masked (core.logging).
    "filters": {"personal_data": {"()": "core.logging.PersonalDataFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["personal_data"]},
    },
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- the domain -------------------------------------------------------------
# Largest arrears file accepted (bytes); larger is rejected as a whole.
ARREARS_MAX_UPLOAD_BYTES = env.int("ARREARS_MAX_UPLOAD_BYTES", default=200 * 1024 * 1024)
ARREARS_MAX_ROWS = env.int("ARREARS_MAX_ROWS", default=2_000_000)
# XLSX poison files (participants.imports.readers): the sheet's declared dimension and the cells
# actually present are checked before the reader allocates anything. The reader holds the whole
# used range (rows x columns, about 32 bytes a cell): 10 million cells is about 320 MB; a real
# list of 2 million rows x 15 columns is 30 million, so very long lists must come as CSV.
ARREARS_MAX_COLUMNS = env.int("ARREARS_MAX_COLUMNS", default=200)
ARREARS_XLSX_MAX_CELLS = env.int("ARREARS_XLSX_MAX_CELLS", default=10_000_000)
# CSV: a field longer than this is a row error (the longest real field, an address, is < 300).
ARREARS_MAX_FIELD_CHARS = env.int("ARREARS_MAX_FIELD_CHARS", default=1000)
# Every import ends (participants.services): the worker running an import writes its heartbeat
# every ARREARS_IMPORT_HEARTBEAT_SECONDS (from a thread: also during one long statement); the
# sweep (every ARREARS_IMPORT_SWEEP_SECONDS, on the default queue so that a dead import worker
# cannot hold it up) queues again, or fails, an import whose heartbeat is older than
# ARREARS_IMPORT_STALE_SECONDS and whose worker's database session is gone (a live session
# keeps its run lock, so a slow worker is never mistaken for a dead one), and drops staging
# tables left behind. 60 s stale + 30 s sweep: a dead worker's import runs again within 90 s.
ARREARS_IMPORT_HEARTBEAT_SECONDS = env.float("ARREARS_IMPORT_HEARTBEAT_SECONDS", default=10.0)
ARREARS_IMPORT_STALE_SECONDS = env.int("ARREARS_IMPORT_STALE_SECONDS", default=60)
ARREARS_IMPORT_SWEEP_SECONDS = env.float("ARREARS_IMPORT_SWEEP_SECONDS", default=30.0)
CELERY_BEAT_SCHEDULE["participants-import-sweep"] = {
    "task": "participants.import_sweep", "schedule": ARREARS_IMPORT_SWEEP_SECONDS,
    "options": {"queue": "celery", "expires": ARREARS_IMPORT_SWEEP_SECONDS * 2},
}
INVITATION_VALID_DAYS = 7
# The service penalty shown to staff and donors (core.service_penalty): 5 % x an INA-CBG tariff x
# months in arrears (at most 12), at most Rp30.000.000. This tariff is an EXAMPLE of an inpatient
# case, chosen to make the figure concrete; it is not a real INA-CBG value (those depend on the
# diagnosis, the hospital class and the region).
SERVICE_PENALTY_EXAMPLE_TARIFF = env.int("SERVICE_PENALTY_EXAMPLE_TARIFF", default=5_000_000)
DEMO_PASSWORD = env("DEMO_PASSWORD", default="demo-satu-untuk-satu")
# Midtrans HTTP notifications (donations.money.providers.midtrans): the merchant's server key,
# which signs every notification. Empty: no notification can be verified, so each is refused
# with 401 `bad_signature` and nothing is recorded (Midtrans retries until the key is set).
MIDTRANS_SERVER_KEY = env("MIDTRANS_SERVER_KEY", default="")
ENABLE_DEMO_DATA = False
