"""Cart writes: session carts for visitors, stored carts for customers, merged on sign-in."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from shop.errors import ApplicationError, NotFound, OutOfStock
from shop.models import Cart, CartItem, Product, ProductVariant
from shop.sizes import ONE_SIZE

MAX_QUANTITY = 20
SESSION_CART_KEY = "cart_id"


def cart_for(*, user=None, session=None, create: bool = True) -> Cart | None:
    """The cart of a signed-in user, or of an anonymous session."""
    if user is not None and user.is_authenticated:
        if create:
            return Cart.objects.get_or_create(user=user)[0]
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


def cart_open(*, user=None, session=None) -> Cart:
    """The cart of a signed-in user or of an anonymous session, created if there is none yet."""
    cart = cart_for(user=user, session=session, create=True)
    if cart is None:
        raise ApplicationError("A cart needs a signed-in user or a session.")
    return cart


def _sellable(product_id: int) -> Product:
    product = Product.objects.filter(pk=product_id, is_active=True).first()
    if product is None:
        raise NotFound("This product is not on sale.")
    return product


def _size_named(product: Product, variant: ProductVariant) -> str:
    return product.name if variant.size == ONE_SIZE else f"{product.name} in size {variant.size}"


def variant_choose(*, product: Product, variant_id: int | None = None) -> ProductVariant:
    """The size a shopper picked: one of ``product``'s own sizes. A product with a single size
    needs no choice; one with several needs one (``size_required``); a size that is not the
    product's is ``unknown_size``. Both are 400s, with a message to show the shopper."""
    sizes = list(ProductVariant.objects.filter(product=product))
    if variant_id is None:
        if len(sizes) == 1:
            return sizes[0]
        if not sizes:
            raise OutOfStock(f"{product.name} is sold out.", details={"product": product.pk, "available": 0})
        raise ApplicationError(
            f"Choose a size of {product.name}.",
            code="size_required",
            details={"product": product.pk, "sizes": [v.pk for v in sizes]},
        )
    for variant in sizes:
        if variant.pk == variant_id:
            return variant
    raise ApplicationError(
        f"That size does not exist for {product.name}.",
        code="unknown_size",
        details={"product": product.pk, "variant": variant_id, "sizes": [v.pk for v in sizes]},
    )


@transaction.atomic
def cart_add_item(*, cart: Cart, product_id: int, quantity: int = 1, variant_id: int | None = None) -> CartItem:
    """Put ``quantity`` of one size of a product in the cart (a second add of the same size adds up)."""
    if quantity < 1:
        raise ApplicationError("Quantity must be at least 1.")
    product = _sellable(product_id)
    variant = variant_choose(product=product, variant_id=variant_id)
    item, created = CartItem.objects.select_for_update().get_or_create(
        cart=cart, variant=variant, defaults={"quantity": quantity, "product": product, "size": variant.size}
    )
    if not created:
        item.quantity = F("quantity") + quantity
        item.save(update_fields=["quantity"])
        item.refresh_from_db()
    if item.quantity > min(MAX_QUANTITY, variant.stock):
        if variant.stock < 1:
            raise OutOfStock(
                f"{_size_named(product, variant)} is sold out.",
                details={"product": product.pk, "variant": variant.pk, "available": 0},
            )
        if variant.stock < MAX_QUANTITY:
            raise OutOfStock(
                f"Only {variant.stock} of {_size_named(product, variant)} in stock.",
                details={"product": product.pk, "variant": variant.pk, "available": variant.stock},
            )
        raise ApplicationError(f"At most {MAX_QUANTITY} of one item per order.")
    return item


def _line(cart: Cart | None, product_id: int, variant_id: int | None, *, lock: bool = False) -> CartItem:
    """The cart's line for a product (and size, when the product is in the cart in several sizes)."""
    if cart is None:
        raise NotFound("This product is not in your cart.")
    lines = CartItem.objects.filter(cart=cart, product_id=product_id).select_related("product", "variant")
    if lock:
        lines = lines.select_for_update(of=("self",))
    if variant_id == 0:  # the line whose size a curator removed
        lines = lines.filter(variant__isnull=True)
    elif variant_id is not None:
        lines = lines.filter(variant_id=variant_id)
    found = list(lines[:2])
    if not found:
        raise NotFound("This product is not in your cart." if variant_id is None else "This size is not in your cart.")
    if len(found) > 1:
        raise ApplicationError(
            "This product is in your cart in several sizes: say which one.",
            code="size_required",
            details={"product": product_id, "variants": [i.variant_id for i in found]},
        )
    return found[0]


@transaction.atomic
def cart_set_quantity(
    *, cart: Cart | None, product_id: int, quantity: int, variant_id: int | None = None
) -> CartItem | None:
    """Set a line's quantity; 0 removes it. No cart, or no such line, is a NotFound (nothing is created)."""
    if quantity < 0:
        raise ApplicationError("Quantity cannot be negative.")
    item = _line(cart, product_id, variant_id, lock=True)
    if quantity == 0:
        item.delete()
        return None
    if quantity > MAX_QUANTITY:
        raise ApplicationError(f"At most {MAX_QUANTITY} of one item per order.")
    if item.variant is None:
        raise OutOfStock(
            f"Size {item.size} of {item.product.name} is no longer sold: remove it and choose another size.",
            details={"product": product_id, "available": 0},
            code="size_gone",
        )
    if quantity > item.variant.stock:
        raise OutOfStock(
            f"Only {item.variant.stock} of {_size_named(item.product, item.variant)} in stock.",
            details={"product": product_id, "variant": item.variant_id, "available": item.variant.stock},
        )
    item.quantity = quantity
    item.save(update_fields=["quantity"])
    return item


def cart_remove_item(*, cart: Cart | None, product_id: int, variant_id: int | None = None) -> None:
    """Remove a line; a product (or size) that is not in the cart, or no cart at all, is a NotFound."""
    _line(cart, product_id, variant_id).delete()


@transaction.atomic
def cart_merge(*, anonymous_cart_id: int | None, user) -> Cart:
    """Fold the anonymous session's cart into the user's stored cart (on sign-in)."""
    user_cart, _ = Cart.objects.get_or_create(user=user)
    if not anonymous_cart_id:
        return user_cart
    anon = Cart.objects.filter(pk=anonymous_cart_id, user__isnull=True).first()
    if anon is None:
        return user_cart
    for item in anon.items.select_related("product", "variant"):
        if item.variant is None:
            continue  # a size removed from the catalog: nothing left to buy
        existing = CartItem.objects.filter(cart=user_cart, variant=item.variant).first()
        wanted = item.quantity + (existing.quantity if existing else 0)
        capped = max(1, min(wanted, MAX_QUANTITY, max(item.variant.stock, 1)))
        if existing:
            existing.quantity = capped
            existing.save(update_fields=["quantity"])
        else:
            CartItem.objects.create(
                cart=user_cart, product=item.product, variant=item.variant, size=item.size, quantity=capped
            )
    anon.delete()
    return user_cart


#: A look is the product and what goes with it: two to four pieces.
LOOK_SIZE = (2, 4)


@transaction.atomic
def cart_add_look(*, cart: Cart, product_ids: list[int], sizes: dict[int, int] | None = None) -> list[CartItem]:
    """Put a whole look (a product and what goes with it) in the cart in one step: every piece, or none.

    ``sizes`` maps a product id to the variant id chosen for it; a piece sold in one size needs
    no entry. A piece sold out or taken off sale since the page was shown, a piece whose size
    is missing, unknown or sold out, is named, and nothing is added."""
    sizes = sizes or {}
    unique = list(dict.fromkeys(product_ids))
    if not LOOK_SIZE[0] <= len(unique) <= LOOK_SIZE[1]:
        raise ApplicationError(f"A look is {LOOK_SIZE[0]} to {LOOK_SIZE[1]} different products.")
    products = Product.objects.in_bulk(unique)
    gone = [
        products[pk].name for pk in unique if pk in products and (not products[pk].is_active or products[pk].stock < 1)
    ]
    if gone:
        raise OutOfStock(
            f"{' and '.join(gone)} {'has' if len(gone) == 1 else 'have'} sold out since the page was shown: "
            "nothing was added.",
            details={"sold_out": [pk for pk in unique if pk in products and products[pk].name in gone]},
        )
    missing, sold_out, chosen = [], [], {}
    for pk in unique:
        if pk not in products:
            continue  # cart_add_item below answers "not on sale"
        try:
            variant = variant_choose(product=products[pk], variant_id=sizes.get(pk))
        except ApplicationError as exc:
            if exc.code != "size_required":
                raise ApplicationError(
                    f"{exc.message} Nothing was added.", code=exc.code, details=exc.details
                ) from None
            missing.append(products[pk].name)
            continue
        if variant.stock < 1:
            sold_out.append(_size_named(products[pk], variant))
        chosen[pk] = variant.pk
    if missing:
        raise ApplicationError(
            f"Choose a size of {' and '.join(missing)}: nothing was added.",
            code="size_required",
            details={"size_required": [pk for pk in unique if pk in products and products[pk].name in missing]},
        )
    if sold_out:
        raise OutOfStock(
            f"{' and '.join(sold_out)} {'has' if len(sold_out) == 1 else 'have'} sold out: choose another size. "
            "Nothing was added.",
            details={"sold_out_sizes": sold_out},
        )
    return [cart_add_item(cart=cart, product_id=pk, quantity=1, variant_id=chosen.get(pk)) for pk in unique]


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
