"""Production: secrets and hosts from the environment, HTTPS everywhere."""

from config.preflight import ConfigurationError, exit_on_configuration_error, services_verify
from config.settings.base import *  # noqa: F403
from config.settings.base import env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")  # no default: refuse to start without a real secret
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
# A deployment names its servers; the embedded ones are for development and the test run only.
with exit_on_configuration_error():
    for _variable in ("DATABASE_URL", "REDIS_URL"):
        if not env(_variable, default=""):
            raise ConfigurationError(_variable, "is not set; production settings never start embedded servers.")
EMBEDDED_SERVICES = {}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# A load balancer probes /healthz over plain HTTP on the private network; it must get the answer, not a redirect.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Every process (gunicorn, each Celery worker, beat, manage.py) checks at start that DATABASE_URL,
# REDIS_URL and the bucket answer with these credentials; a wrong one stops it with one line naming
# the variable (config/preflight.py). DJANGO_VERIFY_SERVICES=false skips it (image builds: collectstatic).
if env.bool("DJANGO_VERIFY_SERVICES", default=True):
    with exit_on_configuration_error():
        services_verify(
            database=DATABASES["default"],  # noqa: F405
            redis_url=REDIS_URL,  # noqa: F405
            bucket=AWS_STORAGE_BUCKET_NAME,  # noqa: F405
            endpoint_url=env("AWS_S3_ENDPOINT_URL", default=None),
            region=env("AWS_S3_REGION_NAME", default=None),
        )
