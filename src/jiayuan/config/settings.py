"""Settings: one module, driven by the environment.

Every value that differs between a laptop demo and a district's production deployment comes
from an environment variable (prefix ``JIAYUAN_``, plus ``DATABASE_URL``). Secrets never live
in the repository: production refuses to start without ``JIAYUAN_SECRET_KEY``.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent  # src/jiayuan
VAR_DIR = Path(os.environ.get("JIAYUAN_VAR_DIR", Path.cwd() / "var")).resolve()


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


ENVIRONMENT = os.environ.get("JIAYUAN_ENV", "development")  # development | production | test
PRODUCTION = ENVIRONMENT == "production"
DEBUG = env_bool("JIAYUAN_DEBUG", default=False)
# Demo-only conveniences (the demo Open311 api_key, printed log-ins) are valid only when set.
DEMO_MODE = env_bool("JIAYUAN_DEMO", default=False) and not PRODUCTION


# SHA-256 of a development key once committed by mistake (src/jiayuan/var/secret_key): a
# var/ that still holds it gets a fresh key, since everybody can read that one.
PUBLISHED_KEYS = frozenset({"1f2fa582cb8d7939434faedfe71ef974eff699e971738710777fa1ede1fb1f8c"})


def _secret_key() -> str:
    key = os.environ.get("JIAYUAN_SECRET_KEY")
    if key:
        return key
    if PRODUCTION:
        raise RuntimeError("JIAYUAN_SECRET_KEY must be set in production")
    # Development and demo: a random key made at first run and kept in var/ (never in the
    # repository: .gitignore) so sessions survive restarts.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "secret_key"
    key = path.read_text().strip() if path.exists() else ""
    if not key or hashlib.sha256(key.encode()).hexdigest() in PUBLISHED_KEYS:
        key = secrets.token_urlsafe(50)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key)
        path.chmod(0o600)
    return key


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("JIAYUAN_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("JIAYUAN_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "jiayuan.core",
    "jiayuan.web",
    "jiayuan.accounts",
    "jiayuan.registry",
    "jiayuan.demo",
    "jiayuan.index",
    "jiayuan.cases",
    "jiayuan.open311",
    "jiayuan.sensors",
    "jiayuan.care",
    "jiayuan.council",
    "jiayuan.rental",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "jiayuan.config.urls"
WSGI_APPLICATION = "jiayuan.config.wsgi.application"
ASGI_APPLICATION = "jiayuan.config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "jiayuan.web.context_processors.platform",
            ],
        },
    },
]

# --- Data ------------------------------------------------------------------------------------
DEFAULT_SQLITE = f"sqlite:///{VAR_DIR / 'jiayuan.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", DEFAULT_SQLITE), conn_max_age=60, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # WAL lets the web and the worker read while the other writes; IMMEDIATE makes a
            # write transaction take its lock up front instead of failing half-way.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA busy_timeout=10000;",
            "transaction_mode": "IMMEDIATE",
        }
    )
if os.environ.get("JIAYUAN_TEST_DB_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["JIAYUAN_TEST_DB_NAME"]}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts and security --------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling: five failures lock the (username, IP) pair for 15 minutes, and twenty
# failures from one IP, whatever the usernames, lock that IP (one password sprayed over many
# accounts); accounts.lockout.TwoLimitHandler gives the IP its own, larger limit.
AXES_FAILURE_LIMIT = int(os.environ.get("JIAYUAN_LOGIN_FAILURE_LIMIT", "5"))
JIAYUAN_LOGIN_IP_FAILURE_LIMIT = int(os.environ.get("JIAYUAN_LOGIN_IP_FAILURE_LIMIT", "20"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_HANDLER = "jiayuan.accounts.lockout.TwoLimitHandler"

# Open311 edges (open311.views, open311.throttle, open311.selectors; docs/open311.md).
JIAYUAN_OPEN311_MAX_BODY = int(os.environ.get("JIAYUAN_OPEN311_MAX_BODY", str(256 * 1024)))
JIAYUAN_OPEN311_KEY_FAILURES = int(os.environ.get("JIAYUAN_OPEN311_KEY_FAILURES", "10"))
JIAYUAN_OPEN311_KEY_FAILURE_WINDOW = int(
    os.environ.get("JIAYUAN_OPEN311_KEY_FAILURE_WINDOW", "600"))
JIAYUAN_OPEN311_COARSE_GRID_M = float(os.environ.get("JIAYUAN_OPEN311_COARSE_GRID_M", "150"))
JIAYUAN_OPEN311_CHANNEL_POLICY = os.environ.get("JIAYUAN_OPEN311_CHANNEL_POLICY", "")
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "web/locked_out.html"
AXES_VERBOSE = False

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 12
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("JIAYUAN_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = int(os.environ.get("JIAYUAN_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content Security Policy: every asset is vendored, so nothing but our own origin is allowed.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],  # Leaflet and ECharts set inline styles
        "img-src": ["'self'", "data:", "blob:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# --- Language and time -------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

# --- Static files (all vendored under web/static; no CDN) -----------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise expects it to exist
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(VAR_DIR / "media")}},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # serve straight from the apps' static folders, no collectstatic
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"

# --- Background work -----------------------------------------------------------------------------
# Django's tasks framework (backport); the database backend needs no broker and its worker
# claims jobs with row locks, so several workers never run one job twice.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- Logging -------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("JIAYUAN_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

# --- Platform ------------------------------------------------------------------------------------
JIAYUAN = {
    "DISTRICT_NAME": os.environ.get("JIAYUAN_DISTRICT_NAME", ""),
    # Phone numbers, ID numbers and names of vulnerable residents are masked in lists.
    "MASK_PERSONAL_DATA": True,
    # Case routing: the trained text classifier and the confidence below which a case waits in
    # the manual triage queue (docs/case-routing.md).
    "CLASSIFIER_PATH": os.environ.get(
        "JIAYUAN_CLASSIFIER_PATH", str(VAR_DIR / "models" / "case_classifier.joblib")
    ),
    "ROUTING_THRESHOLD": float(os.environ.get("JIAYUAN_ROUTING_THRESHOLD", "0.6")),
    # Duplicate suggestions (FixMyStreet's 250 m for residents, 1 km for staff).
    "DUPLICATES": {"resident_radius_m": 250, "staff_radius_m": 1000, "window_days": 30,
                   "closed_days": 14, "min_score": 0.35},
}

# --- Sensors (docs/sensors-ingest.md) ----------------------------------------------------------
# Empty JIAYUAN_MQTT_URL: no broker; the demo replays readings in process.
JIAYUAN_SENSORS = {
    "MQTT_URL": os.environ.get("JIAYUAN_MQTT_URL", ""),  # mqtt://user:pass@host:1883
    "BATCH_MAX": int(os.environ.get("JIAYUAN_INGEST_BATCH_MAX", "5000")),
    "BATCH_MS": int(os.environ.get("JIAYUAN_INGEST_BATCH_MS", "100")),
    "SESSION_EXPIRY_S": int(os.environ.get("JIAYUAN_INGEST_SESSION_EXPIRY_S", "3600")),
    # Video analytics: detections below this confidence open no case.
    "VIDEO_MIN_CONFIDENCE": float(os.environ.get("JIAYUAN_VIDEO_MIN_CONFIDENCE", "0.8")),
}

# --- Uploads and imports (docs/security.md; read by jiayuan.core.uploads) ---------------------
# Every import reads its file within these limits: the file as sent, every part of a zip or
# .xlsx once decompressed (counted while reading, not taken from the zip's headers), the
# members of a zip, the non-blank rows. Over a limit: HTTP 413 (file_too_large, too_many_rows);
# a damaged file: 422 (unreadable_file). "WEB" is for the pages and the API, "CLI" for the
# import commands (jiayuan import, cases import, index compute), run by an operator.
_MB = 1024 * 1024
JIAYUAN_UPLOADS = {
    "WEB": {
        "MAX_BYTES": int(os.environ.get("JIAYUAN_UPLOAD_MAX_MB", "100")) * _MB,
        "MAX_UNPACKED_BYTES": int(os.environ.get("JIAYUAN_UPLOAD_MAX_UNPACKED_MB", "200")) * _MB,
        "MAX_MEMBERS": int(os.environ.get("JIAYUAN_UPLOAD_MAX_MEMBERS", "200")),
        # A whole Pudong-scale registry is 184,051 rows (docs/registry-spreadsheets.md).
        "MAX_ROWS": int(os.environ.get("JIAYUAN_UPLOAD_MAX_ROWS", "250000")),
    },
    "CLI": {
        "MAX_BYTES": int(os.environ.get("JIAYUAN_IMPORT_MAX_MB", "1024")) * _MB,
        "MAX_UNPACKED_BYTES": int(os.environ.get("JIAYUAN_IMPORT_MAX_UNPACKED_MB", "4096")) * _MB,
        "MAX_MEMBERS": int(os.environ.get("JIAYUAN_IMPORT_MAX_MEMBERS", "10000")),
        "MAX_ROWS": int(os.environ.get("JIAYUAN_IMPORT_MAX_ROWS", "10000000")),
    },
}
# Django's own: form fields (not files) of one request are held in memory up to this size;
# an uploaded file above FILE_UPLOAD_MAX_MEMORY_SIZE is streamed to a temporary file on disk
# instead of memory (core.uploads then reads it in chunks and stops at MAX_BYTES).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # 2.5 MB, Django's default, stated
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
DATA_UPLOAD_MAX_NUMBER_FILES = 20
