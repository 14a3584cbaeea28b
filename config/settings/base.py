"""Settings shared by every environment; all deployment knobs come from environment variables.

See the configuration table in README.md. ``local``, ``test`` and ``production`` import
everything from here and change only what differs.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import environ

from config.preflight import POSTGRES_SCHEMES, REDIS_SCHEMES, exit_on_configuration_error, url_checked
from config.services import celery_broker_url, embedded_postgres_database, embedded_redis_url, redis_url_with_db

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Local state: the embedded PostgreSQL and Redis, celery beat's schedule, caches of evaluation runs.
VAR_DIR = Path(env("VAR_DIR", default=str(BASE_DIR / "var")))

SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-local-development-key-change-me")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "shop",
    "recommender",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "shop.middleware.LoginRateLimitMiddleware",
    "shop.middleware.ContentSecurityPolicyMiddleware",
    "core.middleware.DependencyUnavailableMiddleware",  # a server that is down: 503, never a traceback
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
                "shop.context_processors.cart_summary",
            ],
        },
    },
]

# --- Database: DATABASE_URL, or the embedded PostgreSQL 18 + pgvector 0.8 + pg_trgm -------------------
# The settings only describe the embedded servers; manage.py, the WSGI application, the Celery app and
# the test run start them (config.services.start_embedded_services). Production records none.
EMBEDDED_SERVICES: dict = {}
if env("DATABASE_URL", default=""):
    with exit_on_configuration_error():  # a malformed URL stops the process with one line naming it
        DATABASES = {
            "default": env.db_url_config(url_checked("DATABASE_URL", env("DATABASE_URL"), schemes=POSTGRES_SCHEMES))
        }
    # A server that does not answer fails a request in seconds (a 503), not after the OS's TCP timeout.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
else:
    EMBEDDED_SERVICES["postgres"] = (
        Path(env("EMBEDDED_POSTGRES_DIR", default=str(VAR_DIR / "postgres18"))),
        env("EMBEDDED_POSTGRES_DB", default="shop"),
    )
    DATABASES = {"default": embedded_postgres_database(*EMBEDDED_SERVICES["postgres"])}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Keep each process's connection between requests (opening one costs milliseconds per page),
# checked before reuse so a restarted database is reconnected transparently.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# pgvector's HNSW scan for the recommender's queries, set once per connection (recommender/selectors/hnsw.py):
# deep enough for the candidate over-fetch (RECOMMENDER_CANDIDATES), filtered scans continued until full.
RECOMMENDER_HNSW_EF_SEARCH = env.int("RECOMMENDER_HNSW_EF_SEARCH", default=100)
_db_options = DATABASES["default"].setdefault("OPTIONS", {})
_db_options["options"] = " ".join(
    filter(
        None,
        [
            _db_options.get("options", ""),
            f"-c hnsw.ef_search={RECOMMENDER_HNSW_EF_SEARCH} -c hnsw.iterative_scan=strict_order",
        ],
    )
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: REDIS_URL, or the embedded one --------------------------------------------------
if env("REDIS_URL", default=""):
    with exit_on_configuration_error():
        REDIS_URL = url_checked("REDIS_URL", env("REDIS_URL"), schemes=REDIS_SCHEMES)
else:
    EMBEDDED_SERVICES["redis"] = VAR_DIR / "redis"
    REDIS_URL = embedded_redis_url(EMBEDDED_SERVICES["redis"])

CACHES = {
    "default": {
        "BACKEND": "config.cache.SharedClientRedisCache",
        "LOCATION": env("CACHE_URL", default="") or redis_url_with_db(REDIS_URL, 1),
        "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="shop"),
        "TIMEOUT": 300,
        # A Redis that is down or restarting fails the call within seconds (the page answers 503), never hangs.
        "OPTIONS": {"socket_connect_timeout": 5, "socket_timeout": 5},
    }
}

# --- Celery ----------------------------------------------------------------------------------
CELERY_BROKER_URL = celery_broker_url(env("CELERY_BROKER_URL", default=REDIS_URL))
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="shop")
# Queues per kind of work (docs/DEPLOY.md, "Scaling workers"). Unset (local, tests): every task goes to
# CELERY_QUEUE and one worker takes everything. Set: indexing and shop-by-photo searches get queues of their
# own, so each is scaled by its own workers and a long indexing run never delays a customer's photo.
# Periodic housekeeping (celery beat) stays on CELERY_QUEUE.
CELERY_INDEXING_QUEUE = env("CELERY_INDEXING_QUEUE", default="")
CELERY_PHOTO_SEARCH_QUEUE = env("CELERY_PHOTO_SEARCH_QUEUE", default="")
INDEXING_TASKS = (
    "shop.tasks.process_product_image",
    "recommender.tasks.embed_product",
    "recommender.tasks.embed_products",
)
PHOTO_SEARCH_TASKS = ("recommender.tasks.run_photo_search",)
CELERY_TASK_ROUTES = {
    **({name: {"queue": CELERY_INDEXING_QUEUE} for name in INDEXING_TASKS} if CELERY_INDEXING_QUEUE else {}),
    **(
        {name: {"queue": CELERY_PHOTO_SEARCH_QUEUE} for name in PHOTO_SEARCH_TASKS} if CELERY_PHOTO_SEARCH_QUEUE else {}
    ),
}
# Redelivery after a worker dies (docs/SECURITY.md, "Killed workers"). With acks_late, a message
# stays unacknowledged in Redis while its task runs; if the worker is killed, the message is handed
# out again once it is older than the visibility timeout. So: every task must finish (or be killed
# by its hard time_limit) well inside the visibility timeout, or a slow task would be run twice;
# and the timeout must be short, or a killed worker's batch waits (it used to be 3,600 s).
# Every task is capped at CELERY_LONGEST_TASK_SECONDS by config.celery.TaskTimeLimitCap (a task
# may ask for less, never more; tests/test_celery_redelivery.py checks every registered task), and
# the timeout is that plus a margin. Workers sweep for expired messages every 5 s, so a dead
# worker's message runs again at most ~80 s after it was taken (measured: docs/SECURITY.md).
CELERY_LONGEST_TASK_SECONDS = 60
CELERY_TASK_TIME_LIMIT = CELERY_LONGEST_TASK_SECONDS
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_LONGEST_TASK_SECONDS - 10
CELERY_TASK_ANNOTATIONS = ["config.celery.TaskTimeLimitCap"]
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=CELERY_LONGEST_TASK_SECONDS + 15)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "unacked_restore_interval": 5,  # seconds between sweeps for expired unacknowledged messages
    "unacked_restore_throttle": 1,  # scan on every sweep (default: every 10th, i.e. every 100 s)
}
CELERY_BEAT_SCHEDULE = {
    "clean-carts-and-sessions": {"task": "shop.tasks.clean_carts", "schedule": 3600.0},
    "expire-photo-searches": {"task": "recommender.tasks.expire_photo_searches", "schedule": 3600.0},
    "sweep-photo-media": {"task": "recommender.tasks.sweep_photo_media", "schedule": 6 * 3600.0},
    "prune-vector-changes": {"task": "recommender.tasks.prune_vector_changes", "schedule": 3600.0},
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Auth --------------------------------------------------------------------------------------
AUTH_USER_MODEL = "shop.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "shop:home"
LOGOUT_REDIRECT_URL = "shop:home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media ------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# Let Django serve MEDIA_ROOT itself (demo and compose setups without a media server or S3).
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=False)

AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    from botocore.config import Config as _BotoConfig

    # S3 (or any S3-compatible store) through django-storages when a bucket is configured.
    AWS_S3_REGION_NAME = env("AWS_S3_REGION_NAME", default=None)
    AWS_S3_ENDPOINT_URL = env("AWS_S3_ENDPOINT_URL", default=None)
    AWS_S3_CUSTOM_DOMAIN = env("AWS_S3_CUSTOM_DOMAIN", default=None)
    AWS_DEFAULT_ACL = None
    AWS_QUERYSTRING_AUTH = env.bool("AWS_QUERYSTRING_AUTH", default=True)
    # An unreachable store fails an upload within seconds (a clear 503), not after botocore's 60 s timeouts.
    AWS_S3_CLIENT_CONFIG = _BotoConfig(
        connect_timeout=env.int("AWS_S3_CONNECT_TIMEOUT", default=3),
        read_timeout=env.int("AWS_S3_READ_TIMEOUT", default=20),
        retries={"max_attempts": 3, "mode": "standard"},
        signature_version="s3v4",
        s3={"addressing_style": env("AWS_S3_ADDRESSING_STYLE", default="auto")},
    )
    DEFAULT_FILE_STORAGE_BACKEND = "storages.backends.s3.S3Storage"
    # Pages link media on S3: any https origin, and the endpoint itself (an S3-compatible store may speak http).
    _endpoint = urlsplit(AWS_S3_ENDPOINT_URL or "")
    MEDIA_ORIGINS = ["https:"] + ([f"{_endpoint.scheme}://{_endpoint.netloc}"] if _endpoint.netloc else [])
else:
    DEFAULT_FILE_STORAGE_BACKEND = "django.core.files.storage.FileSystemStorage"
    MEDIA_ORIGINS = []
STORAGES = {
    "default": {"BACKEND": DEFAULT_FILE_STORAGE_BACKEND},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Uploads: a product photo or an outfit photo is a few MB at most.
MAX_UPLOAD_BYTES = env.int("MAX_UPLOAD_BYTES", default=15 * 1024 * 1024)
MAX_IMAGE_PIXELS = env.int("MAX_IMAGE_PIXELS", default=40_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# --- Client addresses, throttles, sign-in limits, CSP ---------------------------------------------
# How many reverse proxies sit in front of the app (docs/SECURITY.md). 0: X-Forwarded-For is ignored,
# the address is REMOTE_ADDR (gunicorn reached directly, as in compose). N: the N-th address from the
# right of X-Forwarded-For, the one our own outermost proxy wrote. Never more than the real count.
NUM_PROXIES = env.int("NUM_PROXIES", default=0)
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=20)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=15 * 60)
LOGIN_RATE_LIMITED_VIEWS = {"login", "admin:login", "api-token"}
CSRF_FAILURE_VIEW = "shop.api.errors.csrf_failure"
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'", "'unsafe-inline'"],  # style="" attributes (colour swatches, admin)
    "img-src": ["'self'", "data:", "blob:", *MEDIA_ORIGINS],
    "font-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}

# --- API -----------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "shop.api.authentication.CsrfSessionAuthentication",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],  # no HTML answers in the API
    "NUM_PROXIES": NUM_PROXIES,
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_PAGINATION_CLASS": "shop.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 24,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "shop.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", default="120/min"),
        "user": env("API_THROTTLE_USER", default="600/min"),
        # Photo uploads (shop by photo) have their own, stricter rate.
        "photo_upload": env("API_THROTTLE_PHOTO_UPLOAD", default="20/hour"),
    },
    "DEFAULT_VERSIONING_CLASS": "rest_framework.versioning.URLPathVersioning",
    "ALLOWED_VERSIONS": ["v1"],
    "DEFAULT_VERSION": "v1",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Fashion shop API",
    "DESCRIPTION": "Catalog, cart and orders for mobile clients. Errors share one shape: "
    '`{"error": {"code": str, "message": str, "details": object}}`.',
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI's assets are served by the shop itself, not fetched from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "shop.api.schema.document_shared_errors",
    ],
    "ENUM_NAME_OVERRIDES": {"PhotoSearchStatusEnum": "recommender.models.PhotoSearch.Status"},
}

# --- Shop ----------------------------------------------------------------------------------------
SHOP_CURRENCY = env("SHOP_CURRENCY", default="EUR")
SHOP_PAYMENT_PROVIDER = env("SHOP_PAYMENT_PROVIDER", default="shop.payments.PayOnDeliveryProvider")

# --- Recommender -------------------------------------------------------------------------------
RECOMMENDER_EMBEDDER_WEIGHTS = {
    "name": env("RECOMMENDER_EMBEDDER_NAME", default="resnet34-garments"),
    "directory": env("RECOMMENDER_WEIGHTS_DIR", default=None),
}
# The complement model ("Complete the look"); its manifest names the embedder version it expects.
RECOMMENDER_COMPLEMENT_WEIGHTS = {
    "name": env("RECOMMENDER_COMPLEMENT_NAME", default="complement-ccp"),
    "directory": env("RECOMMENDER_COMPLEMENT_DIR", default=None),
}
RECOMMENDER_COMPLEMENTS_ON_PAGE = 8
# The stylist's priors (which categories and colours street outfits wear together); None: the shipped ones.
RECOMMENDER_STYLIST_PRIORS = env("RECOMMENDER_STYLIST_PRIORS", default=None)
# Products per indexing task: each one (photo masks, colours, garment and complement vectors) must end
# well inside the task time cap of CELERY_LONGEST_TASK_SECONDS.
RECOMMENDER_TASK_BATCH = env.int("RECOMMENDER_TASK_BATCH", default=8)
RECOMMENDER_TORCH_THREADS = env.int("RECOMMENDER_TORCH_THREADS", default=2)
RECOMMENDER_BATCH_SIZE = env.int("RECOMMENDER_BATCH_SIZE", default=32)
RECOMMENDER_CANDIDATES = env.int("RECOMMENDER_CANDIDATES", default=100)
# Rankings (which products are nearest a product), keyed on the rankings' change counter, and whole
# results (a product's complements, its similar items), keyed on the catalog's change counter
# (recommender.selectors.freshness); a result timeout of 0 turns both caches off.
RECOMMENDER_CACHE_SECONDS = env.int("RECOMMENDER_CACHE_SECONDS", default=3600)
RECOMMENDER_RESULT_CACHE_SECONDS = env.int("RECOMMENDER_RESULT_CACHE_SECONDS", default=600)
RECOMMENDER_SIMILAR_ON_PAGE = 8
# Average the U-Net's prediction with its mirror image: +0.006 val mIoU for twice the compute.
RECOMMENDER_SEGMENTATION_TTA = env.bool("RECOMMENDER_SEGMENTATION_TTA", default=True)

# --- Shop by photo ------------------------------------------------------------------------------
# Customers' photos and garment crops are deleted this many days after the search (periodic task
# ``recommender.tasks.expire_photo_searches`` under celery beat, or ``manage.py expire_photo_searches``).
PHOTO_SEARCH_RETENTION_DAYS = env.int("PHOTO_SEARCH_RETENTION_DAYS", default=30)
# Stored photos are re-encoded from the decoded pixels with at most this long side.
PHOTO_SEARCH_MAX_SIDE = env.int("PHOTO_SEARCH_MAX_SIDE", default=2048)
PHOTO_SEARCH_RESULTS = env.int("PHOTO_SEARCH_RESULTS", default=8)
# The upload rate when DEFAULT_THROTTLE_RATES has no "photo_upload" entry; it holds per client address
# and per account at once (recommender.throttles).
PHOTO_SEARCH_UPLOAD_RATE = REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["photo_upload"]
# Files under the photo folders (outfits/, garments/) that no row refers to are deleted once older than
# this (``recommender.tasks.sweep_photo_media`` under celery beat, or ``manage.py sweep_media``). A job's
# files are unreferenced only while the step that wrote them commits (seconds; capped by the task time limit).
PHOTO_MEDIA_SWEEP_GRACE_SECONDS = env.int("PHOTO_MEDIA_SWEEP_GRACE_SECONDS", default=3600)
# A dotted path called at named points of a photo-search job (tests pause a worker there); unset in service.
PHOTO_SEARCH_STEP_HOOK = env("PHOTO_SEARCH_STEP_HOOK", default="")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"embedded_postgres": {"level": "WARNING"}},
}
