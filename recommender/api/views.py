"""API v1 of the recommender: thin views over the selectors."""

from __future__ import annotations

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import NotFound as NotFoundError
from recommender.api.serializers import (
    ComplementsQuerySerializer,
    ComplementsSerializer,
    PhotoSearchBoxSerializer,
    PhotoSearchSerializer,
    PhotoSearchSummarySerializer,
    PhotoSearchUploadSerializer,
    SimilarProductsSerializer,
    SimilarQuerySerializer,
)
from recommender.models import PhotoSearch
from recommender.selectors.cached import complements_for, similar_for
from recommender.selectors.photo_search import (
    Owner,
    owner_of,
    photo_search_get,
    photo_search_list,
    photo_search_view,
)
from recommender.services.photo_search import (
    photo_search_add_box,
    photo_search_create,
    photo_search_delete,
    photo_search_retry,
)
from recommender.throttles import PhotoUploadThrottle
from shop import selectors as shop_selectors
from shop.api.serializers import ErrorSerializer


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
        garment = search.photo.garments.filter(pk=garment_id).first() if search.photo is not None else None
        if garment is None:
            raise NotFoundError("No such garment in this search.")
        return _image_response(garment.crop)
