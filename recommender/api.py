"""API v1 of the recommender: thin views over the selectors."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from recommender.selectors.similar import similar_products
from shop import selectors as shop_selectors
from shop.api.serializers import ErrorSerializer, ProductSerializer


class SimilarQuerySerializer(serializers.Serializer):
    k = serializers.IntegerField(min_value=1, max_value=50, default=10, help_text="How many (1–50, default 10).")
    cheaper = serializers.BooleanField(default=False, help_text="Only items priced below this product.")


class SimilarProductsApi(APIView):
    """Look-alikes of a product: the nearest on-sale, in-stock items in the same slot.

    An empty list means the product has no vector yet (or nothing similar is on sale)."""

    @extend_schema(
        parameters=[SimilarQuerySerializer],  # documents k's minimum 1 and maximum 50
        responses={200: ProductSerializer(many=True), 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request, pk: int, version=None):
        product = shop_selectors.product_get(pk=pk)
        if product is None:
            raise NotFound("No such product.")
        unknown = set(request.query_params) - {"k", "cheaper", "format"}
        if unknown:
            raise serializers.ValidationError({key: ["Unknown parameter."] for key in sorted(unknown)})
        query = SimilarQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        items = similar_products(product=product, k=query.validated_data["k"], cheaper=query.validated_data["cheaper"])
        return Response(ProductSerializer(items, many=True, context={"request": request}).data)
