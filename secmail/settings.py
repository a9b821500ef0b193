"""Django settings for secmail, every value read from the environment (see README.md)."""

from __future__ import annotations

import socket
from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from secmail.env import (
    env_bool,
    env_database,
    env_email,
    env_file,
    env_hostname,
    env_int,
    env_list,
    env_listen,
    env_port,
    env_resolvers,
    env_seconds,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

# Safe by default: production behaviour unless DEBUG is asked for (`make run` sets DEBUG=1).
DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long random "
            "string (python -c 'import secrets; print(secrets.token_urlsafe(50))'), "
            "or set DEBUG=1 for local development only."
        )
    SECRET_KEY = "dev-only-insecure-key-never-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Before staticfiles so runserver serves static files the way production does.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "partners",
    "monitoring",
    "monitoring.dashboard",
    "monitoring.notifications",
    "monitoring.headers",
    "monitoring.evidence",
    "monitoring.api",
    "monitoring.explanations",
    "secmail.demo",
    "secmail.security",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "auditlog",
]

MIDDLEWARE = [
    "secmail.security.middleware.UntrustedForwardingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "secmail.security.middleware.SecondFactorMiddleware",
    "secmail.security.middleware.AuditlogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "secmail.urls"
WSGI_APPLICATION = "secmail.wsgi.application"
ASGI_APPLICATION = "secmail.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: PostgreSQL in production, a SQLite file for `make run` with nothing installed.
_sqlite_default = f"sqlite:///{VAR_DIR / 'secmail.sqlite3'}"
DATABASES = {"default": env_database("DATABASE_URL", _sqlite_default)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, worker and beat share the file: WAL and IMMEDIATE transactions keep
    # concurrent writers waiting for the lock instead of failing with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    if DATABASES["default"]["NAME"] == str(VAR_DIR / "secmail.sqlite3"):
        VAR_DIR.mkdir(exist_ok=True)  # SQLite creates the file but not its folder.

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The throttle's check runs before every password check, whichever form asked (ours, the admin's).
AUTHENTICATION_BACKENDS = [
    "secmail.security.throttle.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr-ca", "Français (Canada)")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "America/Toronto"
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed names let browsers cache forever; needs `collectstatic` (the Dockerfile runs it).
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Email: EMAIL_URL, or the EMAIL_* variables; the console in development when nothing is set.
globals().update(env_email(debug=DEBUG))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "secmail <noreply@localhost>")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
# Absolute links in emails (organization pages, unsubscribe) start with this.
SECMAIL_SITE_URL = env_str("SECMAIL_SITE_URL", "http://localhost:8000").rstrip("/")

# Security: strict unless DEBUG; TLS termination usually happens at a proxy in front of gunicorn.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
# htmx sends the token from the page (hx-headers), so no script ever needs the cookie.
CSRF_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # container health checks speak plain HTTP
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO").upper()},
    # aiosmtpd (the receiver) logs every SMTP command line at INFO: addresses, not news.
    "loggers": {"mail.log": {"level": "WARNING"}},
}

# Celery: Redis when REDIS_URL is set; otherwise kombu's filesystem transport under var/broker/
# so that `make run` needs no server. Results go to Redis, or to files under var/ (Celery's
# built-in file:// backend), because tasks store what matters in the database and results are
# only read for debugging; neither choice adds a dependency.
CELERY_BROKER_DIR = VAR_DIR / "broker"
CELERY_TASK_TIME_LIMIT = 30 * 60
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    # Redis hands an unacknowledged task to another worker after this long. It must outlast
    # the longest task (CELERY_TASK_TIME_LIMIT) or a slow task would run twice; lost probe
    # batches do not wait for it (the tick resends them, see docs/pipeline.md).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 5 * 60}
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = f"file://{VAR_DIR / 'celery-results'}"
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TASK_DEFAULT_QUEUE = "default"
# Every queue the product uses: a worker started without -Q consumes them all; a deployment
# may still split them over workers (`-Q probe`, `-Q default`).
CELERY_TASK_QUEUES = (Queue("default"), Queue("probe"))
# Probing is slow and network-bound; its own queue keeps it from delaying emails and upkeep.
CELERY_TASK_ROUTES = {"monitoring.tasks.probe_*": {"queue": "probe"}}
# A task is acknowledged once done, and given back to the broker when its worker process
# dies under it, so another worker runs it; every task is idempotent.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# The probe (docs/probe.md): names and defaults are a public contract.
SECMAIL_DNS_RESOLVERS = env_resolvers("SECMAIL_DNS_RESOLVERS")  # [] means the system resolver
SECMAIL_CA_BUNDLE = env_file("SECMAIL_CA_BUNDLE")  # None means certifi's Mozilla bundle
SECMAIL_SMTP_PORT = env_port("SECMAIL_SMTP_PORT", 25)
SECMAIL_MTA_STS_PORT = env_port("SECMAIL_MTA_STS_PORT", 443)
SECMAIL_EHLO_NAME = env_hostname("SECMAIL_EHLO_NAME", socket.getfqdn())
SECMAIL_CONNECT_TIMEOUT = env_seconds("SECMAIL_CONNECT_TIMEOUT", 10)
SECMAIL_PROBE_TIMEOUT = env_seconds("SECMAIL_PROBE_TIMEOUT", 30)
# Off in production: MX hosts, policy hosts and AIA URLs are chosen by the probed domain, and
# must not aim the probe at loopback or a private network. The lab and the tests set it.
SECMAIL_ALLOW_NONPUBLIC = env_bool("SECMAIL_ALLOW_NONPUBLIC", False)
SECMAIL_CYCLE_HOURS = env_int("SECMAIL_CYCLE_HOURS", 24, minimum=1)
SECMAIL_BATCH_SIZE = env_int("SECMAIL_BATCH_SIZE", 200, minimum=1)
# A domain sent to the workers and showing no sign of life for this long (not started, or its
# worker died) is sent again. Minutes; fractions allowed (tests compress time with them).
SECMAIL_STALL_MINUTES = env_seconds("SECMAIL_STALL_MINUTES", 3)
# Requests one API token may make per minute; more get 429 with Retry-After.
SECMAIL_API_RATE_PER_MINUTE = env_int("SECMAIL_API_RATE_PER_MINUTE", 120, minimum=1)
SECMAIL_KEEP_OBSERVATIONS_DAYS = env_int("SECMAIL_KEEP_OBSERVATIONS_DAYS", 90, minimum=1)

