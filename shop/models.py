"""The store: users, catalog, carts and orders."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse

from shop.sizes import ONE_SIZE


class User(AbstractUser):
    """The shop's user; custom from the first migration so fields can be added later."""

    class Meta(AbstractUser.Meta):  # type: ignore[name-defined]  # django-stubs leave out AbstractUser.Meta
        swappable = "AUTH_USER_MODEL"
        ordering = ["id"]


class Category(models.Model):
    class Slot(models.TextChoices):
        TOP = "top", "Top"
        BOTTOM = "bottom", "Bottom"
        OUTERWEAR = "outerwear", "Outerwear"
        DRESS = "dress", "Dress"
        SHOES = "shoes", "Shoes"
        ACCESSORY = "accessory", "Accessory"

    name = models.CharField("name", max_length=100, unique=True)
    slug = models.SlugField("slug", max_length=100, unique=True)
    slot = models.CharField(
        "slot",
        max_length=20,
        choices=Slot.choices,
        help_text="Where the garment is worn; drives 'complete the look' and 'similar items'.",
    )

    class Meta:
        ordering = ["slot", "name"]
        verbose_name = "category"
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("shop:product-list") + f"?category={self.slug}"


class Colour(models.TextChoices):
    """Named colours that shoppers filter by; measured from the product photo."""

    BLACK = "black", "Black"
    WHITE = "white", "White"
    GREY = "grey", "Grey"
    BEIGE = "beige", "Beige"
    BROWN = "brown", "Brown"
    RED = "red", "Red"
    PINK = "pink", "Pink"
    ORANGE = "orange", "Orange"
    YELLOW = "yellow", "Yellow"
    GREEN = "green", "Green"
    BLUE = "blue", "Blue"
    NAVY = "navy", "Navy"
    PURPLE = "purple", "Purple"


class Pattern(models.TextChoices):
    """What the garment's surface looks like, measured from its mask pixels."""

    PLAIN = "plain", "Plain"
    STRIPED = "striped", "Striped"
    CHECKED = "checked", "Checked"
    PRINTED = "printed", "Printed"


