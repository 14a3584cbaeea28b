"""Extra sections of the product page, filled by other apps.

The shop renders the product page; an app that has more to show next to a product (the
recommender's "Complete the look" and "Similar items") registers a provider in its
``AppConfig.ready``. A provider takes the request and the product and returns template context;
``shop/product_detail.html`` renders the sections whose context is there.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest

from shop.models import Product

Provider = Callable[..., dict]
_providers: list[Provider] = []


def register(provider: Provider) -> None:
    """Add ``provider(*, request, product) -> dict`` to the product page (once, however often registered)."""
    if provider not in _providers:
        _providers.append(provider)


def product_page_context(*, request: HttpRequest, product: Product) -> dict:
    """The context every registered provider adds to ``product``'s page, in registration order."""
    context: dict = {}
    for provider in _providers:
        context.update(provider(request=request, product=product))
    return context
