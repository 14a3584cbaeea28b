"""Signal receivers: thin hooks into services."""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from shop.security import client_address
from shop.services.carts import SESSION_CART_KEY, cart_merge
from shop.services.login_limits import login_failure_record, login_success_record


@receiver(user_logged_in, dispatch_uid="shop-cart-merge")
def merge_cart_on_sign_in(sender, request, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    cart_merge(anonymous_cart_id=request.session.pop(SESSION_CART_KEY, None), user=user)


@receiver(user_login_failed, dispatch_uid="shop-login-failure-count")
def count_login_failure(sender, credentials, request=None, **kwargs) -> None:
    """Every path that calls ``authenticate()`` (pages, admin, API token) lands here on a wrong password."""
    username = credentials.get(get_user_model().USERNAME_FIELD) or credentials.get("username")
    login_failure_record(
        username=username if isinstance(username, str) else None,
        address=client_address(request) if request is not None else None,
    )


@receiver(user_logged_in, dispatch_uid="shop-login-success")
def clear_login_failures(sender, request, user, **kwargs) -> None:
    login_success_record(username=user.get_username())