class Product(models.Model):
    class ImageStatus(models.TextChoices):
        NONE = "none", "No image"
        PENDING = "pending", "Processing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    class ColoursSource(models.TextChoices):
        NONE = "", "Not measured yet"
        MEASURED = "measured", "Measured from the garment mask"
        UNKNOWN = "unknown", "Unknown: no garment found in the photo"
        CURATOR = "curator", "Set by a curator (never overwritten)"

    sku = models.CharField("SKU", max_length=64, unique=True)
    name = models.CharField("name", max_length=200)
    slug = models.SlugField("slug", max_length=220, unique=True)
    brand = models.CharField("brand", max_length=100, blank=True, db_index=True)
    description = models.TextField("description", blank=True)
    price = models.DecimalField(
        "price", max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    currency = models.CharField("currency", max_length=3, default="EUR")
    category = models.ForeignKey(Category, verbose_name="category", on_delete=models.PROTECT, related_name="products")
    image = models.ImageField("main image", upload_to="products/", blank=True)
    thumbnail = models.ImageField("thumbnail", upload_to="products/thumbs/", blank=True, editable=False)
    image_status = models.CharField(
        "image status", max_length=10, choices=ImageStatus.choices, default=ImageStatus.NONE, editable=False
    )
    image_error = models.CharField("image error", max_length=300, blank=True, editable=False)
    image_sha256 = models.CharField(
        "image hash",
        max_length=64,
        blank=True,
        editable=False,
        help_text="sha256 of the stored image; a re-import with the same bytes leaves it alone.",
    )
    dominant_colour = models.CharField(
        "dominant colour", max_length=7, blank=True, help_text="Measured from the photo, as #rrggbb."
    )
    colour = models.CharField(
        "colour",
        max_length=10,
        choices=Colour.choices,
        blank=True,
        db_index=True,
        help_text="Colour family of the garment's main colour; shoppers filter by it.",
    )
    colours = models.JSONField(
        "colours",
        default=list,
        blank=True,
        help_text='One to three named colours with shares, main first: [{"name": "navy", "share": 0.7, ...}].',
    )
    pattern = models.CharField("pattern", max_length=10, choices=Pattern.choices, blank=True)
    colours_source = models.CharField(
        "colours from", max_length=10, choices=ColoursSource.choices, blank=True, default=ColoursSource.NONE
    )
    colours_note = models.CharField(
        "colour note", max_length=200, blank=True, help_text="Why the colour is unknown, when it is."
    )
    garment_mask = models.ImageField(
        "garment mask",
        upload_to="products/masks/",
        blank=True,
        editable=False,
        help_text="Foreground mask of the main photo (PNG, named from the photo's hash).",
    )
    stock = models.PositiveIntegerField("stock", default=0)
    is_active = models.BooleanField("on sale", default=True, db_index=True)
    created_at = models.DateTimeField("created", auto_now_add=True)
    updated_at = models.DateTimeField("updated", auto_now=True)

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [
            models.Index(fields=["category", "is_active", "price"]),
            models.Index(fields=["is_active", "category", "created_at"], name="product_new_in_idx"),
            models.Index(fields=["is_active", "created_at"]),
        ]
        constraints = [models.CheckConstraint(condition=models.Q(price__gt=0), name="product_price_positive")]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"

    def get_absolute_url(self) -> str:
        return reverse("shop:product-detail", kwargs={"slug": self.slug})

    @property
    def in_stock(self) -> bool:
        return self.stock > 0

    @property
    def colour_names(self) -> list[str]:
        return [str(entry.get("name", "")) for entry in self.colours or [] if entry.get("name")]

    @property
    def display_image(self):
        """The thumbnail once it exists, else the original photo (or None)."""
        return self.thumbnail or self.image or None


class ProductVariant(models.Model):
    """One size of a product, with its own SKU and stock.

    ``Product.stock`` is the total of its variants' stock, kept by the shop's services in the
    same transaction as every variant stock change (``shop.services.variants``)."""

    ONE_SIZE = ONE_SIZE

    product = models.ForeignKey(Product, verbose_name="product", on_delete=models.CASCADE, related_name="variants")
    size = models.CharField(
        "size",
        max_length=20,
        help_text="Letters for clothes (XS, S, M, L, XL, XXL), EU numbers for shoes (36–46), "
        "or “One size” for hats and accessories.",
    )
    size_rank = models.PositiveIntegerField(
        "size order", default=0, editable=False, help_text="Natural order of the size (S before M before L)."
    )
    sku = models.CharField("variant SKU", max_length=64, unique=True)
    stock = models.PositiveIntegerField("stock", default=0)

    class Meta:
        ordering = ["product_id", "size_rank", "size", "id"]
        verbose_name = "size"
        verbose_name_plural = "sizes"
        constraints = [models.UniqueConstraint(fields=["product", "size"], name="variant_unique_size")]

    def __str__(self) -> str:
        return f"{self.product.name}, {self.size} ({self.sku})"

    @property
    def in_stock(self) -> bool:
        return self.stock > 0


class Cart(models.Model):
    """A shopping cart: one per signed-in user, or one per anonymous session."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="user",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="cart",
    )
    session_key = models.CharField("session key", max_length=40, blank=True, db_index=True)
    created_at = models.DateTimeField("created", auto_now_add=True)
    updated_at = models.DateTimeField("updated", auto_now=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return f"Cart {self.pk} ({self.user or 'anonymous'})"


class CartItem(models.Model):
    """A line of a cart: one size of one product. The same product in two sizes is two lines."""

    cart = models.ForeignKey(Cart, verbose_name="cart", on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, verbose_name="product", on_delete=models.CASCADE)
    variant = models.ForeignKey(
        ProductVariant,
        verbose_name="size",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when a curator removed the size after it was put in the cart.",
    )
    size = models.CharField("size label", max_length=20, blank=True, help_text="The size's label when it was added.")
    quantity = models.PositiveIntegerField("quantity", default=1, validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["cart", "variant"], name="cart_item_unique_variant")]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product} ({self.size})"

    @property
    def size_gone(self) -> bool:
        """The size was removed from the catalog since it was put in the cart."""
        return self.variant_id is None

    @property
    def line_total(self) -> Decimal:
        return self.product.price * self.quantity


class Order(models.Model):
    class Status(models.TextChoices):
        PLACED = "placed", "Placed"
        PAID = "paid", "Paid"
        SHIPPED = "shipped", "Shipped"
        CANCELLED = "cancelled", "Cancelled"

    number = models.CharField("order number", max_length=20, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="customer", on_delete=models.PROTECT, related_name="orders"
    )
    status = models.CharField("status", max_length=10, choices=Status.choices, default=Status.PLACED)
    total = models.DecimalField("total", max_digits=12, decimal_places=2)
    currency = models.CharField("currency", max_length=3)
    shipping_name = models.CharField("ship to", max_length=200)
    shipping_address = models.TextField("shipping address")
    payment_provider = models.CharField("payment provider", max_length=50)
    payment_reference = models.CharField("payment reference", max_length=100, blank=True)
    created_at = models.DateTimeField("placed at", auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Order {self.number}"

    def get_absolute_url(self) -> str:
        return reverse("shop:order-detail", kwargs={"number": self.number})


class OrderItem(models.Model):
    """A line of an order, with the name, price, size label and variant SKU frozen at checkout."""

    order = models.ForeignKey(Order, verbose_name="order", on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, verbose_name="product", on_delete=models.PROTECT, related_name="+")
    product_name = models.CharField("product name", max_length=200)
    sku = models.CharField("SKU", max_length=64)
    variant = models.ForeignKey(
        ProductVariant, verbose_name="size", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    size = models.CharField("size", max_length=20, blank=True)
    variant_sku = models.CharField("variant SKU", max_length=64, blank=True)
    unit_price = models.DecimalField("unit price", max_digits=10, decimal_places=2)
    quantity = models.PositiveIntegerField("quantity", validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_name}"

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity
