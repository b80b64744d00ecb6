"""Settings for every environment, read from environment variables.

The defaults give the embedded set-up of `make run` (SQLite, in-memory channel layer, local event
bus). `DJANGO_ENV=production` refuses to start while any default is still insecure.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.secret_keys import development_secret_key, secret_weakness

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc


def cost_buckets_by_scope(raw: str) -> dict[str, tuple[int, float]]:
    """ "events=4000:200,distribution=8000:400" -> {"EVENTS": (4000, 200.0), ...}."""
    buckets: dict[str, tuple[int, float]] = {}
    for entry in filter(None, (part.strip() for part in raw.split(","))):
        scope, _, bucket = entry.partition("=")
        size, _, rate = bucket.partition(":")
        try:
            buckets[scope.strip().upper()] = (int(size), float(rate))
        except ValueError:
            raise ImproperlyConfigured(
                f"GRAPHQL_COST_BUCKETS_BY_SCOPE: {entry!r} is not scope=size:rate"
            ) from None
    return buckets


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


DJANGO_ENV = env_str("DJANGO_ENV", "development")
if DJANGO_ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured("DJANGO_ENV must be development, test or production")
IS_PRODUCTION = DJANGO_ENV == "production"

# Outside production an unset SECRET_KEY is this checkout's own random key, made by the first
# process and kept in a git-ignored file that every later one (test servers too) reads. A public
# default would open everything it keys: sealed codes, digests, tokens. Production must set it.
DEVELOPMENT_SECRET_KEY_FILE = BASE_DIR / ".secrets" / "development-secret-key"
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY and not IS_PRODUCTION:
    SECRET_KEY = development_secret_key(DEVELOPMENT_SECRET_KEY_FILE)
DEBUG = env_bool("DEBUG", not IS_PRODUCTION)
ALLOWED_HOSTS = [
    h for h in env_str("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [o for o in env_str("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

# The project's modules (packages under modules/), in the order their faces merge into the schema
# (and so the order of schema.graphql). The one list: INSTALLED_APPS, EVENT_MODULES, schema/root.py
# and the module checks read it; `manage.py startmodule` appends to it.
MODULES = [
    "auth",
    "user",
    "distribution",  # sample
    "shipping",  # sample
    "jobs",
    "ops",
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "strawberry_django",
    "django_filters",
    "events",
    "schema",
    "schema.trusted_documents",
    *(f"modules.{name}" for name in MODULES),
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves /static/ (GraphiQL, the ops dashboard) from the app itself: no CDN, no extra server.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.middleware.CorrelationIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
AUTH_USER_MODEL = "user.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "config" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# Database: a SQLite file in the project folder unless DATABASE_URL says otherwise.
# PostgreSQL cancels a statement after this many ms (0: never): the request gets STATEMENT_TIMEOUT.
GRAPHQL_STATEMENT_TIMEOUT_MS = env_int("GRAPHQL_STATEMENT_TIMEOUT_MS", 10_000)
DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": env_int("DATABASE_POOL_MIN", 2),
        "max_size": env_int("DATABASE_POOL_MAX", 20),
        # A request waits this long for a free connection, then gets SERVER_BUSY (503), not a 500.
        "timeout": float(env_str("DATABASE_POOL_TIMEOUT_SECONDS", "10")),
    }
    # Every statement of this process gives up after this long (GRAPHQL_STATEMENT_TIMEOUT_MS), so
    # one heavy read cannot hold a pooled connection, and the cheap requests waiting, for long.
    if GRAPHQL_STATEMENT_TIMEOUT_MS > 0:
        DATABASES["default"]["OPTIONS"]["options"] = (
            f"-c statement_timeout={GRAPHQL_STATEMENT_TIMEOUT_MS}"
        )
else:
    # WAL lets readers run while the in-process relay writes; IMMEDIATE avoids lock upgrades.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: channel layer and cache when REDIS_URL is set; in-memory otherwise.
REDIS_URL = env_str("REDIS_URL", "")
# Redis pub/sub ignores database numbers, so the channel prefix carries it: servers pointed at
# different databases (/0 in CI, /5 for one developer) never hear each other's live events.
REDIS_DB = urlparse(REDIS_URL).path.strip("/") or "0"
CHANNEL_LAYER_PREFIX = env_str("CHANNEL_LAYER_PREFIX", f"majestic.db{REDIS_DB}.")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": CHANNEL_LAYER_PREFIX},
        }
    }
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    # Room for bursts: the live hub drains its channel at once, but the relay can publish faster.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": 10_000},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "config" / "static"]
# WhiteNoise serves collected files, and the apps' own ones too when collectstatic has not run.
WHITENOISE_USE_FINDERS = True
# Hashed names and compressed copies, cached for a year by browsers (config/static_files.py).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "config.static_files.CollectedStaticFiles"},
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- GraphQL -------------------------------------------------------------------------------------
GRAPHQL_MAX_DEPTH = env_int("GRAPHQL_MAX_DEPTH", 12)
GRAPHQL_MAX_TOKENS = env_int("GRAPHQL_MAX_TOKENS", 2000)
GRAPHQL_MAX_ALIASES = env_int("GRAPHQL_MAX_ALIASES", 30)
GRAPHQL_MAX_DIRECTIVES = env_int("GRAPHQL_MAX_DIRECTIVES", 50)
GRAPHQL_MAX_DOCUMENT_CHARS = env_int("GRAPHQL_MAX_DOCUMENT_CHARS", 30_000)
# Query cost (schema/guard/): an operation above GRAPHQL_MAX_COST is refused before it runs; each
# client has a leaky bucket of GRAPHQL_COST_BUCKET_SIZE points restored at
# GRAPHQL_COST_RESTORE_RATE per second (a frontend's normal use never empties it). API keys with
# a scope listed in GRAPHQL_COST_BUCKETS_BY_SCOPE ("events=4000:200,distribution=8000:400") get
# that bucket instead (the largest of their scopes').
GRAPHQL_MAX_COST = env_int("GRAPHQL_MAX_COST", 1000)
GRAPHQL_COST_BUCKET_SIZE = env_int("GRAPHQL_COST_BUCKET_SIZE", 2000)
GRAPHQL_COST_RESTORE_RATE = float(env_str("GRAPHQL_COST_RESTORE_RATE", "100"))
GRAPHQL_COST_BUCKETS_BY_SCOPE = cost_buckets_by_scope(env_str("GRAPHQL_COST_BUCKETS_BY_SCOPE", ""))
# A bucket in Redis answers within this time, or the operation runs unmetered (logged).
GRAPHQL_COST_REDIS_TIMEOUT_SECONDS = float(env_str("GRAPHQL_COST_REDIS_TIMEOUT_SECONDS", "0.5"))
# Who may introspect: on (anyone), staff, off. Production defaults to staff (GraphiQL signed in).
GRAPHQL_INTROSPECTION = env_str("GRAPHQL_INTROSPECTION", "staff" if IS_PRODUCTION else "on")
if GRAPHQL_INTROSPECTION not in {"on", "staff", "off"}:
    raise ImproperlyConfigured("GRAPHQL_INTROSPECTION must be on, staff or off")
# "Did you mean ...?" in error messages maps the schema for whoever cannot introspect it.
GRAPHQL_HIDE_SUGGESTIONS = env_bool("GRAPHQL_HIDE_SUGGESTIONS", IS_PRODUCTION)
GRAPHQL_MAX_PAGE_SIZE = 100
# Off (`GRAPHQL_ENGINE=off`): the schema is built without the read engine (schema/engine/), and
# every field resolves Strawberry's own way. CI runs the suite once like this.
GRAPHQL_ENGINE = env_bool("GRAPHQL_ENGINE", True)
# Documents by id (schema/trusted_documents): off | allow | require (registered documents only;
# free text from staff and FREE_TEXT_OPERATIONS keys). See README for what each mode accepts.
GRAPHQL_TRUSTED_DOCUMENTS = env_str("GRAPHQL_TRUSTED_DOCUMENTS", "off").strip().lower()
if GRAPHQL_TRUSTED_DOCUMENTS not in {"off", "allow", "require"}:
    raise ImproperlyConfigured(
        "GRAPHQL_TRUSTED_DOCUMENTS must be off, allow or require,"
        f" got {GRAPHQL_TRUSTED_DOCUMENTS!r}"
    )
# How long a process keeps a registered document in memory: a removal made by another process
# (manage.py trusted_documents remove) reaches this one within this time.
GRAPHQL_TRUSTED_DOCUMENTS_CACHE_SECONDS = env_int("GRAPHQL_TRUSTED_DOCUMENTS_CACHE_SECONDS", 60)
GRAPHQL_MAX_BODY_BYTES = env_int("GRAPHQL_MAX_BODY_BYTES", 1_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = GRAPHQL_MAX_BODY_BYTES
STRAWBERRY_DJANGO = {
    "MUTATIONS_DEFAULT_HANDLE_ERRORS": False,
    "GENERATE_ENUMS_FROM_CHOICES": False,
    "MAP_AUTO_ID_AS_GLOBAL_ID": True,
    "DEFAULT_PK_FIELD_NAME": "uuid",
}

# --- auth ----------------------------------------------------------------------------------------
JWT_SIGNING_KEY = env_str("JWT_SIGNING_KEY", "") or SECRET_KEY
JWT_ISSUER = env_str("JWT_ISSUER", "majestic")
ACCESS_TOKEN_LIFETIME = timedelta(seconds=env_int("ACCESS_TOKEN_LIFETIME_SECONDS", 15 * 60))
REFRESH_TOKEN_LIFETIME = timedelta(
    seconds=env_int("REFRESH_TOKEN_LIFETIME_SECONDS", 30 * 24 * 3600)
)
VERIFICATION_CODE_TTL = timedelta(minutes=3)
VERIFICATION_CODE_MAX_ATTEMPTS = 5
VERIFICATION_CODE_DAILY_LIMIT = env_int("VERIFICATION_CODE_DAILY_LIMIT", 5)
PHONE_STATUS_RATE_LIMIT_PER_MINUTE = env_int("PHONE_STATUS_RATE_LIMIT_PER_MINUTE", 30)
# Codes asked for from one client address per hour (SMS pumping), on top of the per-number limit.
VERIFICATION_CODE_IP_HOURLY_LIMIT = env_int("VERIFICATION_CODE_IP_HOURLY_LIMIT", 30)
# Password sign-in attempts per minute from one client address, and failures for one username
# from one address; failures for one username from all addresses together, much looser so that a
# few wrong passwords sent from elsewhere do not lock its staff member out.
SIGN_IN_RATE_LIMIT_PER_MINUTE = env_int("SIGN_IN_RATE_LIMIT_PER_MINUTE", 10)
SIGN_IN_FAILURES_PER_USERNAME_PER_MINUTE = env_int(
    "SIGN_IN_FAILURES_PER_USERNAME_PER_MINUTE", 10 * SIGN_IN_RATE_LIMIT_PER_MINUTE
)
# Proxies in front of the app that append to X-Forwarded-For (0: use the socket's address).
# Only the app reads forwarding headers: every way the project starts a server (make run,
# config/gunicorn.py, tests) turns the server's own handling off (uvicorn --no-proxy-headers).
TRUSTED_PROXY_HOPS = env_int("TRUSTED_PROXY_HOPS", 0)
if TRUSTED_PROXY_HOPS < 0:
    raise ImproperlyConfigured(f"TRUSTED_PROXY_HOPS must be 0 or more, got {TRUSTED_PROXY_HOPS}")
# Keys the digest of a banned user's number; keep it stable, or old bans stop matching.
BANNED_PHONE_DIGEST_KEY = env_str("BANNED_PHONE_DIGEST_KEY", "") or SECRET_KEY
# "+15550000001:123456,+15550000002:654321": fixed codes that send nothing (never in production).
AUTH_TEST_PHONE_NUMBERS = env_str("AUTH_TEST_PHONE_NUMBERS", "")
# Shows verification codes in the server console until a notifier exists (development only).
AUTH_PRINT_VERIFICATION_CODES = env_bool(
    "AUTH_PRINT_VERIFICATION_CODES", DJANGO_ENV == "development"
)

# sample: begin (tools/new_project.py can leave the logistics sample out)
# --- shipping ---
# Items still CREATED or MOVING after this many days are reported by the heartbeat.
SHIPPING_STALE_ITEM_DAYS = env_int("SHIPPING_STALE_ITEM_DAYS", 14)
# sample: end

# --- jobs (bulk work off the request) ---
# local: workers find jobs in the database (and the server runs one, JOBS_WORKER_IN_PROCESS);
# sqs: a started job's uuid goes to JOBS_SQS_QUEUE_URL, which `manage.py work_jobs` long-polls.
JOBS_BACKEND = env_str("JOBS_BACKEND", "local")
if JOBS_BACKEND not in {"local", "sqs"}:
    raise ImproperlyConfigured("JOBS_BACKEND must be local or sqs")
JOBS_WORKER_IN_PROCESS = env_bool("JOBS_WORKER_IN_PROCESS", JOBS_BACKEND == "local")
JOBS_SQS_QUEUE_URL = env_str("JOBS_SQS_QUEUE_URL", "")
# Long poll of one receive; how long a message stays hidden while its job runs (renewed each
# chunk; the template's VisibilityTimeout) and after a failed attempt.
JOBS_SQS_WAIT_SECONDS = env_int("JOBS_SQS_WAIT_SECONDS", 20)
JOBS_SQS_VISIBILITY_SECONDS = env_int("JOBS_SQS_VISIBILITY_SECONDS", 300)
JOBS_RETRY_SECONDS = env_int("JOBS_RETRY_SECONDS", 30)
# Rows one job takes; rows per chunk (one transaction each); how long a worker's claim holds
# without a committed chunk before another worker may take the job over.
JOBS_MAX_ROWS = env_int("JOBS_MAX_ROWS", 10_000)
JOBS_CHUNK_SIZE = env_int("JOBS_CHUNK_SIZE", 100)
JOBS_LEASE_SECONDS = env_int("JOBS_LEASE_SECONDS", 120)
# Claims of one job before it is FAILED (its chunk keeps failing, or its workers keep dying).
JOBS_MAX_ATTEMPTS = env_int("JOBS_MAX_ATTEMPTS", 5)
JOBS_POLL_SECONDS = float(env_str("JOBS_POLL_SECONDS", "5"))
# The largest CSV file a multipart upload may carry (bytes).
JOBS_UPLOAD_MAX_BYTES = env_int("JOBS_UPLOAD_MAX_BYTES", 2_000_000)
# bulkJobUpdates looks at its job this often (a push at least every second while it runs).
JOBS_UPDATES_SECONDS = float(env_str("JOBS_UPDATES_SECONDS", "0.5"))

# --- events --------------------------------------------------------------------------------------
EVENTS_SOURCE_PREFIX = env_str("EVENTS_SOURCE_PREFIX", "majestic")
EVENTS_BACKEND = env_str("EVENTS_BACKEND", "local")  # local | eventbridge
EVENTBRIDGE_BUS_NAME = env_str("EVENTBRIDGE_BUS_NAME", "majestic-events")
EVENTS_RELAY_IN_PROCESS = env_bool("EVENTS_RELAY_IN_PROCESS", EVENTS_BACKEND == "local")
EVENTS_MAX_ATTEMPTS = env_int("EVENTS_MAX_ATTEMPTS", 8)
EVENTS_TEMPLATE_PATH = env_str("EVENTS_TEMPLATE_PATH", str(BASE_DIR / "infra" / "template.yaml"))
# Where modules declare their events; imported by path at run time (absent ones are skipped).
EVENT_MODULES = [f"modules.{name}.events" for name in MODULES]
# Relay: rows claimed per round, how long a claim holds before another worker may take the rows,
# retry backoff (exponential with jitter), how often an idle worker looks for due rows.
EVENTS_RELAY_CLAIM_SIZE = env_int("EVENTS_RELAY_CLAIM_SIZE", 50)
EVENTS_RELAY_LEASE_SECONDS = env_int("EVENTS_RELAY_LEASE_SECONDS", 120)
EVENTS_RETRY_BASE_SECONDS = float(env_str("EVENTS_RETRY_BASE_SECONDS", "2"))
EVENTS_RETRY_MAX_SECONDS = float(env_str("EVENTS_RETRY_MAX_SECONDS", "600"))
EVENTS_RELAY_POLL_SECONDS = float(env_str("EVENTS_RELAY_POLL_SECONDS", "5"))
# Sent outbox rows are kept this long (heartbeat purges older ones); dead rows stay until re-driven.
EVENTS_SENT_RETENTION_DAYS = env_int("EVENTS_SENT_RETENTION_DAYS", 7)
# Each publish attempt's record (eventDeliveries' attempts, eventStats) is kept this long.
EVENTS_DELIVERY_RETENTION_DAYS = env_int("EVENTS_DELIVERY_RETENTION_DAYS", 7)
# eventStats looks back at most this far.
EVENT_STATS_MAX_WINDOW_SECONDS = env_int("EVENT_STATS_MAX_WINDOW_SECONDS", 86_400)
# A relay worker not seen for this long is stale in systemStatus, and forgotten after the other.
RELAY_WORKER_STALE_SECONDS = env_int("RELAY_WORKER_STALE_SECONDS", 30)
RELAY_WORKER_FORGET_SECONDS = env_int("RELAY_WORKER_FORGET_SECONDS", 3600)
# Key that seals secrets inside events (the verification code); KMS stands in for it in AWS.
EVENTS_SEALING_KEY = env_str("EVENTS_SEALING_KEY", "")
# In AWS: the KMS key (id, ARN or alias) that seals instead; the template's SealingKeyArn output.
EVENTS_SEALING_KMS_KEY = env_str("EVENTS_SEALING_KMS_KEY", "")
# The local notifier's JSON-lines file: every code in clear, so never in production.
NOTIFICATIONS_FILE = env_str("NOTIFICATIONS_FILE", "")
# The in-process gateway client the local bus hands to the functions' handlers, and the opener
# they use for locally sealed codes: named here, so the functions' code never names the monolith.
LOCAL_GATEWAY_CLIENT = "schema.transports.local_client.execute"
EVENTS_SEALING_OPENER = "events.sealing.open_sealed_code"

# --- live: GraphQL over websockets, subscriptions ------------------------------------------------
# A client must send connection_init this soon after connecting (else close 4408).
GRAPHQL_WS_INIT_TIMEOUT_SECONDS = env_int("GRAPHQL_WS_INIT_TIMEOUT_SECONDS", 10)
# Operations one connection may run at once; more get an `error` message each.
GRAPHQL_WS_MAX_OPERATIONS = env_int("GRAPHQL_WS_MAX_OPERATIONS", 100)
# One message larger than this closes the connection with 1009.
GRAPHQL_WS_MAX_MESSAGE_BYTES = env_int("GRAPHQL_WS_MAX_MESSAGE_BYTES", GRAPHQL_MAX_BODY_BYTES)
# Messages received but not yet handled; a client that floods past this is closed with 1008.
GRAPHQL_WS_MAX_BACKLOG = env_int("GRAPHQL_WS_MAX_BACKLOG", 1000)
# Long-lived connections check their credentials again this often (expired, banned, revoked: 4403).
GRAPHQL_WS_REAUTHENTICATE_SECONDS = env_int("GRAPHQL_WS_REAUTHENTICATE_SECONDS", 60)
# Items one subscription buffers for a slow client before the oldest are dropped (with a notice).
LIVE_SUBSCRIPTION_BUFFER = env_int("LIVE_SUBSCRIPTION_BUFFER", 100)
# systemStatus subscribers also look again this often, for changes nobody announced.
LIVE_STATUS_POLL_SECONDS = env_int("LIVE_STATUS_POLL_SECONDS", 15)
# Live messages a process queues for the channel layer; past it the oldest go (subscribers told).
LIVE_PUBLISH_QUEUE_SIZE = env_int("LIVE_PUBLISH_QUEUE_SIZE", 10_000)
# How long one live message may wait on the channel layer (Redis) before it counts unconfirmed.
LIVE_PUBLISH_TIMEOUT_SECONDS = float(env_str("LIVE_PUBLISH_TIMEOUT_SECONDS", "5"))
# domainEvents(after:) replays at most this many events; a longer gap is refused with a code.
LIVE_REPLAY_MAX_EVENTS = env_int("LIVE_REPLAY_MAX_EVENTS", 1000)
# Each gateway process shares its websocket and subscription counts (in Redis, with REDIS_URL)
# this often; a process not heard from for three times as long counts no more.
LIVE_COUNTS_REFRESH_SECONDS = float(env_str("LIVE_COUNTS_REFRESH_SECONDS", "5"))

# --- tracing (config/tracing.py) -----------------------------------------------------------------
# OpenTelemetry's own variable: unset (or "none") traces nothing; "otlp" exports with the standard
# OTEL_EXPORTER_OTLP_* variables, "console" prints each span as JSON to standard output.
OTEL_TRACES_EXPORTER = env_str("OTEL_TRACES_EXPORTER", "").strip().lower()
TRACING_ENABLED = OTEL_TRACES_EXPORTER not in ("", "none")
OTEL_SERVICE_NAME = env_str("OTEL_SERVICE_NAME", "majestic")

# text (default, for people) or json (one object per line, for a log pipeline).
LOG_FORMAT = env_str("LOG_FORMAT", "text")
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, got {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"correlation": {"()": "config.middleware.CorrelationIdLogFilter"}},
    "formatters": {
        "text": {"format": "%(levelname)s %(asctime)s [%(correlation_id)s] %(name)s %(message)s"},
        "json": {"()": "config.log_format.JsonLogFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["correlation"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Operations: readiness and metrics ------------------------------------------------------------
# /readyz fails when the oldest pending outbox event is older than this (the relay is stuck or the
# bus refuses); 0 leaves the outbox out of readiness. Generous by default: every gateway failing
# readiness at once takes the API out of the load balancer while the bus is down.
READINESS_MAX_OUTBOX_AGE_SECONDS = env_int("READINESS_MAX_OUTBOX_AGE_SECONDS", 600)
# How long /readyz waits for Redis before calling it down.
READINESS_TIMEOUT_SECONDS = env_int("READINESS_TIMEOUT_SECONDS", 2)
# /metrics (Prometheus) answers only when this is set, and only to `Authorization: Bearer <it>`.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")

# --- HTTPS ---------------------------------------------------------------------------------------
# Behind a proxy that terminates TLS the app sees plain HTTP: X-Forwarded-Proto tells it otherwise,
# but only when the operator says a proxy sets it (and overwrites what a client sends).
TRUSTED_PROXY_TLS = env_bool("TRUSTED_PROXY_TLS", False)
if TRUSTED_PROXY_TLS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Browsers then refuse plain HTTP to this host for this long; Django sends it on HTTPS requests.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600 if IS_PRODUCTION else 0)
if SECURE_HSTS_SECONDS < 0:
    raise ImproperlyConfigured(f"SECURE_HSTS_SECONDS must be 0 or more, got {SECURE_HSTS_SECONDS}")
if IS_PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True


# Secrets that fall back to SECRET_KEY when unset; when set, they are checked on their own.
OWN_SECRETS = ("JWT_SIGNING_KEY", "BANNED_PHONE_DIGEST_KEY", "EVENTS_SEALING_KEY")


def secret_problems() -> list[str]:
    """Weak or shared production secrets, by setting name (never by value).

    Each secret set must be strong (config.secret_keys.secret_weakness) and its own: one leaked
    value must not open two doors. The sealing key is handed to the notification function, so
    sharing it with JWT_SIGNING_KEY would let that function forge sign-ins; a JWT_SIGNING_KEY
    equal to SECRET_KEY gives none of the separation it is set for. Unset, a secret is SECRET_KEY.
    """
    if not SECRET_KEY:
        return ["SECRET_KEY is not set (production never uses a development key)"]
    problems = []
    secrets_set = {"SECRET_KEY": SECRET_KEY}
    secrets_set.update({name: value for name in OWN_SECRETS if (value := env_str(name))})
    for name, value in secrets_set.items():
        if weakness := secret_weakness(value):
            problems.append(f"{name} is {weakness}")
    names = list(secrets_set)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            if secrets_set[first] == secrets_set[second]:
                problems.append(f"{second} equals {first} (each secret must be its own)")
    return problems


def insecure_production_settings() -> list[str]:
    """What stops this configuration from running in production, one line per setting."""
    problems = secret_problems()
    if DEBUG:
        problems.append("DEBUG is on")
    if AUTH_TEST_PHONE_NUMBERS:
        problems.append("AUTH_TEST_PHONE_NUMBERS is set (test numbers bypass verification)")
    if AUTH_PRINT_VERIFICATION_CODES:
        problems.append("AUTH_PRINT_VERIFICATION_CODES is on (codes would reach the logs)")
    if not EVENTS_SEALING_KEY and not EVENTS_SEALING_KMS_KEY:
        problems.append(
            "EVENTS_SEALING_KEY and EVENTS_SEALING_KMS_KEY are empty"
            " (verification codes need a sealing key)"
        )
    if NOTIFICATIONS_FILE:
        problems.append("NOTIFICATIONS_FILE is set (the local notifier writes codes in clear)")
    if "*" in ALLOWED_HOSTS:
        problems.append("ALLOWED_HOSTS contains '*'")
    if TRUSTED_PROXY_TLS and TRUSTED_PROXY_HOPS == 0:
        problems.append(
            "TRUSTED_PROXY_TLS is on but TRUSTED_PROXY_HOPS is 0 (behind a proxy every client"
            " would share its address, and the per-address rate limits with it)"
        )
    return problems


if IS_PRODUCTION and (problems := insecure_production_settings()):
    raise ImproperlyConfigured("Refusing to start in production: " + "; ".join(problems))
