from __future__ import annotations

from django import forms
from django.contrib.auth.forms import UserCreationForm

from shop.models import Product, User
from shop.services.accounts import EMAIL_IN_USE, email_in_use
from shop.services.carts import MAX_QUANTITY
from shop.validators import IMAGE_HELP_TEXT, image_upload_clean


class SignUpForm(UserCreationForm):
    email = forms.EmailField(required=True)

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def clean_email(self):
        email = self.cleaned_data["email"]
        if email_in_use(email):
            raise forms.ValidationError(EMAIL_IN_USE, code="email_in_use")
        return email


class AddToCartForm(forms.Form):
    quantity = forms.IntegerField(min_value=1, max_value=MAX_QUANTITY, initial=1)


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


class CartLineForm(forms.Form):
    quantity = forms.IntegerField(min_value=0, max_value=MAX_QUANTITY)


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
            "stock",
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
