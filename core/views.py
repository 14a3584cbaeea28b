"""/healthz for load balancers: 200 when the database, Redis and storage answer, 503 when one does not."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
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
