"""Curators' admin: catalog, categories, orders (read-mostly) and users."""

from __future__ import annotations

import re
from typing import ClassVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.html import format_html, format_html_join

from core.colour.palette import NAMES as PALETTE_NAMES
from shop.errors import ApplicationError
from shop.forms import ProductAdminForm, ProductVariantAdminForm
from shop.models import Category, Order, OrderItem, Pattern, Product, ProductVariant, User
from shop.services.catalog import (
    product_image_changed,
    product_reset_colours,
    product_set_colours,
    products_set_active,
)
from shop.services.variants import product_stock_sync, variants_lock

_COLOUR_ENTRY = re.compile(r"^\s*(?P<name>[a-z][a-z ]*?)\s*(?P<share>\d+(?:\.\d+)?)?\s*%?\s*$")


def parse_colours(text: str) -> list[dict]:
    """'navy 70, sand 30' → [{"name": "navy", "share": 70}, {"name": "sand", "share": 30}]."""
    entries = []
    for part in [p for p in text.lower().split(",") if p.strip()]:
        match = _COLOUR_ENTRY.match(part)
        if not match or match["name"] not in PALETTE_NAMES:
            raise forms.ValidationError(
                f"“{part.strip()}” is not a palette colour with an optional share. Palette: {', '.join(PALETTE_NAMES)}."
            )
        entries.append({"name": match["name"], "share": float(match["share"] or 0)})
    return entries


def colours_text(product: Product) -> str:
    return ", ".join(f"{c['name']} {round(100 * float(c.get('share', 0)))}" for c in product.colours or [])


