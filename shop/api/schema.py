"""OpenAPI post-processing: the answers every operation can give, written once."""

from __future__ import annotations

ERROR_REF = {"$ref": "#/components/schemas/Error"}


UNSAFE_METHODS = {"post", "put", "patch", "delete"}


def document_shared_errors(result, generator, request, public):
    """Every operation may answer 429 (throttles) and 500, and every write 403 (a session without its
    CSRF token); all use the one error shape."""
    shared = {
        "429": "Too many requests; `details.retry_after_seconds` says when to try again.",
        "500": "Server error (logged).",
    }
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            errors = dict(shared)
            if method in UNSAFE_METHODS:
                errors["403"] = "Forbidden: not allowed, or a cookie session without its CSRF token."
            for code, description in errors.items():
                operation["responses"].setdefault(
                    code, {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}
                )
    return result
