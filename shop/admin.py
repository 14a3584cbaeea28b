"""Curators' admin: catalog, categories, orders (read-mostly) and users."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.html import format_html

from shop.forms import ProductAdminForm
from shop.models import Category, Order, OrderItem, Product, User
from shop.services.catalog import product_image_changed, products_set_active


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


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductAdminForm
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
    list_editable = ["price", "stock"]
    list_filter = ["is_active", "category__slot", "category", "colour", "image_status", "brand"]
    list_select_related = ["category"]
    search_fields = ["name", "sku", "brand", "description"]
    readonly_fields = ["preview", "image_status", "image_error", "dominant_colour", "created_at", "updated_at"]
    prepopulated_fields = {"slug": ["name"]}
    actions = ["activate", "deactivate", "retry_image_processing"]
    list_per_page = 50
    fieldsets = [
        (None, {"fields": ["name", "slug", "sku", "brand", "category", "description"]}),
        ("Price and stock", {"fields": ["price", "currency", "stock", "is_active"]}),
        ("Image", {"fields": ["image", "preview", "image_status", "image_error", "dominant_colour", "colour"]}),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]

    def get_changelist_form(self, request, **kwargs):
        # Narrow inputs for the editable price and stock, so every column fits a laptop screen.
        narrow = {"style": "width: 6em"}
        kwargs["widgets"] = {"price": forms.NumberInput(attrs=narrow), "stock": forms.NumberInput(attrs=narrow)}
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

    @admin.display(description="colour", ordering="colour")
    def colour_swatch(self, obj: Product):
        if not obj.dominant_colour:
            return "—"
        return format_html(
            '<span style="display:inline-block;width:12px;height:12px;background:{};border:1px solid #999"></span> {}',
            obj.dominant_colour,
            obj.get_colour_display(),
        )

    @admin.display(description="photo", ordering="image_status")
    def photo_status(self, obj: Product):
        return obj.get_image_status_display()

    def save_model(self, request, obj: Product, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if "image" in form.changed_data:
            product_image_changed(product=obj)

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
    readonly_fields = ["product", "product_name", "sku", "unit_price", "quantity"]

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
