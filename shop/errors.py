"""The shop's errors: the application's error types (``core.errors``) and the shop's own."""

from __future__ import annotations

from core.errors import ApplicationError, NotFound

__all__ = ["ApplicationError", "NotFound", "OutOfStock"]


class OutOfStock(ApplicationError):
    code = "out_of_stock"
    status_code = 409
