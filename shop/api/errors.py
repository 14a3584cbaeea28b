"""One JSON error shape for the whole API:

{"error": {"code": "out_of_stock", "message": "Only 1 of Blue shirt left.", "details": {...}}}
"""

from __future__ import annotations

import sys

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve
from django.views import defaults as django_defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.middleware import unavailable_response_for
from shop.errors import ApplicationError


def error_body(code: str, message: str, details=None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _first_message(detail) -> str:
    """The first human message in a nested DRF error structure, prefixed by its field."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            inner = _first_message(value)
            if inner:
                return inner if key == "non_field_errors" else f"{key}: {inner}"
    elif isinstance(detail, list):
        for value in detail:
            inner = _first_message(value)
            if inner:
                return inner
    elif detail:
        return str(detail)
    return ""


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: let Django log it and answer 500
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        if isinstance(detail, dict) and list(detail) == ["non_field_errors"]:
            message = " ".join(str(m) for m in detail["non_field_errors"])
        elif isinstance(detail, list):
            message = " ".join(str(m) for m in detail)
            detail = {}
        else:
            message = _first_message(detail) or "Invalid input."
        response.data = error_body("invalid", message, detail)
    else:
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        message = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        response.data = error_body(code if isinstance(code, str) else "error", str(message))
    if response.status_code == status.HTTP_429_TOO_MANY_REQUESTS and getattr(exc, "wait", None):
        response.data["error"]["details"] = {"retry_after_seconds": int(exc.wait)}
    return response


# --- Django-level answers for the /api/ tree ---------------------------------------------------
# A URL that resolves to no view (/api/v1/nope/, /api/v1/products/abc/) or an exception no DRF
# handler caught never reaches DRF: Django's handler404/handler500 answer it. config/urls.py points
# those at these functions, so the whole /api/ tree answers the same JSON shape (pages keep HTML).


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request, exception=None):
    if _is_api(request):
        return JsonResponse(error_body("not_found", "No such resource."), status=404)
    return django_defaults.page_not_found(request, exception)


@csrf_exempt  # it changes nothing; a POST to a wrong URL is told "not found", not "CSRF failed"
def unknown_api_path(request, path: str = ""):
    """The last route under /api/: a path no API view matches answers the JSON 404 whatever DEBUG says
    (with DEBUG on, Django would answer its HTML debug page before ``handler404`` is asked).

    A known route written without its trailing slash is still redirected to it, as
    ``APPEND_SLASH`` does for URLs that match nothing."""
    if settings.APPEND_SLASH and not request.path_info.endswith("/"):
        try:
            match = resolve(request.path_info + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not unknown_api_path:
            return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
    return JsonResponse(error_body("not_found", "No such resource."), status=404)


def server_error(request):
    # An exception raised outside a view (a middleware reading the session or the cache) ends here:
    # a dependency that is down still answers 503, like a view's own outage (core.middleware).
    unavailable = unavailable_response_for(request, sys.exc_info()[1]) if sys.exc_info()[1] else None
    if unavailable is not None:
        return unavailable
    if _is_api(request):
        return JsonResponse(
            error_body("server_error", "Something went wrong on our side; it has been logged."), status=500
        )
    return django_defaults.server_error(request)


def bad_request(request, exception=None):
    if _is_api(request):
        return JsonResponse(error_body("bad_request", "The request could not be read."), status=400)
    return django_defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    if _is_api(request):
        return JsonResponse(error_body("permission_denied", "You may not do this."), status=403)
    return django_defaults.permission_denied(request, exception)


def csrf_failure(request, reason=""):
    """CSRF refusals: JSON in the API (an anonymous cart POST without the token), Django's page elsewhere."""
    if _is_api(request):
        return JsonResponse(
            error_body("csrf_failed", "CSRF check failed: send the csrftoken cookie's value as X-CSRFToken."),
            status=403,
        )
    from django.views.csrf import csrf_failure as default_csrf_failure

    return default_csrf_failure(request, reason)
