"""API v1 of the recommender: thin views over the selectors."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from recommender.selectors.complements import complements_for
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


class ComplementsQuerySerializer(serializers.Serializer):
    k = serializers.IntegerField(min_value=1, max_value=24, default=6, help_text="How many (1–24, default 6).")


class ComplementSerializer(serializers.Serializer):
    product = ProductSerializer()
    reason = serializers.CharField(help_text="Why it goes with the product, in a sentence for shoppers.")
    pinned = serializers.BooleanField(help_text="Chosen by a curator.")
    outfit_photo = serializers.SerializerMethodField(help_text="A real street outfit that backs the pairing, if any.")

    def get_outfit_photo(self, suggestion) -> str | None:
        photo = suggestion.outfit_photo
        if photo is None or not photo.image:
            return None
        return self.context["request"].build_absolute_uri(photo.image.url)


class ComplementsSerializer(serializers.Serializer):
    items = ComplementSerializer(many=True)
    empty_reason = serializers.ChoiceField(
        choices=["", "not_indexed", "no_complements_for_slot", "none_available"],
        help_text="Why ``items`` is empty; empty when it is not.",
    )
    message = serializers.CharField(allow_blank=True, help_text="The same, in a sentence for people.")


class ProductComplementsApi(APIView):
    """Complete the look: what goes with a product (bottoms for a top, tops for a bottom, outerwear for a dress).

    Curators' pins come first; blocked pairs never show; only on-sale, in-stock items. An empty
    list carries the reason (not indexed yet, a slot nothing goes with, nothing on sale)."""

    @extend_schema(
        parameters=[ComplementsQuerySerializer],  # documents k's minimum and maximum
        responses={200: ComplementsSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request, pk: int, version=None):
        product = shop_selectors.product_get(pk=pk)
        if product is None:
            raise NotFound("No such product.")
        unknown = set(request.query_params) - {"k", "format"}
        if unknown:
            raise serializers.ValidationError({key: ["Unknown parameter."] for key in sorted(unknown)})
        query = ComplementsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        result = complements_for(product=product, k=query.validated_data["k"])
        return Response(ComplementsSerializer(result, context={"request": request}).data)
