"""Storefront pages: thin views over selectors and services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from shop import selectors
from shop.demo_stock import demo_stock_progress
from shop.errors import ApplicationError
from shop.forms import AddLookForm, AddToCartForm, CartLineForm, CheckoutForm, SignUpForm
from shop.models import Category, Colour
from shop.sections import product_page_context
from shop.services.carts import cart_add_item, cart_add_look, cart_for, cart_open, cart_remove_item, cart_set_quantity
from shop.services.orders import order_place
from shop.sizes import ONE_SIZE

PAGE_SIZE = 24


def home(request: HttpRequest) -> HttpResponse:
    newest = selectors.new_in(limit=8)
    return render(
        request,
        "shop/home.html",
        {"categories": selectors.category_list(), "newest": newest, "demo_stock": demo_stock_progress()},
    )


def product_list(request: HttpRequest) -> HttpResponse:
    filters = selectors.ProductFilters.from_params(request.GET)
    paginator = Paginator(selectors.product_list(filters=filters), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    no_results = page.paginator.count == 0
    return render(
        request,
        "shop/product_list.html",
        {
            "page": page,
            "filters": filters,
            "suggestions": selectors.search_suggestions(q=filters.q) if no_results and filters.q else [],
            "query": query.urlencode(),
            "categories": selectors.category_list(),
            "slots": Category.Slot.choices,
            "colours": Colour.choices,
            "brands": selectors.brand_list(),
            "sorts": [
                *([("relevance", "Best match")] if filters.q else []),
                ("newest", "Newest"),
                ("price", "Price: low to high"),
                ("-price", "Price: high to low"),
                ("name", "Name"),
            ],
        },
    )


def _product_page(request: HttpRequest, product, form: AddToCartForm, *, status: int = 200) -> HttpResponse:
    sections = product_page_context(request=request, product=product)
    return render(request, "shop/product_detail.html", {"product": product, "form": form, **sections}, status=status)


def product_detail(request: HttpRequest, slug: str) -> HttpResponse:
    product = selectors.product_get(slug=slug)
    if product is None:
        raise Http404("No such product.")
    return _product_page(request, product, AddToCartForm(product=product))


def _safe_next(request: HttpRequest, *, default: str) -> str:
    """``next`` only when it points back into this site; an off-site URL falls back to ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(default)


@require_POST
def cart_add(request: HttpRequest, product_id: int) -> HttpResponse:
    """Add to cart, then back where the shopper was (the product page, or a local ``next``) with the
    message; the header's cart link shows the new count."""
    product = selectors.product_get(pk=product_id)
    back = _safe_next(request, default=product.get_absolute_url() if product else "shop:cart")
    form = AddToCartForm(request.POST, product=product)
    if not form.is_valid():
        if product is not None and "size" in form.errors:
            # An unknown, missing or sold-out size: the page again (400), the picker showing the error.
            return _product_page(request, product, form, status=400)
        messages.error(request, "Choose a quantity between 1 and 20.")
        return redirect(back)
    cart = cart_open(user=request.user, session=request.session)
    try:
        item = cart_add_item(
            cart=cart,
            product_id=product_id,
            quantity=form.cleaned_data["quantity"],
            variant_id=form.cleaned_data.get("size"),
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        size = "" if item.size in ("", ONE_SIZE) else f" (size {item.size})"
        messages.success(request, f"Added {item.product.name}{size} to your cart.")
    return redirect(back)


@require_POST
def cart_look_add(request: HttpRequest, product_id: int) -> HttpResponse:
    """ "Add the look": this product and the chosen piece (or every piece of the outfit), in one step."""
    form = AddLookForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a piece to go with it.")
        return redirect("shop:cart")
    cart = cart_open(user=request.user, session=request.session)
    try:
        items = cart_add_look(
            cart=cart, product_ids=[product_id, *form.cleaned_data["with_product"]], sizes=form.sizes()
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        names = [i.product.name for i in items]
        messages.success(request, f"Added the look to your cart: {', '.join(names[:-1])} and {names[-1]}.")
    return redirect("shop:cart")


@require_POST
def cart_update(request: HttpRequest, product_id: int) -> HttpResponse:
    form = CartLineForm(request.POST)
    cart = cart_for(user=request.user, session=request.session, create=False)
    if cart is None or not form.is_valid():
        messages.error(request, "That quantity is not valid.")
        return redirect("shop:cart")
    try:
        cart_set_quantity(
            cart=cart,
            product_id=product_id,
            quantity=form.cleaned_data["quantity"],
            variant_id=form.cleaned_data["variant"],
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("shop:cart")


@require_POST
def cart_remove(request: HttpRequest, product_id: int) -> HttpResponse:
    cart = cart_for(user=request.user, session=request.session, create=False)
    form = CartLineForm({"quantity": 0, "variant": request.POST.get("variant", "")})
    variant_id = form.cleaned_data["variant"] if form.is_valid() else None
    try:
        cart_remove_item(cart=cart, product_id=product_id, variant_id=variant_id)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Removed from your cart.")
    return redirect("shop:cart")


def cart_detail(request: HttpRequest) -> HttpResponse:
    cart = cart_for(user=request.user, session=request.session, create=False)
    return render(
        request,
        "shop/cart.html",
        {"lines": selectors.cart_lines(cart=cart), "total": selectors.cart_total(cart=cart)},
    )


@login_required
def checkout(request: HttpRequest) -> HttpResponse:
    cart = cart_open(user=request.user, session=request.session)
    lines = selectors.cart_lines(cart=cart)
    if not lines:
        messages.info(request, "Your cart is empty.")
        return redirect("shop:cart")
    form = CheckoutForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            order = order_place(cart=cart, user=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Thank you! Order {order.number} is placed.")
            return redirect(order.get_absolute_url())
    return render(
        request,
        "shop/checkout.html",
        {"form": form, "lines": lines, "total": selectors.cart_total(cart=cart)},
    )


@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    return render(request, "shop/order_list.html", {"orders": selectors.order_list(user=request.user)})


@login_required
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    order = selectors.order_get(user=request.user, number=number)
    if order is None:
        raise Http404("No such order.")
    return render(request, "shop/order_detail.html", {"order": order})


def sign_up(request: HttpRequest) -> HttpResponse:
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Welcome! Your account is ready.")
        return redirect("shop:home")
    return render(request, "registration/signup.html", {"form": form})
