"""Signal receivers: the shop's product changes, heard by the recommender. Each only calls a service."""

from django.dispatch import receiver

from recommender.services.indexing import product_index_request
from shop.signals import product_colours_changed, product_photo_changed


@receiver(product_photo_changed, dispatch_uid="recommender-index-new-photo")
def index_new_photo(sender, product, **kwargs) -> None:
    """A new photo: its mask, colours and vectors are measured again (one indexing task)."""
    product_index_request(product=product)


@receiver(product_colours_changed, dispatch_uid="recommender-index-new-colours")
def index_new_colours(sender, product, **kwargs) -> None:
    """A curator's colours (or their reset to measured ones): the look vector carries the colours."""
    product_index_request(product=product)
