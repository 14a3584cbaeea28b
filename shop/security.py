"""Who is calling: the one rule for a client's address, shared by login limits and the API throttles.

``NUM_PROXIES`` (setting, env ``NUM_PROXIES``) says how many reverse proxies we run in front of
the app. 0 (the default, and the right value when clients connect directly to gunicorn) ignores
``X-Forwarded-For`` entirely: anyone can write that header. With N proxies, the address is the
N-th entry from the right of ``X-Forwarded-For``: the one our outermost proxy appended, which a
client cannot forge (anything the client sent sits further left). DRF's throttles read the same
setting (``REST_FRAMEWORK["NUM_PROXIES"]``), so both agree on who a client is.
"""

from __future__ import annotations

from django.conf import settings


def client_address(request) -> str:
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = getattr(settings, "NUM_PROXIES", 0) or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        addresses = [a.strip() for a in forwarded.split(",") if a.strip()]
        if addresses:
            return addresses[-min(proxies, len(addresses))]
    return remote
