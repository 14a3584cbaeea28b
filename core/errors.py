"""The application's one error type, below every app.

Services raise :class:`ApplicationError` (or a subclass) with a message that is safe to show to a
person. Forms show the message; the API turns it into the JSON error shape.
"""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    code = "invalid"
    status_code = 400

    def __init__(self, message: str, *, details: dict[str, Any] | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}
        if code:
            self.code = code


class NotFound(ApplicationError):
    code = "not_found"
    status_code = 404
