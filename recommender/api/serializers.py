"""API v1 of the recommender: the serializers of its sections and of shop-by-photo searches."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from recommender.models import PhotoSearch
from recommender.selectors.recommendations import EMPTY_REASONS
from recommender.services.photo_search import BOX_SLOTS
from shop.api.serializers import ProductSerializer


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


def api_url(name: str, request=None, **kwargs) -> str:
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
        return api_url(
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
        return api_url("api-photo-search-detail", self.context.get("request"), pk=obj.search.pk)

    def get_photo(self, obj) -> str:
        return api_url("api-photo-search-photo", self.context.get("request"), pk=obj.search.pk)

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
        return api_url("api-photo-search-detail", self.context.get("request"), pk=obj.pk)

    def get_photo(self, obj) -> str:
        return api_url("api-photo-search-photo", self.context.get("request"), pk=obj.pk)
