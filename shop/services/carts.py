"""Cart writes: session carts for visitors, stored carts for customers, merged on sign-in."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from shop.errors import ApplicationError, NotFound, OutOfStock
from shop.models import Cart, CartItem, Product

MAX_QUANTITY = 20
SESSION_CART_KEY = "cart_id"


def cart_for(*, user=None, session=None, create: bool = True) -> Cart | None:
    """The cart of a signed-in user, or of an anonymous session."""
    if user is not None and user.is_authenticated:
        if create:
            cart, _ = Cart.objects.get_or_create(user=user)
            return cart
        return Cart.objects.filter(user=user).first()
    if session is None:
        return None
    cart_id = session.get(SESSION_CART_KEY)
    cart = Cart.objects.filter(pk=cart_id, user__isnull=True).first() if cart_id else None
    if cart is None and create:
        if not session.session_key:
            session.save()
        cart = Cart.objects.create(session_key=session.session_key)
        # The id lives in the (server-side) session data, which survives the key
        # rotation at sign-in, so the cart can be merged then.
        session[SESSION_CART_KEY] = cart.pk
    return cart


def _sellable(product_id: int) -> Product:
    product = Product.objects.filter(pk=product_id, is_active=True).first()
    if product is None:
        raise NotFound("This product is not on sale.")
    return product


@transaction.atomic
def cart_add_item(*, cart: Cart, product_id: int, quantity: int = 1) -> CartItem:
    if quantity < 1:
        raise ApplicationError("Quantity must be at least 1.")
    product = _sellable(product_id)
    item, created = CartItem.objects.select_for_update().get_or_create(
        cart=cart, product=product, defaults={"quantity": quantity}
    )
    if not created:
        item.quantity = F("quantity") + quantity
        item.save(update_fields=["quantity"])
        item.refresh_from_db()
    if item.quantity > min(MAX_QUANTITY, product.stock):
        if product.stock < MAX_QUANTITY:
            raise OutOfStock(
                f"Only {product.stock} of {product.name} in stock.",
                details={"product": product.pk, "available": product.stock},
            )
        raise ApplicationError(f"At most {MAX_QUANTITY} of one item per order.")
    return item


@transaction.atomic
def cart_set_quantity(*, cart: Cart | None, product_id: int, quantity: int) -> CartItem | None:
    """Set a line's quantity; 0 removes it. No cart, or no such line, is a NotFound (nothing is created)."""
    if quantity < 0:
        raise ApplicationError("Quantity cannot be negative.")
    if cart is None:
        raise NotFound("This product is not in your cart.")
    item = CartItem.objects.select_for_update().filter(cart=cart, product_id=product_id).first()
    if item is None:
        raise NotFound("This product is not in your cart.")
    if quantity == 0:
        item.delete()
        return None
    if quantity > MAX_QUANTITY:
        raise ApplicationError(f"At most {MAX_QUANTITY} of one item per order.")
    if quantity > item.product.stock:
        raise OutOfStock(
            f"Only {item.product.stock} of {item.product.name} in stock.",
            details={"product": product_id, "available": item.product.stock},
        )
    item.quantity = quantity
    item.save(update_fields=["quantity"])
    return item


def cart_remove_item(*, cart: Cart | None, product_id: int) -> None:
    """Remove a line; a product that is not in the cart (or no cart at all) is a NotFound."""
    deleted = CartItem.objects.filter(cart=cart, product_id=product_id).delete()[0] if cart is not None else 0
    if not deleted:
        raise NotFound("This product is not in your cart.")


@transaction.atomic
def cart_merge(*, anonymous_cart_id: int | None, user) -> Cart:
    """Fold the anonymous session's cart into the user's stored cart (on sign-in)."""
    user_cart, _ = Cart.objects.get_or_create(user=user)
    if not anonymous_cart_id:
        return user_cart
    anon = Cart.objects.filter(pk=anonymous_cart_id, user__isnull=True).first()
    if anon is None:
        return user_cart
    for item in anon.items.select_related("product"):
        existing = CartItem.objects.filter(cart=user_cart, product=item.product).first()
        wanted = item.quantity + (existing.quantity if existing else 0)
        capped = max(1, min(wanted, MAX_QUANTITY, max(item.product.stock, 1)))
        if existing:
            existing.quantity = capped
            existing.save(update_fields=["quantity"])
        else:
            CartItem.objects.create(cart=user_cart, product=item.product, quantity=capped)
    anon.delete()
    return user_cart


def cart_clear(*, cart: Cart) -> None:
    cart.items.all().delete()


#: A look is the product and what goes with it: two to four pieces.
LOOK_SIZE = (2, 4)


@transaction.atomic
def cart_add_look(*, cart: Cart, product_ids: list[int]) -> list[CartItem]:
    """Put a whole look (a product and what goes with it) in the cart in one step: every piece, or none.

    A piece sold out or taken off sale since the page was shown is named, and nothing is added."""
    unique = list(dict.fromkeys(product_ids))
    if not LOOK_SIZE[0] <= len(unique) <= LOOK_SIZE[1]:
        raise ApplicationError(f"A look is {LOOK_SIZE[0]} to {LOOK_SIZE[1]} different products.")
    products = Product.objects.select_for_update().in_bulk(unique)
    gone = [
        products[pk].name for pk in unique if pk in products and (not products[pk].is_active or products[pk].stock < 1)
    ]
    if gone:
        raise OutOfStock(
            f"{' and '.join(gone)} {'has' if len(gone) == 1 else 'have'} sold out since the page was shown: "
            "nothing was added.",
            details={"sold_out": [pk for pk in unique if pk in products and products[pk].name in gone]},
        )
    return [cart_add_item(cart=cart, product_id=product_id, quantity=1) for product_id in unique]


def carts_clean_up(*, empty_older_than: timedelta = timedelta(hours=1)) -> dict[str, int]:
    """Delete expired sessions, anonymous carts whose session is gone, and empty anonymous carts.

    Signed-in customers' carts are never touched. Run by ``manage.py clean_carts`` and the
    ``shop.tasks.clean_carts`` beat task."""
    from django.contrib.sessions.models import Session

    now = timezone.now()
    sessions = Session.objects.filter(expire_date__lt=now).delete()[1].get("sessions.Session", 0)
    anonymous = Cart.objects.filter(user__isnull=True)
    orphaned = anonymous.exclude(session_key__in=Session.objects.values("session_key")).delete()[1]
    empty = anonymous.filter(items__isnull=True, updated_at__lt=now - empty_older_than).delete()[1]
    return {
        "sessions": sessions,
        "orphaned_carts": orphaned.get("shop.Cart", 0),
        "empty_carts": empty.get("shop.Cart", 0),
    }