# The receiver (monitoring/evidence, docs/evidence.md): secmail's own SMTP service that records
# how organizations send and accepts SMTP TLS reports. Empty domain: the receiver cannot start.
SECMAIL_RECEIVER_DOMAIN = env_hostname("SECMAIL_RECEIVER_DOMAIN", "").lower().rstrip(".")
SECMAIL_RECEIVER_LISTEN = env_listen("SECMAIL_RECEIVER_LISTEN", "127.0.0.1:2525")
SECMAIL_RECEIVER_TLS_CERT = env_file("SECMAIL_RECEIVER_TLS_CERT")
SECMAIL_RECEIVER_TLS_KEY = env_file("SECMAIL_RECEIVER_TLS_KEY")
# Bounds on what one client may cost; the defaults leave an ordinary sender (ten messages a
# minute from one gateway) far from every limit.
SECMAIL_RECEIVER_MAX_MESSAGE_BYTES = env_int(
    "SECMAIL_RECEIVER_MAX_MESSAGE_BYTES", 10 * 1024 * 1024, minimum=64 * 1024
)
SECMAIL_RECEIVER_MAX_CONNECTIONS = env_int("SECMAIL_RECEIVER_MAX_CONNECTIONS", 200, minimum=1)
SECMAIL_RECEIVER_MAX_CONNECTIONS_PER_CLIENT = env_int(
    "SECMAIL_RECEIVER_MAX_CONNECTIONS_PER_CLIENT", 10, minimum=1
)
SECMAIL_RECEIVER_MESSAGES_PER_MINUTE = env_int(
    "SECMAIL_RECEIVER_MESSAGES_PER_MINUTE", 30, minimum=1
)
SECMAIL_RECEIVER_MAX_COMMANDS = env_int("SECMAIL_RECEIVER_MAX_COMMANDS", 100, minimum=10)
SECMAIL_RECEIVER_IDLE_SECONDS = env_seconds("SECMAIL_RECEIVER_IDLE_SECONDS", 120)
SECMAIL_RECEIVER_SESSION_SECONDS = env_seconds("SECMAIL_RECEIVER_SESSION_SECONDS", 600)
# POST /tlsrpt/ is open to anyone: reports per client address per hour.
SECMAIL_TLSRPT_POSTS_PER_HOUR = env_int("SECMAIL_TLSRPT_POSTS_PER_HOUR", 60, minimum=1)

# -- The web side's protections (docs/security.md) ----------------------------------------------

# Proxies in front of gunicorn whose X-Forwarded-For is believed: addresses or networks. Empty
# (the default) means the socket peer is the client, which is right when nothing sits in between.
SECMAIL_TRUSTED_PROXIES = env_list("SECMAIL_TRUSTED_PROXIES")

# Login throttle (django-axes), on every login form: five failures for one account from one client
# address pause that pair for a cool-off; other clients of the account and other accounts of the
# client are untouched, so nobody can lock an account (or everyone) out from elsewhere.
AXES_FAILURE_LIMIT = env_int("SECMAIL_LOGIN_FAILURES", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("SECMAIL_LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# And a wider net against password spraying: this many failures from one client address, to
# any accounts, pause that address (only) for the same cool-off.
SECMAIL_LOGIN_FAILURES_PER_ADDRESS = env_int("SECMAIL_LOGIN_FAILURES_PER_ADDRESS", 50, minimum=1)
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Axes keys on the same client address every other protection uses (SECMAIL_TRUSTED_PROXIES).
AXES_CLIENT_IP_CALLABLE = "secmail.security.client.client_address"
AXES_USERNAME_CALLABLE = "secmail.security.throttle.axes_username"
AXES_LOCKOUT_CALLABLE = "secmail.security.throttle.locked_out"
AXES_VERBOSE = False

# Password reset: emails per address and requests per client address, per hour.
SECMAIL_RESET_PER_ADDRESS = env_int("SECMAIL_RESET_PER_ADDRESS", 3, minimum=1)
SECMAIL_RESET_PER_CLIENT = env_int("SECMAIL_RESET_PER_CLIENT", 10, minimum=1)
# Header analyzer: analyses per user per minute.
SECMAIL_HEADERS_PER_MINUTE = env_int("SECMAIL_HEADERS_PER_MINUTE", 10, minimum=1)

# Second factor (django-otp): staff always need one unless DEBUG is on (the `make run` demo);
# organization admins too, unless the operator relaxes it for them.
SECMAIL_SECOND_FACTOR = not DEBUG
SECMAIL_SECOND_FACTOR_ORG_ADMINS = env_bool("SECMAIL_SECOND_FACTOR_ORG_ADMINS", True)
OTP_TOTP_ISSUER = env_str("SECMAIL_OTP_ISSUER", "secmail")

# Content-Security-Policy on every response: our own scripts and styles only, nothing inline.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
