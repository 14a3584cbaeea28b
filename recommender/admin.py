"""Curators see every product's indexing state and can retry failures."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Exists, OuterRef, Q
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from core.errors import ApplicationError
from recommender.models import (
    COMPLEMENT_TARGETS,
    ComplementRule,
    ComplementVector,
    Garment,
    GarmentVector,
    OutfitPhoto,
    PhotoSearch,
)
from recommender.selectors.cached import complements_for
from recommender.selectors.indexing import current_complement_version, current_version
from recommender.selectors.models import background_model, model_cards
from recommender.selectors.photo_search import photo_search_stats
from recommender.selectors.previews import segmentation_preview
from recommender.services.indexing import product_index_request
from recommender.services.photo_search import photo_search_delete, photo_search_retry
from shop.admin import ProductAdmin, ProductAdminExtension
from shop.models import Product
from shop.validators import validate_image_upload

_BADGE = {"indexed": "#1a7f37", "pending": "#9a6700", "failed": "#cf222e", "stale": "#6e7781", "none": "#6e7781"}


def index_state(product: Product, version: str | None, *, complements_current: bool = True) -> str:
    """The product's indexing state. ``complements_current``: False when its slot has complements and its
    complement vectors are missing or were made by another model or from another photo."""
    vector = getattr(product, "garment_vector", None)
    if vector is None:
        return "none"
    if vector.status == GarmentVector.Status.INDEXED and (
        vector.model_version != version or vector.image_sha256 != product.image_sha256 or not complements_current
    ):
        return "stale"
    return vector.status


def _badge(state: str, title: str = ""):
    return format_html('<span title="{}" style="color:{};font-weight:600">{}</span>', title, _BADGE[state], state)


class PhotoForm(forms.Form):
    photo = forms.FileField(help_text="A street or catalog photo; it is analysed in memory and not stored.")

    def clean_photo(self):
        return validate_image_upload(self.cleaned_data["photo"])


@admin.register(GarmentVector)
class GarmentVectorAdmin(admin.ModelAdmin):
    list_display = ["product", "slot", "state", "short_version", "attempts", "indexed_at", "error"]
    list_filter = ["status", "slot"]
    search_fields = ["product__name", "product__sku"]
    list_select_related = ["product"]
    readonly_fields = [f.name for f in GarmentVector._meta.fields if f.name != "embedding"]
    exclude = ["embedding"]
    actions = ["retry"]

    def has_add_permission(self, request) -> bool:
        return False

    def get_urls(self):
        extra = [path("models/", self.admin_site.admin_view(self.models_view), name="recommender-models")]
        return extra + super().get_urls()

    def models_view(self, request):
        """Which models serve, what they measured, and a segmentation preview for a photo."""
        form = PhotoForm(request.POST or None, request.FILES or None)
        preview, error = None, ""
        if request.method == "POST" and form.is_valid():
            try:
                preview = segmentation_preview(image=form.cleaned_data["photo"])
            except ApplicationError as exc:
                error = exc.message
        counts = dict(GarmentVector.objects.values_list("status").annotate(n=Count("id")).order_by())
        context = {
            **self.admin_site.each_context(request),
            "title": "Models",
            "cards": model_cards(),
            "background": background_model(),
            "vector_counts": {state: counts.get(state, 0) for state in GarmentVector.Status.values},
            "form": form,
            "preview": preview,
            "error": error,
        }
        return TemplateResponse(request, "admin/recommender/models.html", context)

    @admin.display(description="state")
    def state(self, obj: GarmentVector):
        return _badge(index_state(obj.product, current_version()), obj.error)

    @admin.display(description="model")
    def short_version(self, obj: GarmentVector) -> str:
        return obj.model_version[:12]

    @admin.action(description="Index again")
    def retry(self, request, queryset):
        for vector in queryset.select_related("product__category"):
            product_index_request(product=vector.product)
        self.message_user(request, f"Queued {queryset.count()} products for indexing.", messages.SUCCESS)


class ComplementRuleInline(admin.TabularInline):
    """Pins (shown first, in this order) and blocks (never shown, in either direction) for this product.

    The other product is picked by typing its SKU or name (the product admin's search), not its id."""

    model = ComplementRule
    fk_name = "product"
    fields = ["other", "kind", "position"]
    autocomplete_fields = ["other"]
    extra = 1
    verbose_name = "complete-the-look rule"
    verbose_name_plural = "Complete the look: pins and blocks"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "other":
            field.help_text = "Type a SKU or a name."
        return field


def _thumbnail(product: Product):
    image = product.display_image
    if not image:
        return format_html('<span style="{}"></span>', "display:inline-block;width:42px;height:56px;background:#eee")
    return format_html(
        '<img src="{}" alt="" width="42" height="56" style="object-fit:cover;vertical-align:middle">', image.url
    )


class ProductIndexing(ProductAdminExtension):
    """The recommender's part of the shop's product admin: each product's indexing state (a column and
    a filter), its complete-the-look pins and blocks, a preview of the section, and indexing again."""

    inlines = [ComplementRuleInline]
    readonly_fields = ["complete_the_look"]
    fieldsets = [("Complete the look, as customers see it", {"fields": ["complete_the_look"]})]
    list_display = ["index_state"]
    list_filter = ["garment_vector__status"]
    list_select_related = ["garment_vector"]
    actions = ["reindex"]

    def changelist_opened(self, request) -> None:
        self._version = current_version()

    def get_queryset(self, request, queryset):
        # Whether each product's complement vectors are current, in the listing's one query.
        version = current_complement_version()
        current = ComplementVector.objects.filter(
            product=OuterRef("pk"), model_version=version, image_sha256=OuterRef("image_sha256")
        )
        return (
            queryset.annotate(complements_current=Exists(current) | ~Q(category__slot__in=list(COMPLEMENT_TARGETS)))
            if version
            else queryset
        )

    @admin.display(description="index")
    def index_state(self, obj: Product):
        vector = getattr(obj, "garment_vector", None)
        current = getattr(obj, "complements_current", True)
        state = index_state(obj, getattr(self, "_version", None), complements_current=current)
        title = vector.error if vector else ""
        if state == "stale" and not current:
            title = "Complete the look is not indexed for this photo and model yet"
        return _badge(state, title)

    @admin.display(description="preview")
    def complete_the_look(self, obj: Product):
        if obj.pk is None:
            return "Save the product first."
        result = complements_for(product=obj)
        if not result.items:
            return result.message
        return format_html(
            '<ol style="margin:0;padding-left:1.5em">{}</ol>',
            format_html_join(
                "",
                '<li style="margin-bottom:4px">{} <a href="{}">{}</a> · {} {} — {}{}</li>',
                (
                    (
                        _thumbnail(s.product),
                        f"../../{s.product.pk}/change/",
                        s.product.name,
                        s.product.price,
                        s.product.currency,
                        s.reason,
                        " (pinned)" if s.pinned else "",
                    )
                    for s in result.items
                ),
            ),
        )

    @admin.action(description="Index again (garment vectors)")
    def reindex(self, modeladmin, request, queryset):
        count = 0
        for product in queryset.exclude(image="").select_related("category"):
            product_index_request(product=product)
            count += 1
        modeladmin.message_user(request, f"Queued {count} products for indexing.", messages.SUCCESS)


# The one place the recommender adds to the shop's product admin (registered by the shop).
ProductAdmin.extend(ProductIndexing())


@admin.register(ComplementRule)
class ComplementRuleAdmin(admin.ModelAdmin):
    list_display = ["product", "kind", "other", "position", "created_at"]
    list_filter = ["kind"]
    raw_id_fields = ["product", "other"]
    search_fields = ["product__name", "product__sku", "other__name", "other__sku"]


class GarmentInline(admin.TabularInline):
    model = Garment
    fields = ("slot", "fine_label", "origin", "pixel_share", "confidence", "crop_preview", "embedder_version")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="crop")
    def crop_preview(self, obj: Garment):
        return format_html('<img src="{}" style="max-height:90px">', obj.crop.url) if obj.crop else "—"


