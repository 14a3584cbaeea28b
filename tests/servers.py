"""The test run's own servers, as the URLs a deployment would pass in ``DATABASE_URL`` / ``REDIS_URL``."""

from __future__ import annotations

from urllib.parse import quote


def service_urls() -> dict[str, str]:
    """``DATABASE_URL`` and ``REDIS_URL`` for the servers the test settings use (embedded or given)."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    user = f"{quote(db['USER'], safe='')}{password}@"
    name = "shop" if settings.EMBEDDED_SERVICES.get("postgres") else db["NAME"]
    if db["HOST"].startswith("/"):  # a unix socket directory, spelled as libpq spells it
        url = f"postgres://{user}/{name}?host={quote(db['HOST'])}"
    else:
        url = f"postgres://{user}{db['HOST']}{':' + str(db['PORT']) if db.get('PORT') else ''}/{name}"
    return {
        "DATABASE_URL": url,
        "REDIS_URL": settings.REDIS_URL,
    }
