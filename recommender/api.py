"""API v1 of the recommender: thin views over the selectors."""

from __future__ import annotations

from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import NotFound as NotFoundError
from recommender.models import PhotoSearch
from recommender.selectors.complements import complements_for
from recommender.selectors.photo_search import (
    Owner,
    owner_of,
    photo_search_get,
    photo_search_list,
    photo_search_view,
)
from recommender.selectors.recommendations import EMPTY_REASONS
from recommender.selectors.similar import similar_for
from recommender.services.photo_search import (
    BOX_SLOTS,
    photo_search_add_box,
    photo_search_create,
    photo_search_delete,
    photo_search_retry,
)
from recommender.throttles import PhotoUploadThrottle
from shop import selectors as shop_selectors
from shop.api.serializers import ErrorSerializer, ProductSerializer


class RecommendationsSerializer(serializers.Serializer):
    """The envelope of every recommendation section: its ``items``, or why there are none.

    A section's serializer subclasses it and declares ``items`` with its own item serializer."""

    empty_reason = serializers.ChoiceField(
        choices=EMPTY_REASONS,
        help_text="Why ``items`` is empty; empty when it is not. ``not_indexed``: the product's photo is not "
        "analysed yet; ``no_complements_for_slot``: nothing is suggested with this kind of item (complements "
        "only); ``none_available``: nothing that fits is on sale and in stock now.",
    )
    message = serializers.CharField(allow_blank=True, help_text="The same, in a sentence for people.")

    def get_fields(self):
        fields = super().get_fields()
        return {"items": fields.pop("items"), **fields}  # items first, as every section reads


class SimilarProductsSerializer(RecommendationsSerializer):
    items = ProductSerializer(many=True, help_text="Look-alikes, nearest first.")


class SimilarQuerySerializer(serializers.Serializer):
    k = serializers.IntegerField(min_value=1, max_value=50, default=10, help_text="How many (1–50, default 10).")
    cheaper = serializers.BooleanField(default=False, help_text="Only items priced below this product.")


class SimilarProductsApi(APIView):
    """Look-alikes of a product: the nearest on-sale, in-stock items, its category first, then its slot.

    An empty list carries the reason (not indexed yet, nothing similar on sale)."""

    @extend_schema(
        parameters=[SimilarQuerySerializer],  # documents k's minimum 1 and maximum 50
        responses={200: SimilarProductsSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
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
        result = similar_for(product=product, k=query.validated_data["k"], cheaper=query.validated_data["cheaper"])
        return Response(SimilarProductsSerializer(result, context={"request": request}).data)


class ComplementsQuerySerializer(serializers.Serializer):
    k = serializers.IntegerField(min_value=1, max_value=24, default=8, help_text="How many (1–24, default 8).")


class ComplementSerializer(serializers.Serializer):
    product = ProductSerializer()
    reason = serializers.CharField(help_text="Why it goes with the product, in a sentence for shoppers.")
    pinned = serializers.BooleanField(help_text="Chosen by a curator.")
    outfit_photo = serializers.SerializerMethodField(
        help_text="A real street outfit whose garments look like both pieces, if any."
    )
    slot = serializers.ChoiceField(
        choices=["top", "bottom", "outerwear", "shoes", "dress", "accessory"],
        help_text="The slot of the look this piece fills.",
    )
    in_look = serializers.BooleanField(
        help_text="Part of the outfit itself (one piece per slot); the others are alternatives for their slot."
    )

    def get_outfit_photo(self, suggestion) -> str | None:
        photo = suggestion.outfit_photo
        if photo is None or not photo.image:
            return None
        return self.context["request"].build_absolute_uri(photo.image.url)


class ComplementsSerializer(RecommendationsSerializer):
    items = ComplementSerializer(many=True, help_text="The look (``in_look``), one piece per slot, then alternatives.")


class ProductComplementsApi(APIView):
    """Complete the look: a whole outfit for a product (a bottom and shoes for a top, a top and shoes for a
    bottom, a layer and shoes for a dress), then alternatives per slot.

    The items marked ``in_look`` are the outfit, one per slot, first; each item carries its ``slot``.
    Curators' pins come first in their slot; blocked pairs never show; only on-sale, in-stock items.
    An empty list carries the reason (not indexed yet, a slot nothing goes with, nothing on sale)."""

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


# --- Shop by photo ----------------------------------------------------------------------------------


def _api_url(name: str, request=None, **kwargs) -> str:
    url = reverse(name, kwargs={"version": "v1", **kwargs})
    return request.build_absolute_uri(url) if request is not None else url


class PhotoSearchUploadSerializer(serializers.Serializer):
    photo = serializers.FileField(help_text="An outfit photo (JPEG, PNG or WebP), within the upload limits.")


class PhotoSearchBoxSerializer(serializers.Serializer):
    box = serializers.ListField(
        child=serializers.FloatField(),
        min_length=4,
        max_length=4,
        help_text="[x0, y0, x1, y1] in pixels of the stored photo (its `width` × `height`); x1 and y1 exclusive.",
    )
    slot = serializers.ChoiceField(choices=BOX_SLOTS, help_text="What the box holds.")


class GarmentResultSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="garment.pk")
    slot = serializers.CharField(source="garment.slot")
    origin = serializers.CharField(source="garment.origin", help_text="segmenter, or box (drawn by the customer).")
    bbox = serializers.ListField(child=serializers.IntegerField(), source="garment.bbox")
    pixel_share = serializers.FloatField(source="garment.pixel_share")
    confidence = serializers.FloatField(source="garment.confidence")
    outline = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        source="match.outline",
        help_text="Closed polygon [[x, y], ...] in photo pixels.",
    )
    crop = serializers.SerializerMethodField()
    similar = ProductSerializer(many=True, help_text="Look-alikes in the same slot, nearest first.")
    similar_cheaper = ProductSerializer(many=True, help_text="Look-alikes priced below the nearest one.")
    complements = ProductSerializer(many=True, help_text="Items that go with this garment.")

    def get_crop(self, obj) -> str:
        search = self.context["search"]
        return _api_url(
            "api-photo-search-garment-crop", self.context.get("request"), pk=search.pk, garment_id=obj.garment.pk
        )


class PhotoSearchSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="search.id")
    url = serializers.SerializerMethodField()
    status = serializers.ChoiceField(source="search.status", choices=PhotoSearch.Status.choices)
    status_display = serializers.CharField(source="search.get_status_display")
    progress = serializers.IntegerField(source="search.progress", help_text="0–100.")
    error = serializers.SerializerMethodField()
    notice = serializers.CharField(help_text="A message for the customer about a finished search, or empty.")
    timings_ms = serializers.DictField(child=serializers.IntegerField(), source="search.timings")
    photo = serializers.SerializerMethodField()
    width = serializers.IntegerField(source="search.photo.width")
    height = serializers.IntegerField(source="search.photo.height")
    created_at = serializers.DateTimeField(source="search.created_at")
    finished_at = serializers.DateTimeField(source="search.finished_at", allow_null=True)
    garments = GarmentResultSerializer(many=True)

    def get_url(self, obj) -> str:
        return _api_url("api-photo-search-detail", self.context.get("request"), pk=obj.search.pk)

    def get_photo(self, obj) -> str:
        return _api_url("api-photo-search-photo", self.context.get("request"), pk=obj.search.pk)

    @extend_schema_field(
        {"type": "object", "nullable": True, "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}
    )
    def get_error(self, obj):
        if obj.search.status != PhotoSearch.Status.FAILED:
            return None
        return {"code": obj.search.error_code, "message": obj.search.error}


class PhotoSearchSummarySerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    photo = serializers.SerializerMethodField()
    garment_count = serializers.IntegerField()

    class Meta:
        model = PhotoSearch
        fields = ["id", "url", "status", "progress", "photo", "garment_count", "created_at", "finished_at"]

    def get_url(self, obj) -> str:
        return _api_url("api-photo-search-detail", self.context.get("request"), pk=obj.pk)

    def get_photo(self, obj) -> str:
        return _api_url("api-photo-search-photo", self.context.get("request"), pk=obj.pk)


def _owner(request, *, create: bool = False) -> Owner:
    return owner_of(user=request.user, session=getattr(request, "session", None), create=create)


def _search_or_404(request, pk) -> PhotoSearch:
    search = photo_search_get(search_id=pk, owner=_owner(request))
    if search is None:
        raise NotFoundError("No such photo search.")
    return search


def _search_body(request, search: PhotoSearch) -> dict:
    view = photo_search_view(search=search)
    return PhotoSearchSerializer(view, context={"request": request, "search": search}).data


def _image_response(field_file) -> FileResponse:
    if not field_file:
        raise NotFoundError("The image has been deleted.")
    try:
        handle = field_file.open("rb")
    except FileNotFoundError as exc:
        raise NotFoundError("The image has been deleted.") from exc
    response = FileResponse(handle, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response


class PhotoSearchListApi(APIView):
    """Shop by photo: upload an outfit photo (answered at once with 202; poll the search's URL), or list
    your own searches. Visitors without an account are told apart by their session cookie."""

    parser_classes = [MultiPartParser, FormParser]

    def get_throttles(self):
        throttles = super().get_throttles()
        return [*throttles, PhotoUploadThrottle()] if self.request.method == "POST" else throttles

    @extend_schema(responses={200: PhotoSearchSummarySerializer(many=True)})
    def get(self, request, version=None):
        searches = photo_search_list(owner=_owner(request))[:100]
        return Response(PhotoSearchSummarySerializer(searches, many=True, context={"request": request}).data)

    @extend_schema(
        request={"multipart/form-data": PhotoSearchUploadSerializer},
        responses={202: PhotoSearchSerializer, 400: ErrorSerializer, 429: ErrorSerializer},
    )
    def post(self, request, version=None):
        form = PhotoSearchUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        owner = _owner(request, create=True)
        search = photo_search_create(
            upload=form.validated_data["photo"],
            user=owner.user,
            visitor_key=owner.visitor_key,
            channel=PhotoSearch.Channel.API,
        )
        body = _search_body(request, search)
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})


