"""The photo-upload rate: one mechanism for the upload page and the API.

Every upload counts against two buckets at once, the client's address (``shop.security.client_address``,
which trusts ``X-Forwarded-For`` only as far as ``NUM_PROXIES`` says) and, when signed in, the account.
An upload is refused while either bucket is full, so neither a new account nor a forged header buys
more uploads from an address that is already refused, and changing address does not help an account.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from shop.security import client_address


class PhotoUploadThrottle(BaseThrottle):
    """``DEFAULT_THROTTLE_RATES["photo_upload"]`` (env ``API_THROTTLE_PHOTO_UPLOAD``), per address and per account."""

    scope = "photo_upload"
    cache_format = "throttle_%(scope)s_%(kind)s_%(ident)s"
    timer = SimpleRateThrottle.timer

    def __init__(self) -> None:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope) or settings.PHOTO_SEARCH_UPLOAD_RATE
        num_requests, duration = SimpleRateThrottle.parse_rate(None, rate)  # type: ignore[arg-type]  # needs no self
        if num_requests is None or duration is None:
            raise ImproperlyConfigured(f"The {self.scope!r} throttle needs a rate such as '20/hour'.")
        self.num_requests: int = num_requests
        self.duration: int = duration
        self._wait = 0.0

    def bucket_keys(self, request) -> list[str]:
        keys = [self.cache_format % {"scope": self.scope, "kind": "address", "ident": client_address(request)}]
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            keys.append(self.cache_format % {"scope": self.scope, "kind": "user", "ident": user.pk})
        return keys

    def allow_request(self, request, view) -> bool:
        now = self.timer()
        histories = {}
        for key in self.bucket_keys(request):
            histories[key] = [t for t in cache.get(key, []) if t > now - self.duration]
        full = [history for history in histories.values() if len(history) >= self.num_requests]
        if full:
            # Retry when the fullest bucket's oldest upload in the window falls out of it.
            self._wait = max(history[-1] + self.duration - now for history in full)
            return False
        for key, history in histories.items():
            cache.set(key, [now, *history], self.duration)
        return True

    def wait(self) -> float:
        return self._wait
