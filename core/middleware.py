"""A dependency that is down answers 503 with a clear message, never a 500 or a traceback."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader

from core.dependencies import unavailable_dependency

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 10
MESSAGES = {
    "database": "The shop is briefly unavailable; please try again in a few seconds.",
    "redis": "The shop is briefly unavailable; please try again in a few seconds.",
    "storage": "Photos cannot be stored right now; nothing was saved. Please try again in a minute.",
}


def unavailable_response(request: HttpRequest, dependency: str) -> HttpResponse:
    """503 in the shape the caller reads: the API's JSON error, or a plain page (no template context
    processors: they may need the very server that is down)."""
    message = MESSAGES[dependency]
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"error": {"code": "unavailable", "message": message, "details": {"dependency": dependency}}}, status=503
        )
    else:
        html = loader.get_template("503.html").render({"message": message})
        response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def unavailable_response_for(request: HttpRequest, exc: BaseException) -> HttpResponse | None:
    dependency = unavailable_dependency(exc)
    if dependency is None:
        return None
    logger.warning("%s %s: %s unavailable (%s: %s)", request.method, request.path, dependency, type(exc).__name__, exc)
    return unavailable_response(request, dependency)


class DependencyUnavailableMiddleware:
    """Turn a view's database, Redis or storage outage into a 503 (``core.middleware.unavailable_response``).

    Exceptions raised in other middleware reach ``handler500``, which does the same
    (``shop.api.errors.server_error``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return unavailable_response_for(request, exception)
