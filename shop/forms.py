from __future__ import annotations

from django import forms
from django.contrib.auth.forms import UserCreationForm

from shop.errors import ApplicationError
from shop.models import Product, ProductVariant, User
from shop.services.accounts import EMAIL_IN_USE, email_in_use
from shop.services.carts import MAX_QUANTITY
from shop.services.variants import size_clean, variant_sku_check
from shop.sizes import variant_sku_for
from shop.validators import IMAGE_HELP_TEXT, image_upload_clean


class SignUpForm(UserCreationForm):
    email = forms.EmailField(required=True)

    class Meta(UserCreationForm.Meta):  # type: ignore[name-defined]  # django-stubs leave out the form's Meta
        model = User
        fields = ("username", "email")

    def clean_email(self):
        email = self.cleaned_data["email"]
        if email_in_use(email):
            raise forms.ValidationError(EMAIL_IN_USE, code="email_in_use")
        return email


class SizeSelect(forms.Select):
    """A size picker whose sold-out sizes are shown but cannot be chosen."""

    def __init__(self, *args, sold_out: set[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.sold_out = sold_out or set()

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex=subindex, attrs=attrs)
        if str(value) in self.sold_out:
            option["attrs"]["disabled"] = True
            option["label"] = f"{label} (sold out)"
        return option


def size_field(product: Product, *, label: str = "Size", required: bool = True) -> forms.TypedChoiceField:
    """A choice of ``product``'s sizes in their natural order (variants prefetched or not)."""
    variants = list(product.variants.all())
    return forms.TypedChoiceField(
        label=label,
        coerce=int,
        required=required,
        choices=[("", "Choose a size"), *((v.pk, v.size) for v in variants)],
        widget=SizeSelect(sold_out={str(v.pk) for v in variants if v.stock < 1}),
        error_messages={
            "invalid_choice": "That size does not exist for this product.",
            "required": "Choose a size.",
        },
    )


class AddToCartForm(forms.Form):
    """Quantity, and the size when the product comes in more than one (a single size needs no choice)."""

    quantity = forms.IntegerField(min_value=1, max_value=MAX_QUANTITY, initial=1)

    def __init__(self, *args, product: Product | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.product = product
        if product is not None and len(product.variants.all()) > 1:
            self.fields["size"] = size_field(product)

    def clean_size(self) -> int:
        variant_id = self.cleaned_data["size"]
        variants = self.product.variants.all() if self.product is not None else []
        variant = next(v for v in variants if v.pk == variant_id)
        if variant.stock < 1:
            raise forms.ValidationError(f"Size {variant.size} is sold out.", code="sold_out")
        return variant_id


class ProductIdsField(forms.Field):
    """One or more product ids (repeated ``name=value`` pairs)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        values = value if isinstance(value, list | tuple) else ([value] if value else [])
        try:
            ids = [int(v) for v in values]
        except (TypeError, ValueError):
            raise forms.ValidationError("Not a product.") from None
        if any(pk < 1 for pk in ids):
            raise forms.ValidationError("Not a product.")
        return ids


class AddLookForm(forms.Form):
    #: The pieces that go with the product: one ("Add the look") or the whole look.
    with_product = ProductIdsField()

    def sizes(self) -> dict[int, int]:
        """The size chosen per piece, posted as ``size-<product id>=<variant id>`` (empty: not chosen).

        A value that is not a number is an unknown size: it is passed on as ``0``, which no size has."""
        chosen = {}
        for key, value in self.data.items():
            if not key.startswith("size-") or not value:
                continue
            try:
                product_id = int(key.removeprefix("size-"))
            except ValueError:
                continue
            try:
                chosen[product_id] = int(value)
            except (TypeError, ValueError):
                chosen[product_id] = 0
        return chosen


class CartLineForm(forms.Form):
    quantity = forms.IntegerField(min_value=0, max_value=MAX_QUANTITY)
    #: Which size's line, when the product is in the cart in several sizes (0: the line whose size is gone).
    variant = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)


class CheckoutForm(forms.Form):
    shipping_name = forms.CharField(label="Full name", max_length=200)
    shipping_address = forms.CharField(label="Shipping address", widget=forms.Textarea(attrs={"rows": 3}))


class ProductAdminForm(forms.ModelForm):
    """Admin form: the image is checked (format, size, pixels, damage) before anything is saved."""

    # A plain file field so our validator, not Django's generic check, explains a refusal.
    image = forms.FileField(required=False, help_text=IMAGE_HELP_TEXT)

    class Meta:
        model = Product
        fields = [
            "name",
            "slug",
            "sku",
            "brand",
            "category",
            "description",
            "price",
            "currency",
            "is_active",
            "image",
            "colour",
            "dominant_colour",
        ]

    def clean_image(self):
        image = self.cleaned_data.get("image")
        if image and hasattr(image, "content_type"):  # a fresh upload, not the already stored file
            return image_upload_clean(image).content  # stored as <sha256>.<format>, never the client's name
        return image


class ProductVariantAdminForm(forms.ModelForm):
    """A size in the product admin: the label is normalised (``m`` → ``M``) and ranked for sorting;
    an empty variant SKU becomes ``{product SKU}-{size}``; a SKU another product uses is refused."""

    sku = forms.CharField(
        label="variant SKU", max_length=64, required=False, help_text="Empty: the product SKU and the size."
    )

    class Meta:
        model = ProductVariant
        fields = ["size", "sku", "stock"]

    def clean_size(self) -> str:
        try:
            size, rank = size_clean(self.cleaned_data["size"])
        except ApplicationError as exc:
            raise forms.ValidationError(exc.message) from None
        self.instance.size_rank = rank
        return size

    def clean(self):
        cleaned = super().clean()
        size, sku = cleaned.get("size"), (cleaned.get("sku") or "").strip()
        if size and not sku:
            # The product's SKU as posted in the same change form (it may be new, or just changed).
            product_sku = (self.data.get("sku") or "").strip() or (
                self.instance.product.sku if self.instance.product_id else ""
            )
            sku = variant_sku_for(product_sku, size) if product_sku else ""
        if sku:
            try:
                variant_sku_check(
                    sku=sku, product_id=self.instance.product_id, exclude_pk=self.instance.pk, other_products_only=True
                )
            except ApplicationError as exc:
                self.add_error("sku", exc.message[0].upper() + exc.message[1:] + ".")
        cleaned["sku"] = sku
        return cleaned
