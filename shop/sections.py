"""Extra sections of the product page, filled by other apps.

The shop renders the product page; an app that has more to show next to a product (the
recommender's "Complete the look" and "Similar items") registers a provider in its
``AppConfig.ready``: a provider takes the request and the product and returns template context,
and its template is included at the end of ``shop/product_detail.html`` with that context.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest

from shop.models import Product

Provider = Callable[..., dict]
_providers: list[tuple[Provider, str]] = []


def register(provider: Provider, *, template: str) -> None:
    """Add a section to the product page: ``template``, rendered with ``provider(*, request, product) -> dict``
    (once, however often registered)."""
    if (provider, template) not in _providers:
        _providers.append((provider, template))


def product_page_context(*, request: HttpRequest, product: Product) -> dict:
    """The context every registered provider adds to ``product``'s page, in registration order, and
    ``product_page_templates``: their templates, in the same order."""
    context: dict = {"product_page_templates": [template for _, template in _providers]}
    for provider, _ in _providers:
        context.update(provider(request=request, product=product))
    return context
