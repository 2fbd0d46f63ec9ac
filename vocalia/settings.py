"""Vocalia settings: one module, every value from the environment (see docs/operations.md)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlparse, urlunparse

import dj_database_url
from django.conf import locale as django_locale
from django.utils.translation import gettext_lazy as _

from vocalia import env

BASE_DIR = env.BASE_DIR

DEBUG = env.get_bool("DEBUG", True)
# Django's technical 404 page lists every URL pattern: even in DEBUG (`make run`) it is shown only when asked,
# and an unknown address gets the product's own translated 404 page.
DEBUG_URL_LIST = env.get_bool("DEBUG_URL_LIST", False)
SECRET_KEY = env.get("SECRET_KEY", "dev-insecure-secret-key-change-me-in-production-0123456789")
if not DEBUG and SECRET_KEY.startswith("dev-insecure"):
    raise RuntimeError("SECRET_KEY must be set when DEBUG is off.")

# The platform host serves the agency admin, the widget API, the REST API and
# Twilio webhooks; every client gets <slug>.<BASE_DOMAIN> plus custom domains.
BASE_DOMAIN = env.get("BASE_DOMAIN", "localhost")
PLATFORM_HOSTS = env.get_list("PLATFORM_HOSTS", [BASE_DOMAIN, "127.0.0.1", "testserver"])
PUBLIC_URL = env.get("PUBLIC_URL", "http://localhost:8000")
ALLOWED_HOSTS = env.get_list("ALLOWED_HOSTS", ["*"] if DEBUG else [f".{BASE_DOMAIN}", BASE_DOMAIN])
CSRF_TRUSTED_ORIGINS = env.get_list("CSRF_TRUSTED_ORIGINS", [])
USE_X_FORWARDED_HOST = env.get_bool("USE_X_FORWARDED_HOST", False)
if env.get_bool("SECURE_PROXY_SSL", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.get_bool("SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_DOMAIN = None  # host-only: a session on one client's host is never sent to another's
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "SAMEORIGIN"
SECURE_REFERRER_POLICY = "same-origin"

SHARED_APPS = [
    "django_tenants",
    "daphne",
    "apps.core",
    "apps.accounts",
    "apps.clients",
    "apps.telephony",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "apps.core.admin_site.VocaliaAdminConfig",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "djstripe",
    "encrypted_model_fields",
    "apps.dashboard",
    "apps.api",
    "apps.widget",
    "apps.schedule",
    "apps.billing",
]
TENANT_APPS = [
    "apps.usage",
    "apps.audit",
    "apps.agents",
    "apps.knowledge",
    "apps.conversations",
    "apps.bookings",
    "apps.crm",
    "apps.messaging",
    "apps.outbound",
    "apps.integrations",
    "apps.events",
    "apps.calls",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "clients.Client"
TENANT_DOMAIN_MODEL = "clients.Domain"
# New clients are cloned from this migrated template schema (see apps/clients/provisioning.py).
TENANT_BASE_SCHEMA = "_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
# Issue `SET search_path` once per connection and schema instead of on every cursor (~12 per chat turn,
# a quarter of a turn's time under load). Safe with this django-tenants: a rollback or a rollback to a
# savepoint (which undo a SET in PostgreSQL) make it forget and set the path again.
TENANT_LIMIT_SET_CALLS = env.get_bool("TENANT_LIMIT_SET_CALLS", True)
PUBLIC_SCHEMA_NAME = "public"
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]

MIDDLEWARE = [
    "apps.core.middleware.LastResortMiddleware",
    "apps.core.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "apps.clients.middleware.ClientResolutionMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "apps.clients.middleware.ClientAccessMiddleware",
    "apps.clients.middleware.ClientLanguageMiddleware",
    "apps.core.middleware.ErrorMappingMiddleware",
]

# The public widget API (/widget/v1/) is served by a second Django handler with only what it needs: no
# sessions, users, CSRF (key + Origin + token instead), messages or dashboard checks (vocalia/asgi.py).
WIDGET_MIDDLEWARE = ["apps.core.middleware.LastResortMiddleware", "apps.widget.middleware.WidgetEntryMiddleware"]
# The debug page escapes lone surrogates instead of failing on them (apps/core/errors.py).
DEFAULT_EXCEPTION_REPORTER = "apps.core.errors.PrintableExceptionReporter"

ROOT_URLCONF = "vocalia.urls_tenant"
PUBLIC_SCHEMA_URLCONF = "vocalia.urls_public"
WSGI_APPLICATION = "vocalia.wsgi.application"
ASGI_APPLICATION = "vocalia.asgi.application"

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
                "apps.dashboard.context.dashboard",
            ],
        },
    },
]

DATABASE_URL = env.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/vocalia")
# A connection pool (psycopg_pool): under ASGI every request runs its sync code on a thread of its own, so
# persistent per-thread connections would pile up until PostgreSQL refuses more; the pool reuses them.
DB_POOL_MAX = env.get_int("DB_POOL_MAX", 20)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
if DB_POOL_MAX > 0:
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {"min_size": 1, "max_size": DB_POOL_MAX,
                                                              "timeout": env.get_int("DB_POOL_TIMEOUT_S", 10)}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["TEST"] = {"NAME": env.get("TEST_DATABASE_NAME", "test_vocalia")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def redis_url(url: str, db: int) -> str:
    """The same Redis server with another logical database (works for tcp and unix sockets)."""
    parts = urlparse(url)
    query = [(key, value) for key, value in parse_qsl(parts.query) if key != "db"]
    if parts.scheme == "unix":
        # unix:///path.sock?db=N: urlunparse would drop the empty authority (unix:/path.sock), which redis-py
        # refuses ("Redis URL must specify one of the following schemes"), so the URL is spelled out.
        return f"unix://{parts.netloc}{parts.path}?{urlencode([*query, ('db', str(db))])}"
    return urlunparse(parts._replace(path=f"/{db}", query=urlencode(query)))


REDIS_URL = env.get("REDIS_URL", "redis://127.0.0.1:6379/0")
REDIS_DB_BASE = env.get_int("REDIS_DB_BASE", 0)  # cache, broker and channels use BASE, BASE+1, BASE+2

CACHES = {
    "default": {
        "BACKEND": "apps.core.redis.RedisCache",  # Django's, one Redis client per pool
        "LOCATION": redis_url(REDIS_URL, REDIS_DB_BASE),
        # One client's cache never answers another: every key carries the active schema.
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        "KEY_PREFIX": env.get("CACHE_KEY_PREFIX", "vocalia"),
        "OPTIONS": {"pool_class": "apps.core.redis.SharedConnectionPool"},
    }
}
SESSION_ENGINE = "apps.core.sessions"  # cached_db, refusing forged keys


def _celery_broker_url(url: str) -> str:
    parts = urlparse(url)
    if parts.scheme == "unix":  # kombu spells Redis over a unix socket redis+socket://
        return f"redis+socket://{parts.path}?virtual_host={REDIS_DB_BASE + 1}"
    return redis_url(url, REDIS_DB_BASE + 1)


CELERY_BROKER_URL = env.get("CELERY_BROKER_URL", _celery_broker_url(REDIS_URL))
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.get_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(env.DATA_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "apps.core.tasks.heartbeat", "schedule": timedelta(seconds=10)},
    "notices-sweep": {"task": "apps.messaging.tasks.notices_sweep_task", "schedule": timedelta(seconds=60)},
    "campaigns-sweep": {"task": "apps.messaging.tasks.campaigns_sweep_task", "schedule": timedelta(seconds=60)},
    "outbound-sweep": {"task": "apps.outbound.tasks.outbound_sweep_task", "schedule": timedelta(seconds=30)},
    "webhooks-sweep": {"task": "apps.events.tasks.webhooks_sweep",
                       "schedule": timedelta(seconds=env.get_int("WEBHOOK_SWEEP_INTERVAL_S", 5))},
    "billing-meter-sweep": {"task": "apps.billing.tasks.meter_sweep", "schedule": timedelta(minutes=5)},
    "billing-grace-sweep": {"task": "apps.billing.tasks.grace_sweep", "schedule": timedelta(hours=1)},
    "billing-offline-invoices": {"task": "apps.billing.tasks.invoices_offline_sweep", "schedule": timedelta(hours=24)},
}
HEARTBEAT_MAX_AGE_S = env.get_int("HEARTBEAT_MAX_AGE_S", 45)

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            # channels_redis caps its asyncio pool at 100 connections by default (STACK-NOTES.md). redis-py 8
            # reads with a 5 s socket timeout by default, the same as channels_redis' blocking BZPOPMIN: every
            # socket idle for 5 s crashed its consumer. The read timeout must exceed the block.
            "hosts": [{"address": redis_url(REDIS_URL, REDIS_DB_BASE + 2), "max_connections": 1000,
                       "socket_timeout": 30}],
            "prefix": "vocalia",
        },
    }
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env.get("ACCOUNT_EMAIL_VERIFICATION", "mandatory")
ACCOUNT_ADAPTER = "apps.accounts.adapter.AccountAdapter"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
# Login throttling (allauth counts in the cache, i.e. Redis): per IP and per account.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "reset_password": "20/m/ip,5/m/key",
    "confirm_email": "1/3m/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Vocalia"
ADMIN_REQUIRE_MFA = env.get_bool("ADMIN_REQUIRE_MFA", True)

EMAIL_BACKEND = env.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env.get_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env.get_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env.get("DEFAULT_FROM_EMAIL", "Vocalia <no-reply@vocalia.localhost>")

# Languages: Moroccan Darija (ary) is not in Django; it is added here as right-to-left.
django_locale.LANG_INFO.setdefault(
    "ary", {"bidi": True, "code": "ary", "name": "Moroccan Arabic", "name_local": "الدارجة"}
)
LANGUAGE_CODE = env.get("LANGUAGE_CODE", "fr")
LANGUAGES = [
    ("fr", _("French")),
    ("en", _("English")),
    ("es", _("Spanish")),
    ("ar", _("Arabic")),
    ("ary", _("Moroccan Darija")),
]
LANGUAGES_BIDI = ["he", "ar", "ar-dz", "ckb", "fa", "ug", "ur", "ary"]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["vocalia.formats"]  # dates as each language writes them (Django's ar has no datetime format)
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["apps.api.authentication.SecretKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["apps.api.authentication.HasClient"],
    "DEFAULT_PARSER_CLASSES": ["apps.api.parsers.SafeJSONParser"],
    "EXCEPTION_HANDLER": "apps.api.errors.drf_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
# The REST API's OpenAPI document (apps/api/schema.py). API_WEBHOOK_CATALOGUE: the dotted path of a callable
# returning the webhook event catalogue, merged into the document's `webhooks:` (empty: none).
API_WEBHOOK_CATALOGUE = env.get("API_WEBHOOK_CATALOGUE", "apps.events.catalogue.openapi_catalogue")
# Requests per minute and address to /api/ without a valid key (401s): slows guessing keys down.
API_UNAUTHENTICATED_PER_MINUTE = env.get_int("API_UNAUTHENTICATED_PER_MINUTE", 300)
SPECTACULAR_SETTINGS = {
    "TITLE": "Vocalia REST API",
    "DESCRIPTION": "A client's agents, knowledge base, conversations, leads, appointments, tickets, callbacks, "
                   "usage, webhook endpoints and events, outbound calls, phone calls (transcripts, recordings) "
                   "and phone numbers. "
                   "Authenticate with `Authorization: Bearer sk_…` (dashboard → API keys). "
                   "See docs/api.md for pagination, idempotency, limits and errors.",
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SERVE_URLCONF": "apps.api.schema_urls",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_GENERATE_CHOICE_DESCRIPTION": False,
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SERVERS": [{"url": "/", "description": "This platform"}],
    "ENUM_NAME_OVERRIDES": {
        "AgentStatusEnum": "apps.agents.models.Agent.Status", "LanguageEnum": "apps.agents.models.LANGUAGE_CODES",
        "DocumentStatusEnum": "apps.knowledge.models.Document.Status",
        "DocumentKindEnum": "apps.knowledge.models.Document.Kind",
        "LeadStatusEnum": "apps.crm.models.Lead.Status", "TicketStatusEnum": "apps.crm.models.Ticket.Status",
        "CallbackStatusEnum": "apps.crm.models.Callback.Status",
        "AppointmentStatusEnum": "apps.bookings.models.Appointment.Status",
        "ChannelEnum": "apps.conversations.models.Conversation.Channel",
        "OutcomeEnum": "apps.conversations.models.Conversation.Outcome",
        "RoleEnum": "apps.conversations.models.Message.Role",
        "DeliveryStatusEnum": "apps.events.models.WebhookDelivery.Status",
        "DisabledReasonEnum": "apps.events.models.WebhookEndpoint.DisabledReason",
        "OutboundCallStatusEnum": "apps.outbound.models.OutboundCall.Status",
        "PurposeEnum": "apps.outbound.models.OutboundCall.Purpose",
        "DoNotCallSourceEnum": "apps.outbound.models.DoNotCall.Source",
        "PhoneCallStatusEnum": "apps.calls.models.Call.Status", "DirectionEnum": "apps.calls.models.Call.Direction",
        "ModeEnum": "apps.calls.models.Mode", "PhoneNumberStatusEnum": "apps.telephony.models.PhoneNumber.Status",
        "AccountEnum": "apps.telephony.models.PhoneNumber.Source",
    },
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "apps.api.schema.schema_finish"],
}

# Keys: how long an old secret key keeps working after rotation.
KEY_ROTATION_OVERLAP = timedelta(hours=env.get_int("KEY_ROTATION_OVERLAP_HOURS", 24))
STAFF_ACCESS_LINK_TTL = timedelta(minutes=env.get_int("STAFF_ACCESS_LINK_TTL_MINUTES", 5))
# Secret API keys are stored as HMAC-SHA256(pepper, key); changing the pepper invalidates every sk_ key.
API_KEY_PEPPER = env.get("API_KEY_PEPPER", SECRET_KEY)
RESOLUTION_CACHE_TTL = env.get_int("RESOLUTION_CACHE_TTL_S", 300)

_DEV_FIELD_KEY = "h1aXQ8fE3v7cF0Q1yW3mBqk5r8T2uJ9ZcP4dL6sN0aA="
# A comma-separated list rotates keys (MultiFernet: the first encrypts, all decrypt).
FIELD_ENCRYPTION_KEY = env.get_list("FIELD_ENCRYPTION_KEY", [_DEV_FIELD_KEY])
if not DEBUG and _DEV_FIELD_KEY in FIELD_ENCRYPTION_KEY:
    raise RuntimeError("FIELD_ENCRYPTION_KEY must be set when DEBUG is off.")

STRIPE_LIVE_MODE = env.get_bool("STRIPE_LIVE_MODE", False)
STRIPE_TEST_SECRET_KEY = env.get("STRIPE_TEST_SECRET_KEY", "")
STRIPE_LIVE_SECRET_KEY = env.get("STRIPE_LIVE_SECRET_KEY", "")
DJSTRIPE_FOREIGN_KEY_TO_FIELD = "id"
DJSTRIPE_WEBHOOK_VALIDATION = "verify_signature"
DJSTRIPE_SUBSCRIBER_MODEL = "clients.Client"
DJSTRIPE_SUBSCRIBER_CUSTOMER_KEY = "vocalia_client"

# Billing (docs/billing.md). The agency's own cost per unit, by pool (EUR): what margins are computed against.
BILLING_UNIT_COSTS = {
    "voice_minutes": env.get("BILLING_COST_MINUTE", "0.06"),
    "messages": env.get("BILLING_COST_MESSAGE", "0.02"),
    "chat_turns": env.get("BILLING_COST_CHAT_TURN", "0.002"),
    "llm_tokens": env.get("BILLING_COST_TOKEN", "0.000002"),
}
BILLING_GRACE_DAYS = env.get_int("BILLING_GRACE_DAYS", 7)
BILLING_MINUTE_PACKS = [int(n) for n in env.get_list("BILLING_MINUTE_PACKS", ["100", "500", "1000"])]
BILLING_METER_EVENT_NAME = env.get("BILLING_METER_EVENT_NAME", "vocalia_overage")
BILLING_METER_BATCH = env.get_int("BILLING_METER_BATCH", 500)
BILLING_METER_CONCURRENCY = env.get_int("BILLING_METER_CONCURRENCY", 8)  # meter-event requests in flight
BILLING_GATE_TTL_S = env.get_int("BILLING_GATE_TTL_S", 3600)
# The metered price (Stripe) attached to the meter above: 1 unit = 1 micro of the currency (0.0001 cent).
BILLING_STRIPE_OVERAGE_PRICE = env.get("BILLING_STRIPE_OVERAGE_PRICE", "")
# Who at the agency hears that a client's usage stopped (wallet empty, no card); empty: the admin only shows it.
BILLING_AGENCY_EMAIL = env.get("BILLING_AGENCY_EMAIL", "")

# Language models: the agency's defaults; a client may store its own key on an agent (encrypted).
LLM_DEFAULTS = {
    "openai_compatible": {"api_key": env.get("OPENAI_API_KEY", ""), "base_url": env.get("OPENAI_BASE_URL", ""),
                          "model": env.get("OPENAI_MODEL", "gpt-4o-mini")},
    "anthropic": {"api_key": env.get("ANTHROPIC_API_KEY", ""), "base_url": env.get("ANTHROPIC_BASE_URL", ""),
                  "model": env.get("ANTHROPIC_MODEL", "claude-3-5-haiku-latest")},
}
# A provider that has not finished within this many seconds falls back to the built-in engine.
LLM_TIMEOUT_S = float(env.get("LLM_TIMEOUT_S", "12"))
AGENT_MAX_TURN_CHARS = env.get_int("AGENT_MAX_TURN_CHARS", 4000)

# Widget rate limits: per client, the plan's requests per minute times this; per visitor, messages a minute.
WIDGET_RATE_MULTIPLIER = env.get_int("WIDGET_RATE_MULTIPLIER", 10)
WIDGET_VISITOR_MESSAGES_PER_MINUTE = env.get_int("WIDGET_VISITOR_MESSAGES_PER_MINUTE", 20)
# GET /widget/v1/updates, per conversation: the widget polls every 3 s while a person answers, 15 s otherwise
WIDGET_POLLS_PER_MINUTE = env.get_int("WIDGET_POLLS_PER_MINUTE", 40)

# Voice: speech-to-text and text-to-speech providers (offline twins by default; docs/operations.md).
VOICE_STT = env.get("VOICE_STT", "builtin")  # builtin | deepgram | openai
# The offline recogniser decodes in this many worker processes (pocketsphinx holds the GIL); 0: in a thread.
VOICE_STT_PROCESSES = int(env.get("VOICE_STT_PROCESSES", "2"))
VOICE_TTS = env.get("VOICE_TTS", "builtin")  # builtin | openai | elevenlabs
VOICE = {
    "openai_api_key": env.get("VOICE_OPENAI_API_KEY", env.get("OPENAI_API_KEY", "")),
    "openai_base_url": env.get("VOICE_OPENAI_BASE_URL", "https://api.openai.com/v1"),
    "openai_stt_model": env.get("VOICE_OPENAI_STT_MODEL", "gpt-4o-mini-transcribe"),
    "openai_tts_model": env.get("VOICE_OPENAI_TTS_MODEL", "gpt-4o-mini-tts"),
    "openai_tts_voice": env.get("VOICE_OPENAI_TTS_VOICE", "alloy"),
    "deepgram_api_key": env.get("DEEPGRAM_API_KEY", ""),
    "deepgram_model": env.get("DEEPGRAM_MODEL", "nova-3"),
    "elevenlabs_api_key": env.get("ELEVENLABS_API_KEY", ""),
    "elevenlabs_voice_id": env.get("ELEVENLABS_VOICE_ID", "21m00Tcm4TlvDq8ikWAM"),
}
# A voice session is closed after this many seconds.
VOICE_MAX_SESSION_S = env.get_int("VOICE_MAX_SESSION_S", 900)
# A WebSocket message over this many bytes closes the socket with 1009 (daphne's limit too: scripts/web.py).
WEBSOCKET_MAX_MESSAGE_BYTES = env.get_int("WEBSOCKET_MAX_MESSAGE_BYTES", 1024 * 1024)

# Outside services (docs/integrations.md). Agency defaults for kinds without their own variables above:
# {"sms": {"provider": "<registry name>", "settings": {...}}}; a kind left out falls back to its offline twin.
INTEGRATIONS_DEFAULTS: dict[str, dict[str, object]] = {}
# The agency's Twilio account (docs/telephony.md): numbers, calls and the signature of every Twilio webhook.
if env.get("TWILIO_ACCOUNT_SID") and env.get("TWILIO_AUTH_TOKEN"):
    INTEGRATIONS_DEFAULTS["telephony"] = {"provider": "twilio", "settings": {
        "account_sid": env.get("TWILIO_ACCOUNT_SID"), "auth_token": env.get("TWILIO_AUTH_TOKEN")}}
# Phone calls (docs/telephony.md): how long a call token opens its socket, and a call slot lives unrefreshed.
TELEPHONY_CALL_TOKEN_TTL_S = env.get_int("TELEPHONY_CALL_TOKEN_TTL_S", 120)
TELEPHONY_SLOT_TTL_S = env.get_int("TELEPHONY_SLOT_TTL_S", 900)
# Looked-up credentials (a phone number, an account SID) are stored as HMAC-SHA256(this key, value).
INTEGRATIONS_BLIND_INDEX_KEY = env.get("INTEGRATIONS_BLIND_INDEX_KEY", SECRET_KEY)
# Outbound deliveries: tries before a transient failure becomes `failed`, and the first retry's delay.
# The call task the callbacks sweep hands due callbacks to (apps/schedule/callbacks.py); empty: none yet.
CALLBACK_PLACER = env.get("CALLBACK_PLACER", "")
DELIVERY_MAX_ATTEMPTS = env.get_int("DELIVERY_MAX_ATTEMPTS", 5)
DELIVERY_RETRY_BASE_S = env.get_int("DELIVERY_RETRY_BASE_S", 30)

# Outbound webhooks (docs/webhooks.md). After the immediate try, the waits before each retry (Svix's schedule:
# 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h — about 27 h in all); then the delivery fails.
WEBHOOK_RETRY_SCHEDULE_S = [int(value) for value in env.get_list(
    "WEBHOOK_RETRY_SCHEDULE_S", ["5", "300", "1800", "7200", "18000", "36000", "36000"])]
WEBHOOK_TIMEOUT_S = float(env.get("WEBHOOK_TIMEOUT_S", "15"))
# A worker's claim on a try; past it (the worker died) the sweeper queues the delivery again. > the timeout
# (a batch's requests go out side by side, so a batch lasts about one timeout at worst).
WEBHOOK_LEASE_S = env.get_int("WEBHOOK_LEASE_S", 60)
# Requests one drain task keeps in flight (one sending thread each, per worker process). More threads cost CPU
# in contention for the interpreter (16: the least CPU per delivery measured, bench/webhooks.py).
WEBHOOK_BATCH_SIZE = max(1, env.get_int("WEBHOOK_BATCH_SIZE", 16))
# A drain task hands over to a new one after this long (other tasks get a turn on its worker process).
WEBHOOK_DRAIN_S = env.get_int("WEBHOOK_DRAIN_S", 20)
# How long a kick's mark (a drain is queued or running for this client) lives unless a drain refreshes it.
WEBHOOK_KICK_MARK_MS = env.get_int("WEBHOOK_KICK_MARK_MS", 2000)
# How long a receiver's resolved (and checked) addresses are kept per worker process before DNS is asked again.
WEBHOOK_DNS_TTL_S = env.get_int("WEBHOOK_DNS_TTL_S", 30)
# A fresh delivery is queued at once on commit; the sweeper looks again after this many seconds.
WEBHOOK_KICK_GRACE_S = env.get_int("WEBHOOK_KICK_GRACE_S", 10)
# The enabled endpoints per client, cached in Redis (apps/events/routes.py); forgotten on every change.
WEBHOOK_ROUTES_TTL_S = env.get_int("WEBHOOK_ROUTES_TTL_S", 3600)
# A delivery whose task was queued is queued again after this many seconds if still pending (a lost task).
WEBHOOK_REQUEUE_S = env.get_int("WEBHOOK_REQUEUE_S", 60)
WEBHOOK_DISABLE_AFTER_DAYS = env.get_int("WEBHOOK_DISABLE_AFTER_DAYS", 5)
# Test-only / operator setting: let webhooks reach loopback and private addresses (a local receiver). Never on
# in production: it turns the SSRF guard off.
WEBHOOKS_ALLOW_PRIVATE_URLS = env.get_bool("WEBHOOKS_ALLOW_PRIVATE_URLS", False)
WEBHOOKS_ALLOW_HTTP = env.get_bool("WEBHOOKS_ALLOW_HTTP", DEBUG)

# Knowledge-base URL fetching may reach private addresses only in development (SSRF guard).
KNOWLEDGE_ALLOW_PRIVATE_URLS = env.get_bool("KNOWLEDGE_ALLOW_PRIVATE_URLS", DEBUG)

DATA_UPLOAD_MAX_MEMORY_SIZE = env.get_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
