"""TrustSupport settings, read from environment variables.

With no variables set the app runs on the embedded default: a SQLite file, Celery tasks run
eagerly in the web process, e-mail printed to the console. Production sets DEBUG=false and
must then provide SECRET_KEY and ALLOWED_HOSTS; see docs/configuration.md for every variable.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", True)
TESTING = env_bool("TESTING", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "insecure-development-key-only-for-the-embedded-default"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

TRUST_NAME = env_str("TRUST_NAME", "Riverside Academies Trust")
# The address links in e-mails, text messages and QR codes start with. Unset, a link made while
# serving a request follows the address that request came in on (so `runserver 0:8101` links to 8101,
# support.http.site_url), and work started without one (nightly tasks) uses this default.
SITE_URL_SET = bool(env_str("SITE_URL").strip())
SITE_URL = (env_str("SITE_URL").strip() or "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "support.admin_apps.TrustAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "support",
    "funds",
    "vouchers",
    "uniform",
    "signposting",
    "asks",
    "deliveries",
    "impact",
]

MIDDLEWARE = [
    # First: every log line and error page of the request carries its id.
    "support.middleware.RequestIdMiddleware",
    "support.middleware.RequestSizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "support.middleware.ContentSecurityPolicyMiddleware",
    # A null character in the query string is a 400 here, before any filter passes it to the database.
    "support.middleware.NullCharacterMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Pages and API answers hold personal data: "private, no-store" unless a view says otherwise.
    "support.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lockout raised during sign-in into the locked-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "support.context_processors.shell",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {
        # Behind PgBouncer in transaction mode: DB_CONN_MAX_AGE=0 and DB_DISABLE_SERVER_SIDE_CURSORS=true
        # (docs/deployment.md). A connection the database dropped is found by the health check at the
        # start of a request (DB_CONN_HEALTH_CHECKS) or, without it, fails that request with a 503 and
        # is closed at its end.
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
            # Off by default: on it costs a `SELECT 1` round trip on every request. Off, a connection that
            # broke (PostgreSQL restarted) fails the one request that meets it, and Django closes it at
            # that request's end (errors seen: checked, dropped), so the next request reconnects.
            conn_health_checks=env_bool("DB_CONN_HEALTH_CHECKS", False),
            disable_server_side_cursors=env_bool("DB_DISABLE_SERVER_SIDE_CURSORS", False),
        )
    }
    # The counter's hot statements (support.hot_queries.hot_cursor) are prepared on the server, parsed and
    # planned once per connection: planning was half of PostgreSQL's CPU per check and redeem. Every other
    # query binds on the client and is never prepared. Off behind a PgBouncer older than 1.21 or without
    # max_prepared_statements (docs/deployment.md).
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = (
        0 if env_bool("DB_PREPARED_STATEMENTS", True) else None
    )
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            # IMMEDIATE takes the write lock at BEGIN, so two writers queue instead of failing.
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
# The counter's covering index (INCLUDE) is PostgreSQL's; SQLite keeps it as a plain index and warns.
SILENCED_SYSTEM_CHECKS = ["models.W040"] if DATABASES["default"]["ENGINE"].endswith("sqlite3") else []
if env_str("TEST_DATABASE_NAME"):
    # CI's PostgreSQL pass names the test database so the background Celery worker can use it.
    DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (login throttling and code-lookup counters live here) -----------------------------
REDIS_URL = env_str("REDIS_URL")
# A Redis that hangs must not hang the counter: calls give up after REDIS_TIMEOUT_SECONDS, and the rate
# limits then count in the database for a while (support.ratelimit).
REDIS_TIMEOUT_SECONDS = env_int("REDIS_TIMEOUT_SECONDS", 2)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
                "socket_timeout": REDIS_TIMEOUT_SECONDS,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Europe/London"
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 30 * 60)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# One queue per kind of work, so PDFs cannot hold up mail and a night's jobs hold up neither. A worker
# started without -Q consumes every queue (one worker node is enough); larger deployments run a worker
# per queue (docs/deployment.md).
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = [Queue(name, routing_key=name) for name in ("celery", "pdf", "mail", "nightly")]
_QUEUE_OF_TASK = {
    "pdf": ["vouchers.print_chunk", "vouchers.print_merge"],
    "mail": [
        "support.send_email",
        "asks.send_reply",
        "funds.send_pledge_reminder",
        "vouchers.send_to_family",
        "vouchers.send_statement",
        "deliveries.send_message",
    ],
    "nightly": [
        "vouchers.expire_vouchers",
        "vouchers.monthly_statements",
        "funds.remind_due_pledges",
        "funds.checkpoint_funds",
        "support.purge_pupil_uploads",
        "support.tidy_search_names",
        "support.anonymise_expired",
        "funds.anonymise_gift_aid_declarations",
        "asks.purge_asks",
        "deliveries.remind_before_delivery",
    ],
}
CELERY_TASK_ROUTES = {task: {"queue": queue} for queue, tasks in _QUEUE_OF_TASK.items() for task in tasks}

# --- Auth, sessions and sign-in throttling --------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Idle sessions end: every request pushes the expiry on, and closing the browser ends it.
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_MINUTES", 60) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# --- Security headers -----------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# A load balancer's health check may come over plain HTTP: /healthz is never redirected to HTTPS.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# bench/load.py's bare API endpoint (the stack's ceiling); never on in production.
LOAD_TEST_BARE_ENDPOINT = env_bool("LOAD_TEST_BARE_ENDPOINT", False)
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Only marks the site eligible; joining the browsers' preload list is a separate, deliberate step.
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'; object-src 'none'"
)

# --- Internationalisation: UK dates and money -----------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True
DATE_FORMAT = "j F Y"
SHORT_DATE_FORMAT = "d/m/Y"
# Staff pages are in English (no LocaleMiddleware): only what a family receives (the voucher, the
# e-voucher page, e-mails and text messages) is rendered in English and the family's language too, by
# ``translation.override`` / ``{% language %}``. The message files are in locale/ (and an app's own
# locale/), committed as .po; `make setup` compiles them (docs/translations.md).
LANGUAGES = [
    ("en-gb", "English"),
    ("pl", "Polish"),
    ("ur", "Urdu"),
    ("pa", "Punjabi (Gurmukhi)"),
    ("ro", "Romanian"),
    ("ar", "Arabic"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- E-mail ---------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "support@trust.example")

# --- Uploads --------------------------------------------------------------------------------
# A form or JSON body (everything but an uploaded file) is at most 1 MB; a whole request at most
# MAX_REQUEST_BYTES, which leaves room for a pupil CSV (support.pupil_csv.MAX_BYTES, 10 MB) so that the
# import form, not a bare 413, explains a file that is too large.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
MAX_REQUEST_BYTES = 12 * 1024 * 1024

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so an anonymous API call gets 401 with a WWW-Authenticate header.
        "support.api.authentication.ScopedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["support.api.permissions.HasRolePermission"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    # The visibility table decides which fields each caller may filter, search and sort by.
    "DEFAULT_FILTER_BACKENDS": [
        "support.api.visibility.VisibleFilterBackend",
        "support.api.visibility.VisibleSearchFilter",
        "support.api.visibility.VisibleOrderingFilter",
    ],
    # JSON only in production: the browsable API's forms are a door of their own (DEBUG brings them).
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        *(["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    ],
    # JSON with bounded nesting and numbers (support.api.parsers); forms and uploads as DRF's defaults.
    "DEFAULT_PARSER_CLASSES": [
        "support.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "support.api.exceptions.exception_handler",
    # The user rate and a view's throttle_scope rate, as atomic counters in one Redis round trip.
    "DEFAULT_THROTTLE_CLASSES": ["support.api.throttles.RateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "user": env_str("API_USER_RATE", "2000/hour"),
        "voucher_lookup": env_str("API_VOUCHER_LOOKUP_RATE", "120/minute"),
    },
    # 0, not None: DRF reads None as "trust any X-Forwarded-For" (the throttle reads support.http instead).
    "NUM_PROXIES": env_int("NUM_PROXIES", 0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "TrustSupport API",
    "DESCRIPTION": "Families, pupils, schools and partners of the trust, scoped to the caller's role.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Each caller is shown the operations it may call and the fields it may see (support/api/schema.py).
    "SERVE_PUBLIC": False,
    "SERVE_PERMISSIONS": ["support.api.schema.UsesTheApi"],
    "DEFAULT_GENERATOR_CLASS": "support.api.schema.RoleSchemaGenerator",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Two different "kind" enums (ledger entries, uniform items) get names of their own.
    "ENUM_NAME_OVERRIDES": {
        "LedgerEntryKindEnum": "funds.models.LedgerEntry.Kind",
        "ItemKindEnum": "uniform.models.ItemKind",
        "ConsentMethodEnum": "support.models.consents.ConsentMethod",
        "SignpostKindEnum": "signposting.models.Signpost.Kind",
        "SignpostOutcomeEnum": "signposting.models.Signpost.Outcome",
        "AskKindEnum": "asks.models.AskKind",
        "AskOutcomeEnum": "asks.models.Ask.Outcome",
        "ReferralStateEnum": "deliveries.models.Referral.State",
        "VoucherStateEnum": "vouchers.models.Voucher.State",
        "ConditionEnum": "uniform.models.Condition",
        "SecondhandConditionEnum": "uniform.models.SECONDHAND_CHOICES",
        "RecordableConsentMethodEnum": "support.models.consents.RECORDABLE_METHODS",
    },
}

# --- Logging --------------------------------------------------------------------------------
# Every line carries the id of the request it was written in (support.middleware): the 500 page shows
# the id, so a user's report finds the traceback. bin/prod captures this output into .prod/NAME/log/web.log.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "support.middleware.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["request_id"], "formatter": "plain"}
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # WeasyPrint logs every step of every render at INFO.
    "loggers": {
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# --- Vouchers -------------------------------------------------------------------------------
VOUCHER_LOOKUP_USER_MISSES = env_int("VOUCHER_LOOKUP_USER_MISSES", 20)
VOUCHER_LOOKUP_IP_MISSES = env_int("VOUCHER_LOOKUP_IP_MISSES", 50)
VOUCHER_LOOKUP_WINDOW_SECONDS = env_int("VOUCHER_LOOKUP_WINDOW_SECONDS", 15 * 60)
VOUCHER_LOOKUP_LOCK_SECONDS = env_int("VOUCHER_LOOKUP_LOCK_SECONDS", 15 * 60)
SMS_BACKEND = env_str("SMS_BACKEND", "vouchers.sms.ConsoleSMSBackend")
# How many trusted reverse proxies stand in front of the app (0: use the connection's address).
NUM_PROXIES = env_int("NUM_PROXIES", 0)
# Sign-in failures are counted per user name and address, the address read through NUM_PROXIES and an
# IPv6 caller counted by its /56 (support.http.sign_in_address).
AXES_CLIENT_IP_CALLABLE = "support.http.sign_in_address"

CELERY_BEAT_SCHEDULE = {
    # Tasks queued while the broker was down wait in the outbox (support.jobs) until this sends them.
    "relay-outbox-every-minute": {
        "task": "support.relay_outbox",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    "expire-vouchers-nightly": {
        "task": "vouchers.expire_vouchers",
        "schedule": crontab(hour=0, minute=15),
        "options": {"expires": 60 * 60},
    },
    # Last month's statement for each partner, after the night's expiry has run (the task is idempotent).
    "partner-statements-monthly": {
        "task": "vouchers.monthly_statements",
        "schedule": crontab(day_of_month=1, hour=6, minute=0),
        "options": {"expires": 12 * 60 * 60},
    },
    "remind-due-pledges-daily": {
        "task": "funds.remind_due_pledges",
        "schedule": crontab(hour=7, minute=30),
        "options": {"expires": 60 * 60},
    },
    # Families whose delivery (white goods, furniture) is expected tomorrow are told (once each).
    "remind-deliveries-daily": {
        "task": "deliveries.remind_before_delivery",
        "schedule": crontab(hour=9, minute=0),
        "options": {"expires": 60 * 60},
    },
    "checkpoint-funds-nightly": {
        "task": "funds.checkpoint_funds",
        "schedule": crontab(hour=1, minute=30),
        "options": {"expires": 60 * 60},
    },
    # The family search's distinct names: those no family bears any longer are taken away.
    "tidy-search-names-nightly": {
        "task": "support.tidy_search_names",
        "schedule": crontab(hour=2, minute=30),
        "options": {"expires": 60 * 60},
    },
    # Uploaded pupil files: finished ones' content, and previews unapplied after the policy's days.
    "purge-pupil-uploads-nightly": {
        "task": "support.purge_pupil_uploads",
        "schedule": crontab(hour=2, minute=15),
        "options": {"expires": 60 * 60},
    },
    # Asks for help older than ASKS_RETENTION_DAYS are deleted.
    "purge-asks-nightly": {
        "task": "asks.purge_asks",
        "schedule": crontab(hour=2, minute=45),
        "options": {"expires": 60 * 60},
    },
    # Retention: families with no activity for RETENTION_YEARS_AFTER_LEAVING years are anonymised.
    "anonymise-expired-weekly": {
        "task": "support.anonymise_expired",
        "schedule": crontab(day_of_week="sunday", hour=3, minute=0),
        "options": {"expires": 6 * 60 * 60},
    },
    # Donors' Gift Aid declarations six years after the financial year of their last gift or claim.
    "anonymise-gift-aid-declarations-weekly": {
        "task": "funds.anonymise_gift_aid_declarations",
        "schedule": crontab(day_of_week="sunday", hour=3, minute=30),
        "options": {"expires": 6 * 60 * 60},
    },
}
RETENTION_YEARS_AFTER_LEAVING = env_int("RETENTION_YEARS_AFTER_LEAVING", 6)

# --- Asks for help (the public page per school) ----------------------------------------------
# An ask is deleted this many days after it arrived, whatever became of it (asks.purge_asks, nightly).
ASKS_RETENTION_DAYS = env_int("ASKS_RETENTION_DAYS", 90)
ASKS_PER_ADDRESS_PER_HOUR = env_int("ASKS_PER_ADDRESS_PER_HOUR", 5)
ASKS_PER_ADDRESS_PER_DAY = env_int("ASKS_PER_ADDRESS_PER_DAY", 20)
ASKS_PER_SCHOOL_PER_HOUR = env_int("ASKS_PER_SCHOOL_PER_HOUR", 200)
# How soon the confirmation promises a reply, in school days.
ASKS_REPLY_SCHOOL_DAYS = env_int("ASKS_REPLY_SCHOOL_DAYS", 3)
