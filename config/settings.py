"""Tsunagu settings: every knob comes from the environment (see .env.example)."""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A .env file beside manage.py is read when present; real environment variables win.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "Set the SECRET_KEY environment variable (required unless DEBUG)."
        )
    # A fresh key per process is fine for development: sessions simply do not survive a restart.
    SECRET_KEY = get_random_secret_key()

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    # Outside the layers: the Twilio emulator, an app only so its management commands are found.
    "emulator",
    "axes",
    # Background tasks (Django's tasks API, backport) stored in the database; `manage.py worker`.
    "django_tasks",
    "django_tasks_db",
    # Project apps, lowest layer first; demo (seed_demo, generate_traffic) sits above them all.
    "telephony",
    "queues",
    "ivr",
    "agents",
    "routing",
    "reports",
    "demo",
]

MIDDLEWARE = [
    # Outermost: Twilio webhook paths take the slim chain of WEBHOOK_MIDDLEWARE (below).
    "config.middleware.WebhookMiddlewareDispatch",
    # Inert unless TRUSTED_PROXY; first, because SecurityMiddleware already reads the host.
    "telephony.middleware.trusted_proxy_middleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.RejectNulBytesMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

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
                "config.context_processors.roles",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
# No health check (a SELECT 1 round trip) at the start of each request: Django already closes
# a connection that errored at the end of the request, and a database that stopped answering
# is bounded by the connect and statement timeouts below (docs/deploy.md).
DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Webhooks write concurrently; wait for the lock instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("timeout", 20)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# django-axes first: it refuses a locked-out account or address before any password is checked.
AUTHENTICATION_BACKENDS = [
    "config.security.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Internationalisation
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="ja")
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Tokyo")
# Numbers written the national way (050-1234-5678) are numbers of this country (ISO 3166).
PHONE_REGION = "JP"
USE_I18N = True
USE_TZ = True

# Static files, served by whitenoise (vendored assets only: no CDN anywhere)
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Security. Production runs behind a TLS-terminating proxy; each switch can be turned off for
# a deployment that terminates TLS somewhere the app cannot see.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Twilio never sends HTTPS-redirect-friendly requests, so webhooks are exempt from the redirect.
# Webhook URLs the app generates outside /twilio/ (the softphone's Dial action) too.
SECURE_REDIRECT_EXEMPT = [r"^twilio/", r"^agent/twilio/"]

# Twilio
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_API_KEY_SID = env.str("TWILIO_API_KEY_SID", default="")
TWILIO_API_KEY_SECRET = env.str("TWILIO_API_KEY_SECRET", default="")
TWILIO_TWIML_APP_SID = env.str("TWILIO_TWIML_APP_SID", default="")
TWILIO_CALLER_ID = env.str("TWILIO_CALLER_ID", default="")
TWILIO_VALIDATE_SIGNATURES = env.bool("TWILIO_VALIDATE_SIGNATURES", default=True)
# When set, every REST request the app makes goes to this base URL (the local Twilio).
TWILIO_API_URL = env.str("TWILIO_API_URL", default="")
TRUSTED_PROXY = env.bool("TRUSTED_PROXY", default=False)
# Days a stored webhook request is kept; `manage.py purge_webhook_events` deletes older ones.
# 0 keeps them forever.
WEBHOOK_EVENT_RETENTION_DAYS = env.int("WEBHOOK_EVENT_RETENTION_DAYS", default=90)
# Days call recordings are kept (at Twilio and here); the worker deletes older ones daily.
RECORDING_RETENTION_DAYS = env.int("RECORDING_RETENTION_DAYS", default=90)
# Seconds a worker's heartbeat stays alive: a task RUNNING on a worker silent for longer (killed,
# machine lost) is handed to another worker (docs/routing.md §4).
TASK_LEASE_SECONDS = env.int("TASK_LEASE_SECONDS", default=30)
# The app's public base URL (https://cc.example.com): the background worker writes it into the
# URLs it gives Twilio. Empty: the address Twilio used for the call's own webhooks.
PUBLIC_URL = env.str("PUBLIC_URL", default="")
# Calls the app may create per second through Twilio's REST API, across all workers (Twilio's
# default account limit is 1; raise it with the limit Twilio gave the account). docs/routing.md.
TWILIO_REST_CALLS_PER_SECOND = env.float("TWILIO_REST_CALLS_PER_SECOND", default=1.0)

# Background tasks: rows in the database, written in the transaction of the event that causes
# them (a rolled-back webhook enqueues nothing); `manage.py worker` runs them. docs/routing.md.
TASKS = {"default": {"BACKEND": "config.tasks.DatabaseBackend"}}

if TRUSTED_PROXY:
    # The proxy terminates TLS and says so; Django's own is_secure() then agrees with Twilio.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
    USE_X_FORWARDED_PORT = True

if not TWILIO_VALIDATE_SIGNATURES and not DEBUG:
    raise ImproperlyConfigured("TWILIO_VALIDATE_SIGNATURES=False is only allowed with DEBUG=True.")

# REST API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
# Longest date range a report or report API call may ask for, in days.
REPORTS_MAX_RANGE_DAYS = env.int("REPORTS_MAX_RANGE_DAYS", default=400)

SPECTACULAR_SETTINGS = {
    "TITLE": "Tsunagu API",
    "DESCRIPTION": _("Call-center reports and wallboard."),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

# Logs go to stdout, where gunicorn and the process manager collect them.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # The task library logs every task's start and end; the worker's periodic sweep alone
        # would write two lines every 5 s. Failures (WARNING and above) still show.
        "django_tasks": {"level": env.str("TASKS_LOG_LEVEL", default="WARNING")},
    },
}

