"""Signal receivers: thin hooks into services."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from shop.services.carts import SESSION_CART_KEY, cart_merge


@receiver(user_logged_in, dispatch_uid="shop-cart-merge")
def merge_cart_on_sign_in(sender, request, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    cart_merge(anonymous_cart_id=request.session.pop(SESSION_CART_KEY, None), user=user)
