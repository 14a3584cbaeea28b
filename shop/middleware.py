"""Site-wide request hooks: sign-in rate limits and the Content-Security-Policy header."""

from __future__ import annotations

import json

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render

from shop.security import client_address
from shop.services.login_limits import login_wait_seconds


def _posted_username(request: HttpRequest) -> str:
    """The username a sign-in form or JSON body carries; "" when the body can't be read
    (the view then answers its own 400; the address limit still applies)."""
    try:
        if request.content_type == "application/json":
            body = json.loads(request.body or b"{}")
            value = body.get("username") if isinstance(body, dict) else ""
        else:
            value = request.POST.get("username", "")
    except (ValueError, UnicodeDecodeError, MultiPartParserError, RequestDataTooBig, TooManyFieldsSent):
        return ""
    return value if isinstance(value, str) else ""


class LoginRateLimitMiddleware:
    """Refuse sign-in attempts (429) for a locked account or address, on every login view.

    The views are named in ``LOGIN_RATE_LIMITED_VIEWS`` (page login, admin login, API token);
    the limits and the counting live in :mod:`shop.services.login_limits`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if request.method != "POST" or request.resolver_match is None:
            return None
        if request.resolver_match.view_name not in settings.LOGIN_RATE_LIMITED_VIEWS:
            return None
        wait = login_wait_seconds(username=_posted_username(request), address=client_address(request))
        if not wait:
            return None
        message = f"Too many failed sign-in attempts. Try again in {wait} s."
        response: HttpResponse
        if request.path.startswith("/api/"):
            response = JsonResponse(
                {"error": {"code": "throttled", "message": message, "details": {"retry_after_seconds": wait}}},
                status=429,
            )
        else:
            response = render(request, "registration/locked.html", {"message": message, "wait": wait}, status=429)
        response["Retry-After"] = str(wait)
        return response


class ContentSecurityPolicyMiddleware:
    """Add ``Content-Security-Policy`` (setting ``CONTENT_SECURITY_POLICY``) to every HTML answer
    that does not set its own. Django 5.2 has no built-in CSP."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = "; ".join(
            f"{directive} {' '.join(sources)}".strip()
            for directive, sources in settings.CONTENT_SECURITY_POLICY.items()
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        return response
