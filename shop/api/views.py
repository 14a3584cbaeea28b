"""API v1: thin views over the same selectors and services as the pages."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import ensure_csrf_cookie
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, permissions, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import NotFound
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from shop import selectors
from shop.api import serializers as s
from shop.errors import ApplicationError
from shop.models import Product
from shop.services.accounts import user_sign_up
from shop.services.carts import MAX_QUANTITY, cart_add_item, cart_for, cart_remove_item, cart_set_quantity
from shop.services.catalog import product_set_image
from shop.services.orders import order_place

ERRORS = {400: s.ErrorSerializer, 401: s.ErrorSerializer, 403: s.ErrorSerializer, 404: s.ErrorSerializer}
CART_WRITE_ERRORS = {400: s.ErrorSerializer, 403: s.ErrorSerializer, 404: s.ErrorSerializer, 409: s.ErrorSerializer}

PRODUCT_FILTER_PARAMETERS = [
    OpenApiParameter(
        "q",
        str,
        description="Words to find (whole words, typos forgiven) in name, category, colour names, pattern or brand; "
        "results are ranked by relevance unless another sort is asked for.",
    ),
    OpenApiParameter("category", str, description="Category slug."),
    OpenApiParameter("slot", str, enum=["top", "bottom", "outerwear", "dress", "shoes", "accessory"]),
    OpenApiParameter("colour", str),
    OpenApiParameter("brand", str),
    OpenApiParameter("min_price", OpenApiTypes.DECIMAL),
    OpenApiParameter("max_price", OpenApiTypes.DECIMAL),
    OpenApiParameter("in_stock", bool),
    OpenApiParameter("sort", str, enum=["relevance", "newest", "price", "-price", "name"]),
]


@extend_schema_view(
    get=extend_schema(
        parameters=PRODUCT_FILTER_PARAMETERS,
        # 404: a page number past the end ("Invalid page.").
        responses={200: s.ProductSerializer, 400: s.ErrorSerializer, 404: s.ErrorSerializer},
    )
)
class ProductListApi(generics.ListAPIView):
    """Active products, with the storefront's filters, search, sorting and pagination.

    Unknown query parameters and malformed values are rejected with 400, so a client
    typo never silently returns the whole catalog."""

    serializer_class = s.ProductSerializer

    def get_queryset(self):
        filters = selectors.ProductFilters.from_params(self.request.query_params, strict=True)
        return selectors.product_list(filters=filters)


@extend_schema_view(get=extend_schema(responses={200: s.ProductSerializer, 404: s.ErrorSerializer}))
class ProductDetailApi(generics.RetrieveAPIView):
    serializer_class = s.ProductSerializer

    def get_object(self):
        product = selectors.product_get(pk=self.kwargs["pk"])
        if product is None:
            raise NotFound("No such product.")
        return product


MAX_ID = 2**63 - 1
LINE_VARIANT_PARAMETER = OpenApiParameter(
    "variant",
    int,
    description="Which size's line (the line's `variant`), needed when the product is in the cart in several "
    "sizes (else a 400 `size_required`). `0` names a line whose size was removed from the catalog.",
)


def _line_variant(request) -> int | None:
    raw = request.query_params.get("variant", "")
    if raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_ID:
        raise ApplicationError("variant: A valid integer is required.", code="invalid")
    return int(raw)


CART_QUANTITY_SCHEMA = {
    "type": "object",
    "properties": {
        "quantity": {"type": "integer", "minimum": 0, "maximum": MAX_QUANTITY, "description": "0 removes the line."}
    },
    "required": ["quantity"],
}


@extend_schema_view(
    post=extend_schema(
        request=AuthTokenSerializer,
        responses={
            200: s.TokenSerializer,
            400: s.ErrorSerializer,
            429: s.ErrorSerializer,
        },
        description="Exchange a username and password for an API token. Wrong credentials are a 400; "
        "after 20 failures per account or per client address within 15 minutes, a 429 says when to try again.",
    )
)
class TokenApi(ObtainAuthToken):
    # No session here, so no CSRF check: the answer is a token in the body, never a cookie.
    authentication_classes: list = []
    # ObtainAuthToken turns throttling off; ours keeps the API's address throttles on this door too.
    throttle_classes = api_settings.DEFAULT_THROTTLE_CLASSES  # type: ignore[assignment]  # classes, once imported


class SignUpApi(APIView):
    """Create a customer account and answer its API token (the sign-up page's rules)."""

    authentication_classes: list = []  # no session, so no CSRF: the answer is a token in the body
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        request=s.SignUpSerializer,
        responses={201: s.TokenSerializer, 400: s.ErrorSerializer},
        description="A username or e-mail address already in use (any case), or a weak password, is a 400 "
        "whose `details` name the fields.",
    )
    def post(self, request, version=None):
        data = s.SignUpSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_sign_up(**data.validated_data)
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key}, status=status.HTTP_201_CREATED)