class ProductColoursAdminForm(ProductAdminForm):
    """The product form plus the garment's colours and pattern, which a curator may correct."""

    colours_text = forms.CharField(
        label="Colours",
        required=False,
        help_text="One to three palette names with shares in %, main first: “navy 70, sand 30”. A change here "
        "is kept: processing the photo again never overwrites it.",
    )
    pattern_choice = forms.ChoiceField(label="Pattern", required=False, choices=[("", "—")] + list(Pattern.choices))
    measure_again = forms.BooleanField(
        label="Measure the colours again from the photo", required=False, help_text="Forgets a curator's colours."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance and self.instance.pk:
            self.initial.setdefault("colours_text", colours_text(self.instance))
            self.initial.setdefault("pattern_choice", self.instance.pattern)

    def clean_colours_text(self) -> list[dict] | None:
        text = self.cleaned_data.get("colours_text", "")
        entries = parse_colours(text) if text.strip() else []
        if len(entries) > 3 or len({e["name"] for e in entries}) != len(entries):
            raise forms.ValidationError("At most three different colours.")
        return entries


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    pass


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "slot", "product_count"]
    list_filter = ["slot"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    @admin.display(description="products")
    def product_count(self, obj: Category) -> int:
        return obj.products.count()


class ProductVariantInline(admin.TabularInline):
    """The product's sizes, each with its own SKU and stock; the product's stock is their total."""

    model = ProductVariant
    form = ProductVariantAdminForm
    fields = ["size", "sku", "stock"]
    verbose_name = "size"
    verbose_name_plural = "sizes (the product's stock is their total)"

    def get_extra(self, request, obj=None, **kwargs) -> int:
        return 0 if obj is not None and obj.variants.exists() else 1


class ProductAdminExtension:
    """A part another app adds to the product admin, so that there is one product admin and the shop
    never imports that app (the recommender adds its indexing state, complete-the-look rules and preview).

    The app subclasses this in its ``admin.py`` and adds an instance with :meth:`ProductAdmin.extend`.
    ``list_display``, ``readonly_fields``, the fields of ``fieldsets`` and ``actions`` name methods of the
    extension (decorated with ``admin.display`` / ``admin.action`` as on a ``ModelAdmin``; an action
    takes ``(modeladmin, request, queryset)``); ``list_filter`` and ``list_select_related`` are lookups;
    ``inlines`` are inline classes. Each list comes after the shop's own."""

    inlines: ClassVar[list] = []
    fieldsets: ClassVar[list] = []
    readonly_fields: ClassVar[list[str]] = []
    list_display: ClassVar[list[str]] = []
    list_filter: ClassVar[list[str]] = []
    list_select_related: ClassVar[list[str]] = []
    actions: ClassVar[list[str]] = []

    def get_queryset(self, request, queryset):
        """The product list's and pages' queryset, annotated with what the extension shows."""
        return queryset

    def changelist_opened(self, request) -> None:
        """Called before the product list is shown (read once what every row's column needs)."""

    def bound(self, names) -> list:
        """Names of the extension's methods as those bound methods (the admin calls them with a product)."""
        return [getattr(self, name) if isinstance(name, str) and hasattr(self, name) else name for name in names]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    """The one product admin. Other apps add to it through :class:`ProductAdminExtension` (the one place
    where the recommender adds its part is ``recommender/admin.py``)."""

    #: The parts other apps added (:meth:`extend`), in the order they were added.
    extensions: ClassVar[list[ProductAdminExtension]] = []

    form = ProductColoursAdminForm
    inlines = [ProductVariantInline]
    # Fits a 1366 px screen with the recommender's "index" column: brand is in the filters and
    # the search instead of a column, and headers are one short word.
    list_display = [
        "thumb",
        "name",
        "sku",
        "category",
        "price",
        "stock",
        "is_active",
        "colour_swatch",
        "photo_status",
    ]
    list_display_links = ["thumb", "name"]
    list_editable = ["price"]  # stock is the total of the sizes, edited on the product's page
    list_filter = ["is_active", "category__slot", "category", "colour", "image_status", "brand"]
    list_select_related = ["category"]
    search_fields = ["name", "sku", "brand", "description"]
    readonly_fields = [
        "stock",
        "preview",
        "mask_overlay",
        "image_status",
        "image_error",
        "colours_measured",
        "colours_source",
        "colours_note",
        "created_at",
        "updated_at",
    ]
    prepopulated_fields = {"slug": ["name"]}
    actions = ["activate", "deactivate", "retry_image_processing"]
    list_per_page = 50
    fieldsets = [
        (None, {"fields": ["name", "slug", "sku", "brand", "category", "description"]}),
        ("Price and stock", {"fields": ["price", "currency", "stock", "is_active"]}),
        ("Image", {"fields": ["image", "preview", "image_status", "image_error"]}),
        (
            "Garment colours",
            {
                "fields": [
                    "mask_overlay",
                    "colours_measured",
                    "colours_source",
                    "colours_note",
                    "colours_text",
                    "pattern_choice",
                    "measure_again",
                ]
            },
        ),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]

    @classmethod
    def extend(cls, extension: ProductAdminExtension) -> ProductAdminExtension:
        """Add another app's part to the product admin (from that app's ``admin.py``)."""
        cls.extensions.append(extension)
        return extension

    def get_inlines(self, request, obj):
        return [*super().get_inlines(request, obj), *(i for e in self.extensions for i in e.inlines)]

    def get_readonly_fields(self, request, obj=None):
        extra = [f for e in self.extensions for f in e.bound(e.readonly_fields)]
        return [*super().get_readonly_fields(request, obj), *extra]

    def get_fieldsets(self, request, obj=None):
        extra = [
            (title, {**options, "fields": e.bound(options["fields"])})
            for e in self.extensions
            for title, options in e.fieldsets
        ]
        return [*super().get_fieldsets(request, obj), *extra]

    def get_list_display(self, request):
        extra = [f for e in self.extensions for f in e.bound(e.list_display)]
        return [*super().get_list_display(request), *extra]

    def get_list_filter(self, request):
        return [*super().get_list_filter(request), *(f for e in self.extensions for f in e.list_filter)]

    def get_list_select_related(self, request):
        extra = [f for e in self.extensions for f in e.list_select_related]
        return [*super().get_list_select_related(request), *extra]

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.actions is None or IS_POPUP_VAR in request.GET:
            return actions
        for extension in self.extensions:
            for action in extension.bound(extension.actions):
                func, name, description = self.get_action(action)
                actions[name] = (func, name, description)
        return actions

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        for extension in self.extensions:
            queryset = extension.get_queryset(request, queryset)
        return queryset

    def changelist_view(self, request, extra_context=None):
        for extension in self.extensions:
            extension.changelist_opened(request)
        return super().changelist_view(request, extra_context)

    def get_changelist_form(self, request, **kwargs):
        # A narrow input for the editable price, so every column fits a laptop screen.
        narrow = {"style": "width: 6em"}
        kwargs["widgets"] = {"price": forms.NumberInput(attrs=narrow)}
        return super().get_changelist_form(request, **kwargs)

    @admin.display(description="")
    def thumb(self, obj: Product):
        image = obj.display_image
        if not image:
            return "—"
        return format_html('<img src="{}" alt="" style="height:56px;width:42px;object-fit:cover">', image.url)

    @admin.display(description="preview")
    def preview(self, obj: Product):
        image = obj.display_image
        if not image:
            return "No image yet."
        return format_html('<img src="{}" alt="" style="max-height:320px">', image.url)

    @admin.display(description="garment mask")
    def mask_overlay(self, obj: Product):
        """The photo with everything outside the garment mask darkened: what the colours were read from."""
        if not obj.image:
            return "No image yet."
        if not obj.garment_mask:
            return "No mask yet (the photo is being processed, or failed: see the image status)."
        return format_html(
            '<div style="position:relative;display:inline-block;line-height:0">'
            '<img src="{}" alt="photo" style="max-height:320px">'
            '<img src="{}" alt="garment mask" style="position:absolute;inset:0;width:100%;height:100%;'
            'mix-blend-mode:multiply;opacity:.8"></div>'
            '<p style="margin:.4em 0 0">Bright: the garment pixels the colours come from. Dark: background.</p>',
            obj.image.url,
            obj.garment_mask.url,
        )

    @admin.display(description="colours")
    def colours_measured(self, obj: Product):
        if not obj.colours:
            return "Unknown colour" if obj.colours_source == Product.ColoursSource.UNKNOWN else "—"
        return format_html_join(
            " ",
            '<span style="white-space:nowrap"><span style="display:inline-block;width:12px;height:12px;'
            'background:{};border:1px solid #999"></span> {} {}%</span>',
            ((c.get("hex", "#ccc"), c["name"], round(100 * float(c.get("share", 0)))) for c in obj.colours),
        )

    @admin.display(description="colour", ordering="colour")
    def colour_swatch(self, obj: Product):
        if not obj.colours:
            return "unknown" if obj.colours_source == Product.ColoursSource.UNKNOWN else "—"
        main = obj.colours[0]
        return format_html(
            '<span style="display:inline-block;width:12px;height:12px;background:{};border:1px solid #999"></span> {}',
            main.get("hex", "#ccc"),
            main["name"],
        )

    @admin.display(description="photo", ordering="image_status")
    def photo_status(self, obj: Product):
        return obj.get_image_status_display()

    def save_model(self, request, obj: Product, form, change: bool) -> None:
        if change:
            # Sizes before the product row: the lock order the checkout uses, so neither waits on the other.
            variants_lock(product_id=obj.pk)
        super().save_model(request, obj, form, change)
        if "image" in form.changed_data:
            product_image_changed(product=obj)
        try:
            if form.cleaned_data.get("measure_again"):
                product_reset_colours(product=obj)
            elif {"colours_text", "pattern_choice"} & set(form.changed_data) and form.cleaned_data.get("colours_text"):
                product_set_colours(
                    product=obj,
                    colours=form.cleaned_data["colours_text"],
                    pattern=form.cleaned_data.get("pattern_choice", ""),
                )
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)

    def save_related(self, request, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # Sizes were added, removed or restocked: the product's stock becomes their total again.
        form.instance.stock = product_stock_sync(product_id=form.instance.pk)

    @admin.action(description="Put selected products on sale")
    def activate(self, request, queryset):
        count = products_set_active(product_ids=queryset.values_list("pk", flat=True), active=True)
        self.message_user(request, f"{count} products are on sale.", messages.SUCCESS)

    @admin.action(description="Take selected products off sale")
    def deactivate(self, request, queryset):
        count = products_set_active(product_ids=queryset.values_list("pk", flat=True), active=False)
        self.message_user(request, f"{count} products are off sale.", messages.SUCCESS)

    @admin.action(description="Re-process images (thumbnail and colour)")
    def retry_image_processing(self, request, queryset):
        count = 0
        for product in queryset.exclude(image=""):
            product_image_changed(product=product)
            count += 1
        self.message_user(request, f"Queued {count} images.", messages.SUCCESS)


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    can_delete = False
    readonly_fields = ("product", "product_name", "sku", "size", "variant_sku", "unit_price", "quantity")
    fields = readonly_fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """Orders are facts: only the status moves (paid, shipped, cancelled)."""

    list_display = ["number", "user", "status", "total", "currency", "created_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["number", "user__username", "user__email", "shipping_name"]
    date_hierarchy = "created_at"
    inlines = [OrderItemInline]
    readonly_fields = [
        "number",
        "user",
        "total",
        "currency",
        "shipping_name",
        "shipping_address",
        "payment_provider",
        "payment_reference",
        "created_at",
    ]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
