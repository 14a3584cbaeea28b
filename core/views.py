"""/healthz for load balancers: 200 when the database, Redis and storage answer, 503 when one does not;
/favicon.ico for browsers that ask for it whatever the page links."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseRedirect, JsonResponse
from django.templatetags.static import static
from django.utils.cache import patch_cache_control
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.health import dependencies_check


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = dependencies_check()
    ok = all(result.ok for result in checks.values())
    body = {"status": "ok" if ok else "unavailable", "checks": {name: r.as_dict() for name, r in checks.items()}}
    return JsonResponse(body, status=200 if ok else 503)


@require_GET
def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """The shop's icon is an SVG among the static files (base.html links it); the old path points there."""
    response = HttpResponseRedirect(static("favicon.svg"))
    patch_cache_control(response, public=True, max_age=24 * 3600)
    return response