class ProductImageApi(APIView):
    """Replace a product's main image (curators only). The file is checked before anything is saved."""

    permission_classes = [permissions.IsAdminUser]
    parser_classes = [MultiPartParser]

    @extend_schema(request=s.ProductImageUploadSerializer, responses={202: s.ProductSerializer, **ERRORS})
    def post(self, request, pk: int, version=None):
        product = get_object_or_404(Product, pk=pk)
        upload = s.ProductImageUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        product_set_image(product=product, image=upload.validated_data["image"])
        return Response(
            s.ProductSerializer(product, context={"request": request}).data, status=status.HTTP_202_ACCEPTED
        )


class CategoryListApi(generics.ListAPIView):
    serializer_class = s.CategorySerializer
    pagination_class = None

    def get_queryset(self):
        return selectors.category_list()


def _cart_payload(request, cart) -> dict:
    return s.CartSerializer(
        {
            "items": selectors.cart_lines(cart=cart),
            "count": selectors.cart_count(cart=cart),
            "total": selectors.cart_total(cart=cart),
        },
        context={"request": request},
    ).data


class CartApi(APIView):
    """The caller's cart: a signed-in user's stored cart, or the session's cart."""

    @extend_schema(responses={200: s.CartSerializer})
    @method_decorator(ensure_csrf_cookie)  # session clients need the token for their writes
    def get(self, request, version=None):
        cart = cart_for(user=request.user, session=request.session, create=False)
        return Response(_cart_payload(request, cart))

    @extend_schema(
        request=s.CartAddSerializer,
        responses={201: s.CartSerializer, **CART_WRITE_ERRORS},
        description="Add a product in one size. The size is `variant`: the `id` of one of the product's `sizes` "
        "(as listed by the product endpoints). A product sold in one size needs none. The same product in two "
        "sizes makes two lines.",
    )
    def post(self, request, version=None):
        data = s.CartAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cart = cart_for(user=request.user, session=request.session)
        cart_add_item(
            cart=cart,
            product_id=data.validated_data["product"],
            quantity=data.validated_data["quantity"],
            variant_id=data.validated_data.get("variant"),
        )
        return Response(_cart_payload(request, cart), status=status.HTTP_201_CREATED)


class CartItemApi(APIView):
    """One line of the caller's cart. Neither call creates a cart or a session: a caller without
    a cart gets 404, like a product that is not in the cart."""

    @extend_schema(
        # PATCH bodies are documented as partial by default; quantity is required here.
        request={"application/json": CART_QUANTITY_SCHEMA},
        parameters=[LINE_VARIANT_PARAMETER],
        responses={200: s.CartSerializer, **CART_WRITE_ERRORS},
    )
    def patch(self, request, product_id: int, version=None):
        data = s.CartQuantitySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cart = cart_for(user=request.user, session=request.session, create=False)
        cart_set_quantity(
            cart=cart,
            product_id=product_id,
            quantity=data.validated_data["quantity"],
            variant_id=_line_variant(request),
        )
        return Response(_cart_payload(request, cart))

    @extend_schema(
        parameters=[LINE_VARIANT_PARAMETER],
        responses={200: s.CartSerializer, 400: s.ErrorSerializer, 403: s.ErrorSerializer, 404: s.ErrorSerializer},
    )
    def delete(self, request, product_id: int, version=None):
        cart = cart_for(user=request.user, session=request.session, create=False)
        cart_remove_item(cart=cart, product_id=product_id, variant_id=_line_variant(request))
        return Response(_cart_payload(request, cart))


class OrderListApi(APIView):
    """The caller's own orders; POST checks out the cart."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: s.OrderSerializer(many=True), **ERRORS})
    def get(self, request, version=None):
        return Response(s.OrderSerializer(selectors.order_list(user=request.user), many=True).data)

    @extend_schema(request=s.CheckoutSerializer, responses={201: s.OrderSerializer, **ERRORS, 409: s.ErrorSerializer})
    def post(self, request, version=None):
        data = s.CheckoutSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cart = cart_for(user=request.user, session=request.session)
        order = order_place(cart=cart, user=request.user, **data.validated_data)
        return Response(s.OrderSerializer(order).data, status=status.HTTP_201_CREATED)


class OrderDetailApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: s.OrderSerializer, **ERRORS})
    def get(self, request, number: str, version=None):
        order = selectors.order_get(user=request.user, number=number)
        if order is None:
            raise NotFound("No such order.")
        return Response(s.OrderSerializer(order).data)
