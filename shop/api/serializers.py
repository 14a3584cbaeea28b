from __future__ import annotations

from django.db.models import Manager, prefetch_related_objects
from rest_framework import serializers

from shop.models import CartItem, Category, Order, OrderItem, Product, ProductVariant
from shop.services.carts import MAX_QUANTITY
from shop.validators import IMAGE_HELP_TEXT, image_upload_clean


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug", "slot"]


class SizeSerializer(serializers.ModelSerializer):
    """One size of a product. Its ``id`` is what the cart API takes as ``variant``."""

    in_stock = serializers.BooleanField(read_only=True)

    class Meta:
        model = ProductVariant
        fields = ["id", "size", "sku", "stock", "in_stock"]


class ProductListSerializer(serializers.ListSerializer):
    """Lists of products (the catalog, similar items, complements) read every product's sizes in one query."""

    def to_representation(self, data):
        products = list(data.all() if isinstance(data, Manager) else data)
        prefetch_related_objects(products, "variants")
        return super().to_representation(products)


class ProductSerializer(serializers.ModelSerializer):
    category = CategorySerializer()
    sizes = SizeSerializer(
        source="variants",
        many=True,
        read_only=True,
        help_text="The product's sizes in their natural order (XS before S, 36 before 37), each with its stock; "
        "`stock` is their total.",
    )
    image = serializers.SerializerMethodField()
    thumbnail = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    in_stock = serializers.BooleanField()

    class Meta:
        model = Product
        list_serializer_class = ProductListSerializer
        fields = [
            "id",
            "sku",
            "name",
            "slug",
            "brand",
            "description",
            "price",
            "currency",
            "category",
            "colour",
            "dominant_colour",
            "stock",
            "in_stock",
            "sizes",
            "image",
            "thumbnail",
            "url",
        ]

    def _absolute(self, file_field) -> str | None:
        if not file_field:
            return None
        request = self.context.get("request")
        url = file_field.url
        return request.build_absolute_uri(url) if request else url

    def get_image(self, obj: Product) -> str | None:
        return self._absolute(obj.image)

    def get_thumbnail(self, obj: Product) -> str | None:
        return self._absolute(obj.thumbnail)

    def get_url(self, obj: Product) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(obj.get_absolute_url()) if request else obj.get_absolute_url()


class ProductImageUploadSerializer(serializers.Serializer):
    # A plain FileField: our validator decodes the image itself and says *why* it is refused
    # (DRF's ImageField would answer "not an image" for a decompression bomb too).
    image = serializers.FileField(help_text=IMAGE_HELP_TEXT)

    def validate_image(self, value):
        return image_upload_clean(value).content


class CartItemSerializer(serializers.ModelSerializer):
    product = ProductSerializer()
    variant = serializers.IntegerField(
        source="variant_id",
        allow_null=True,
        help_text="The size's id (one of `product.sizes`); null when the size was removed from the catalog "
        "since it was put in the cart (checkout then refuses until the line is removed).",
    )
    size = serializers.CharField(help_text="The size's label, e.g. `M`, `42` or `One size`.")
    line_total = serializers.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        model = CartItem
        fields = ["product", "variant", "size", "quantity", "line_total"]


class CartSerializer(serializers.Serializer):
    items = CartItemSerializer(many=True)
    count = serializers.IntegerField()
    total = serializers.DecimalField(max_digits=12, decimal_places=2)


class CartAddSerializer(serializers.Serializer):
    product = serializers.IntegerField(min_value=1)
    variant = serializers.IntegerField(
        min_value=1,
        max_value=2**63 - 1,
        required=False,
        allow_null=True,
        help_text="The size: the `id` of one of the product's `sizes`. Required when the product has more than "
        "one size (400 `size_required`); a size that is not the product's is a 400 `unknown_size`; a sold-out "
        "size is a 409 `out_of_stock`.",
    )
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY, default=1)


class CartQuantitySerializer(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=0, max_value=MAX_QUANTITY)


class OrderItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderItem
        fields = ["product", "product_name", "sku", "variant", "size", "variant_sku", "unit_price", "quantity"]


class OrderSerializer(serializers.ModelSerializer):
    items = OrderItemSerializer(many=True)

    class Meta:
        model = Order
        fields = [
            "number",
            "status",
            "total",
            "currency",
            "shipping_name",
            "shipping_address",
            "payment_provider",
            "created_at",
            "items",
        ]


class CheckoutSerializer(serializers.Serializer):
    shipping_name = serializers.CharField(max_length=200)
    shipping_address = serializers.CharField(max_length=2000)


class SignUpSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.DictField()


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()