# --- The production path: database timeouts, the health check, browser security headers.
# A database that stops answering must not hold a web worker past Twilio's 15-second webhook
# timeout: connecting gives up after DATABASE_CONNECT_TIMEOUT seconds, and on PostgreSQL a
# statement is cancelled after DATABASE_STATEMENT_TIMEOUT seconds (0 = no limit).
DATABASE_CONNECT_TIMEOUT = env.int("DATABASE_CONNECT_TIMEOUT", default=3)
DATABASE_STATEMENT_TIMEOUT = env.int("DATABASE_STATEMENT_TIMEOUT", default=8)
# What sits between the app and PostgreSQL. "" (nothing, or a pooler in session mode) or
# "pgbouncer-transaction": PgBouncer in transaction pooling mode, where a server connection is
# the client's only for one transaction. Then the app uses no server-side cursors and no
# prepared statements (both outlive a transaction), and sends no startup `options` (PgBouncer
# refuses them): the statement timeout must be set on the database or role instead
# (ALTER DATABASE … SET statement_timeout = '8s'). docs/deploy.md, *PgBouncer*.
DATABASE_POOLER = env.str("DATABASE_POOLER", default="")
if DATABASE_POOLER not in ("", "pgbouncer-transaction"):
    raise ImproperlyConfigured('DATABASE_POOLER must be "" or "pgbouncer-transaction".')

# Reports read from a replica when REPORTS_DATABASE_URL is set (reports/routers.py): the report
# pages and the report API read there; every write and every other read stays on default.
REPORTS_DATABASE_URL = env.str("REPORTS_DATABASE_URL", default="")
if REPORTS_DATABASE_URL:
    DATABASES["reports"] = env.db_url_config(REPORTS_DATABASE_URL)
    DATABASES["reports"]["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
    DATABASES["reports"]["CONN_HEALTH_CHECKS"] = True
DATABASE_ROUTERS = ["reports.routers.ReportsReplicaRouter"]


def _postgresql_options(database: dict, *, pooled: bool) -> None:
    """Timeouts (and, behind PgBouncer in transaction mode, what it cannot carry) of one alias."""
    if database["ENGINE"] != "django.db.backends.postgresql":
        return
    options = database.setdefault("OPTIONS", {})
    options.setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT)
    if pooled:
        database["DISABLE_SERVER_SIDE_CURSORS"] = True
        options["prepare_threshold"] = None  # psycopg 3: never prepare a statement
        return
    # The server binds the parameters (psycopg's server-side binding), and psycopg prepares a
    # statement a connection has run five times (Django prepares none unless told): PostgreSQL
    # then parses and plans the hot webhooks' statements once per connection instead of once
    # per request (about half of PostgreSQL's CPU time per webhook; docs/benchmarks.md). Not
    # behind PgBouncer in transaction mode, where a prepared statement would not outlive its
    # transaction.
    options.setdefault("server_side_binding", True)
    options.setdefault("prepare_threshold", 5)
    options["options"] = " ".join(
        filter(
            None,
            [
                options.get("options", ""),
                f"-c statement_timeout={DATABASE_STATEMENT_TIMEOUT * 1000}",
            ],
        )
    )