class PhotoSearchDetailApi(APIView):
    """One of your photo searches: status, progress and, once done, each garment with its catalog items.
    Anyone else's search answers 404."""

    @extend_schema(responses={200: PhotoSearchSerializer, 404: ErrorSerializer})
    def get(self, request, pk, version=None):
        return Response(_search_body(request, _search_or_404(request, pk)))

    @extend_schema(responses={204: None, 404: ErrorSerializer})
    def delete(self, request, pk, version=None):
        photo_search_delete(search=_search_or_404(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PhotoSearchCropsApi(APIView):
    """Search a box drawn over the photo as a garment of the given slot (when the segmenter missed it).
    Answers 202; the search runs again and its URL shows the new garment."""

    @extend_schema(
        request=PhotoSearchBoxSerializer,
        responses={202: PhotoSearchSerializer, 400: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer},
    )
    def post(self, request, pk, version=None):
        search = _search_or_404(request, pk)
        form = PhotoSearchBoxSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        search = photo_search_add_box(search=search, box=form.validated_data["box"], slot=form.validated_data["slot"])
        return Response(_search_body(request, search), status=status.HTTP_202_ACCEPTED)


class PhotoSearchRetryApi(APIView):
    """Run a failed search again."""

    @extend_schema(request=None, responses={202: PhotoSearchSerializer, 404: ErrorSerializer, 409: ErrorSerializer})
    def post(self, request, pk, version=None):
        search = photo_search_retry(search=_search_or_404(request, pk))
        return Response(_search_body(request, search), status=status.HTTP_202_ACCEPTED)


class PhotoSearchPhotoApi(APIView):
    """The search's photo (JPEG), for its owner only."""

    @extend_schema(responses={(200, "image/jpeg"): OpenApiTypes.BINARY, 404: ErrorSerializer})
    def get(self, request, pk, version=None):
        return _image_response(_search_or_404(request, pk).photo.image)


class PhotoSearchGarmentCropApi(APIView):
    """A garment's white-filled crop (JPEG), for the search's owner only."""

    @extend_schema(responses={(200, "image/jpeg"): OpenApiTypes.BINARY, 404: ErrorSerializer})
    def get(self, request, pk, garment_id: int, version=None):
        search = _search_or_404(request, pk)
        garment = search.photo.garments.filter(pk=garment_id).first()
        if garment is None:
            raise NotFoundError("No such garment in this search.")
        return _image_response(garment.crop)
