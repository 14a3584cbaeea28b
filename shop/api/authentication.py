"""Session authentication that checks CSRF for anonymous writes too.

DRF's ``SessionAuthentication`` enforces CSRF only once a user is signed in through the
session, so an anonymous cross-site form POST to ``/api/v1/cart/`` used to work (and put
items into the visitor's session cart). Here every unsafe request that is not authenticated
by a token must carry the CSRF token, signed in or not. Token clients are unaffected (the
token class comes first and never looks at cookies).
"""

from __future__ import annotations

from drf_spectacular.authentication import SessionScheme
from rest_framework.authentication import SessionAuthentication


class CsrfSessionAuthentication(SessionAuthentication):
    def authenticate(self, request):
        user = getattr(request._request, "user", None)
        if not user or not user.is_active:
            self.enforce_csrf(request)  # safe methods pass; unsafe ones need the token
            return None
        self.enforce_csrf(request)
        return (user, None)


class CsrfSessionScheme(SessionScheme):
    """Documents the class in the OpenAPI schema as the usual cookie session."""

    target_class = CsrfSessionAuthentication  # type: ignore[assignment]  # drf-spectacular takes a class here too