# The pooler fronts the primary; a replica is reached directly (its own connections).
_postgresql_options(DATABASES["default"], pooled=DATABASE_POOLER == "pgbouncer-transaction")
if "reports" in DATABASES:
    _postgresql_options(DATABASES["reports"], pooled=False)

# SQLite (development, tests): a transaction that will write takes the write lock when it begins,
# so two threads never deadlock upgrading their read locks ("database is locked" at once); the
# other waits its turn (the busy timeout above).
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")

# Load balancers and monitors probe /healthz over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [*SECURE_REDIRECT_EXEMPT, r"^healthz$"]

# Content-Security-Policy (django-csp): every script and style is a static file of the project
# or a vendored library, so no inline code runs and nothing loads from elsewhere, except the
# Twilio Voice SDK's signalling (wss), event gateway and ringtones on the agent's softphone.
from csp.constants import NONE, SELF  # noqa: E402

TWILIO_SDK_CONNECT = ["wss://*.twilio.com", "https://*.twilio.com"]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF, *TWILIO_SDK_CONNECT],
        "media-src": [SELF, "https://sdk.twilio.com"],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    },
}
# Browser features no page uses are switched off; the softphone needs the microphone.
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(self), camera=(), display-capture=(), geolocation=(), "
    "gyroscope=(), magnetometer=(), microphone=(self), midi=(), payment=(), usb=()"
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "csp.middleware.CSPMiddleware",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("csp.middleware.CSPMiddleware") + 1,
    "config.middleware.permissions_policy_middleware",
)
# Twilio webhooks (WEBHOOK_PATHS, matched against the path without its leading slash) go
# through this chain only: the proxy-aware host, the security headers, the site's language and
# the NUL-byte screen; no session, authentication, messages, CSRF or locale negotiation. Every
# @twilio_webhook view must sit under one of the paths (tests/telephony/test_webhook_chain.py).
WEBHOOK_PATHS = [r"^twilio/", r"^agent/twilio/"]
WEBHOOK_MIDDLEWARE = [
    "telephony.middleware.trusted_proxy_middleware",
    "django.middleware.security.SecurityMiddleware",
    # CSPMiddleware's headers, built once (no per-view policy, no nonce in a webhook).
    "config.middleware.webhook_csp_middleware",
    "config.middleware.permissions_policy_middleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.default_language_middleware",
    "config.middleware.RejectNulBytesMiddleware",
]
# A wait-loop request the reverse proxy received more than WEBHOOK_BEHIND_MS milliseconds ago
# (X-Request-Start, trusted only with TRUSTED_PROXY) is answered at once with a static wait
# document and no database work: the app is behind, and Twilio must hear something within
# its timeout (docs/architecture.md §7). 0 turns this off.
WEBHOOK_BEHIND_MS = env.int("WEBHOOK_BEHIND_MS", default=1000)

# collectstatic's destination, for a deployment that keeps the code read-only.
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(STATIC_ROOT)))

# Security: login throttling, CSV exports, recording links, outgoing calls (docs/security.md).
# After LOGIN_FAILURE_LIMIT wrong passwords in a row, the account is locked, and so is the
# address they came from (each counted apart), for LOGIN_LOCKOUT_MINUTES; a supervisor unlocks
# earlier by deleting the access attempt in the admin.
AXES_ENABLED = env.bool("LOGIN_THROTTLING", default=True)
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Behind TRUSTED_PROXY the client's address is the one the proxy appended to X-Forwarded-For.
AXES_CLIENT_IP_CALLABLE = "config.security.client_ip"