@admin.register(OutfitPhoto)
class OutfitPhotoAdmin(admin.ModelAdmin):
    """Street outfits the recommender learns from (read-only: ``manage.py ingest_outfits`` writes them)."""

    list_display = ["__str__", "source", "external_id", "garment_count", "segmenter_version", "created_at"]
    list_filter = ["source"]
    search_fields = ["external_id"]
    readonly_fields = [f.name for f in OutfitPhoto._meta.fields]
    inlines = [GarmentInline]

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(source=OutfitPhoto.Source.CUSTOMER).annotate(n=Count("garments"))

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="garments", ordering="n")
    def garment_count(self, obj) -> int:
        return obj.n


# --- Shop by photo -------------------------------------------------------------------------------------


@admin.register(PhotoSearch)
class PhotoSearchAdmin(admin.ModelAdmin):
    """Customers' photo searches: counts, failures with their reasons, and timings.

    Read-only; only superusers see the photos. Deleting goes through the same service as the
    customer's own delete, so files go with the rows."""

    list_display = ["short_id", "owner", "channel", "status", "progress", "garment_count", "total_ms", "created_at"]
    list_filter = ["status", "channel", "error_code"]
    search_fields = ["id", "user__username", "error"]
    list_select_related = ["user", "photo"]
    date_hierarchy = "created_at"
    actions = ["retry"]
    fields = [
        "id",
        "user",
        "channel",
        "status",
        "progress",
        "error_code",
        "error",
        "step_timings",
        "attempts",
        "garments_found",
        "created_at",
        "finished_at",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_garments=Count("matches"))

    def get_fields(self, request, obj=None):
        return [*self.fields, "photo_preview"] if request.user.is_superuser else self.fields

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {**(extra_context or {}), "stats": photo_search_stats()})

    def delete_model(self, request, obj) -> None:
        photo_search_delete(search=obj)

    def delete_queryset(self, request, queryset) -> None:
        for search in queryset.select_related("photo"):
            photo_search_delete(search=search)

    @admin.display(description="id")
    def short_id(self, obj: PhotoSearch) -> str:
        return str(obj.pk)[:8]

    @admin.display(description="owner")
    def owner(self, obj: PhotoSearch) -> str:
        if obj.user_id:
            return str(obj.user)
        return "visitor" if obj.visitor_key else "staff"

    @admin.display(description="garments", ordering="n_garments")
    def garment_count(self, obj: PhotoSearch) -> int:
        return getattr(obj, "n_garments", 0)

    @admin.display(description="upload → results (ms)")
    def total_ms(self, obj: PhotoSearch):
        return obj.timings.get("total", "—")

    @admin.display(description="timings (ms)")
    def step_timings(self, obj: PhotoSearch) -> str:
        return ", ".join(f"{step} {ms}" for step, ms in obj.timings.items()) or "—"

    @admin.display(description="garments found")
    def garments_found(self, obj: PhotoSearch) -> str:
        rows = [
            f"{m.garment.slot} ({m.garment.get_origin_display()}, {m.garment.pixel_share:.0%}): "
            f"{len(m.similar)} look-alikes, {len(m.complements)} complements"
            for m in obj.matches.select_related("garment")
        ]
        return "; ".join(rows) or "—"

    @admin.display(description="photo")
    def photo_preview(self, obj: PhotoSearch):
        if not obj.photo_id:
            return "—"
        url = reverse("api-photo-search-photo", kwargs={"version": "v1", "pk": obj.pk})
        return format_html('<img src="{}" alt="photo" style="max-width:360px;max-height:480px">', url)

    @admin.action(description="Retry the failed searches")
    def retry(self, request, queryset):
        count = 0
        for search in queryset.filter(status=PhotoSearch.Status.FAILED):
            photo_search_retry(search=search)
            count += 1
        self.message_user(request, f"Queued {count} failed searches again.", messages.SUCCESS)
