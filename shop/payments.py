"""The seam for a payment provider.

Checkout calls ``get_payment_provider().authorise(order)`` inside its transaction; a real
provider (card, wallet) implements the same protocol and is selected with the
``SHOP_PAYMENT_PROVIDER`` setting. The default takes payment on delivery.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class PaymentResult:
    provider: str
    reference: str
    paid: bool


class PaymentProvider(Protocol):
    name: str

    def authorise(self, *, order_number: str, amount, currency: str) -> PaymentResult: ...


class PayOnDeliveryProvider:
    name = "pay-on-delivery"

    def authorise(self, *, order_number: str, amount, currency: str) -> PaymentResult:
        return PaymentResult(provider=self.name, reference=f"POD-{order_number}", paid=False)


def get_payment_provider() -> PaymentProvider:
    return import_string(settings.SHOP_PAYMENT_PROVIDER)()
