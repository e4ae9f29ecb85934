"""Unconf settings: one module, every knob read from the environment (see README)."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, "1" if default else "0").strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


DEBUG = env_bool("DJANGO_DEBUG")
# The fallback key is deliberately recognisable so that `check --deploy` rejects it.
SECRET_KEY = (
    os.environ.get("DJANGO_SECRET_KEY") or "django-insecure-unconf-development-key-do-not-use-in-production"
)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "axes",
    "voting",
]

MIDDLEWARE = [
    "voting.core.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "voting.core.middleware.ApiBodyLimitMiddleware",
    "voting.core.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its refusal (voting/events/logins.py).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "unconf.urls"
ASGI_APPLICATION = "unconf.asgi.application"

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
            ],
        },
    },
]

# Requests and feed work run on the event loop's few long-lived worker threads (see
# unconf/handler.py), each keeping its database connection. Off: a connection per call.
UNCONF_KEEP_DB_CONNECTIONS = env_bool("UNCONF_KEEP_DB_CONNECTIONS", True)
# Threads (and so database connections) per process: HTTP requests, and the live feed. A vote
# is one round trip, so 4 keep up with 900+ votes/s; 8 only queued for the GIL and the
# database (scripts/bench: ramp p99 at 827 votes/s 750 -> 282 ms with 4).
UNCONF_REQUEST_THREADS = env_int("UNCONF_REQUEST_THREADS", 4)
UNCONF_FEED_THREADS = env_int("UNCONF_FEED_THREADS", 8)
# On PostgreSQL an attendee's vote is answered on the event loop (voting/votes/fast_path.py); off:
# every vote goes through Django's request threads and DRF, with the same answers.
UNCONF_VOTES_ON_LOOP = env_bool("UNCONF_VOTES_ON_LOOP", True)
# The fast paths into libraries' internals (unconf/fast_paths.py, README "Fast paths"): 0 turns
# them all off, so the stock Django, Channels and Daphne code serves; or name single ones off.
UNCONF_FAST_PATHS = env_bool("UNCONF_FAST_PATHS", True)
UNCONF_FAST_PATHS_OFF = env_list("UNCONF_FAST_PATHS_OFF")
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=600 if UNCONF_KEEP_DB_CONNECTIONS else 0,
    )
}
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # Sessions start in UTC, so Django need not send SET TIME ZONE on every new connection.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c timezone=UTC")
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The embedded default: writers queue up instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})
if os.environ.get("UNCONF_TEST_DB_NAME") and DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # Parallel test runs on one server each get their own test database (SQLite's is in memory).
    DATABASES["default"]["TEST"] = {"NAME": os.environ["UNCONF_TEST_DB_NAME"]}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    # The pub/sub layer: one subscription per process, no per-message polling (PERFORMANCE.md).
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "unconf",
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/admin/login/"
# Organizer logins: django-axes first, so that a locked-out username+address pair is refused
# before its password is even checked. Attendees never authenticate, so never count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("UNCONF_LOGIN_FAILURES", 20)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("UNCONF_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "voting.events.identity.client_address"  # the same trusted-proxy rule as joins
AXES_LOCKOUT_CALLABLE = "voting.events.logins.lockout_response"
AXES_VERBOSE = False

LANGUAGE_CODE = "en"
# Every page follows Accept-Language (LocaleMiddleware) or the switcher's choice (set_language).
# To add a language: add it here, then `scripts/messages` (see README, "Languages").
LANGUAGES = [
    ("en", "English"),
    ("de", "Deutsch"),
    ("fr", "Français"),
    ("es", "Español"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("UNCONF_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "voting.core.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Unconf API",
    "DESCRIPTION": "Run the unconference: join, propose, dot-vote, moderate, schedule.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Served from our own static files: the docs work offline and under a strict CSP.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Security: secure by default, HTTPS hardening switched on by DJANGO_HTTPS=1 in production.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if env_bool("DJANGO_HTTPS"):
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # Health checks from a load balancer come over plain HTTP on the private side.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if env_bool("DJANGO_BEHIND_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("UNCONF_LOG_LEVEL", "WARNING")},
}

# --- Unconf's own limits (documented in README; every one overridable by environment) ---
# Largest request body accepted under /api/ before answering 413 payload_too_large.
UNCONF_MAX_BODY_BYTES = env_int("UNCONF_MAX_BODY_BYTES", 64 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = max(UNCONF_MAX_BODY_BYTES, 2_621_440)
# New attendees per source address per window (open events): a whole hall behind one venue NAT
# address joins within minutes of the keynote; 30 is right for a small event on the open Internet.
UNCONF_JOIN_RATE = env_int("UNCONF_JOIN_RATE", 2000)
UNCONF_JOIN_WINDOW_SECONDS = env_int("UNCONF_JOIN_WINDOW_SECONDS", 600)
# Wrong event/badge codes per source address and event per window before 429 (README: "Limits").
UNCONF_BAD_CODE_RATE = env_int("UNCONF_BAD_CODE_RATE", 100)
UNCONF_BAD_CODE_WINDOW_SECONDS = env_int("UNCONF_BAD_CODE_WINDOW_SECONDS", 600)
# Proposals one attendee may submit to one event.
UNCONF_PROPOSALS_PER_ATTENDEE = env_int("UNCONF_PROPOSALS_PER_ATTENDEE", 5)
UNCONF_COHOSTS_MAX = env_int("UNCONF_COHOSTS_MAX", 3)
# Only these proxy addresses may set X-Forwarded-For for rate limiting.
UNCONF_TRUSTED_PROXIES = env_list("UNCONF_TRUSTED_PROXIES")
# Largest websocket message a client may send before close 4009.
UNCONF_WS_MAX_MESSAGE_BYTES = env_int("UNCONF_WS_MAX_MESSAGE_BYTES", 4096)
# Output a websocket client has not read, at most, before close 4008 (voting/feed/wire.py).
UNCONF_WS_MAX_UNSENT_BYTES = env_int("UNCONF_WS_MAX_UNSENT_BYTES", 1024 * 1024)
# Snapshots per socket on `resync`, at most one per this many seconds (requests meanwhile merge).
UNCONF_WS_RESYNC_SECONDS = float(os.environ.get("UNCONF_WS_RESYNC_SECONDS", "1"))
# At most this many tally messages per second per event and process.
UNCONF_TALLY_PER_SECOND = env_int("UNCONF_TALLY_PER_SECOND", 4)

# During and after the sessions (contract 5.2).
UNCONF_CHECKIN_EARLY_MINUTES = env_int("UNCONF_CHECKIN_EARLY_MINUTES", 10)
UNCONF_NOTES_MAX_CHARS = env_int("UNCONF_NOTES_MAX_CHARS", 20_000)
