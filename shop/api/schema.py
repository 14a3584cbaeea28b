"""OpenAPI post-processing: the answers every operation can give, written once."""

from __future__ import annotations

ERROR_REF = {"$ref": "#/components/schemas/Error"}


def document_shared_errors(result, generator, request, public):
    """Every operation may answer 429 (throttles) and 500; both use the one error shape."""
    shared = {
        "429": "Too many requests; `details.retry_after_seconds` says when to try again.",
        "500": "Server error (logged).",
    }
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for code, description in shared.items():
                operation["responses"].setdefault(
                    code, {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}
                )
    return result
