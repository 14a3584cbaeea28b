import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from shop.models import Product
from tests.factories import CartFactory, CartItemFactory, ProductFactory, UserFactory
from tests.images import bomb_png, jpeg_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def curator_client(client):
    curator = UserFactory(username="curator", is_staff=True, is_superuser=True)
    client.force_login(curator)
    return client


def test_product_changelist_shows_thumbnails_filters_and_editable_price_and_the_stock_total(curator_client):
    ProductFactory(with_image=True, name="Linen shirt", sizes={"S": 2, "M": 3})
    response = curator_client.get(reverse("admin:shop_product_changelist"), {"q": "linen"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Linen shirt" in html and "<img" in html
    assert 'name="form-0-price"' in html
    # Stock is the total of the sizes, edited on the product's page: shown, not editable here.
    assert 'name="form-0-stock"' not in html and '<td class="field-stock">5</td>' in html


def test_curators_bulk_deactivate_and_activate(curator_client):
    products = ProductFactory.create_batch(3)
    url = reverse("admin:shop_product_changelist")
    ids = [str(p.pk) for p in products[:2]]
    curator_client.post(url, {"action": "deactivate", "_selected_action": ids})
    assert sorted(Product.objects.filter(is_active=False).values_list("pk", flat=True)) == sorted(int(i) for i in ids)
    curator_client.post(url, {"action": "activate", "_selected_action": ids})
    assert not Product.objects.filter(is_active=False).exists()


def _product_form(product, **overrides):
    data = {
        "name": product.name,
        "slug": product.slug,
        "sku": product.sku,
        "brand": product.brand,
        "category": product.category.pk,
        "description": "",
        "price": "49.00",
        "currency": "EUR",
        "is_active": "on",
        "colour": "",
        "dominant_colour": "",
        # the complete-the-look pins and blocks inline, left empty
        "complement_rules-TOTAL_FORMS": "0",
        "complement_rules-INITIAL_FORMS": "0",
        **_sizes_form(product),
    }
    data.update(overrides)
    return data


def _sizes_form(product, changes=None, new=()):
    """The sizes inline as posted: the product's sizes (``changes`` maps a size to new field values,
    e.g. ``{"M": {"stock": "0"}}`` or ``{"S": {"DELETE": "on"}}``), then ``new`` sizes as dicts."""
    changes = changes or {}
    data = {}
    variants = list(product.variants.all()) if product.pk else []
    for i, variant in enumerate(variants):
        data.update(
            {
                f"variants-{i}-id": str(variant.pk),
                f"variants-{i}-product": str(product.pk),
                f"variants-{i}-size": variant.size,
                f"variants-{i}-sku": variant.sku,
                f"variants-{i}-stock": str(variant.stock),
            }
        )
        data.update({f"variants-{i}-{k}": v for k, v in changes.get(variant.size, {}).items()})
    for j, fields in enumerate(new, start=len(variants)):
        data.update({f"variants-{j}-product": str(product.pk), **{f"variants-{j}-{k}": v for k, v in fields.items()}})
    data.update(
        {
            "variants-TOTAL_FORMS": str(len(variants) + len(new)),
            "variants-INITIAL_FORMS": str(len(variants)),
            "variants-MIN_NUM_FORMS": "0",
            "variants-MAX_NUM_FORMS": "1000",
        }
    )
    return data


def test_admin_refuses_a_decompression_bomb_with_a_form_error(curator_client):
    product = ProductFactory()
    url = reverse("admin:shop_product_change", args=[product.pk])
    upload = SimpleUploadedFile("huge.png", bomb_png(), content_type="image/png")
    response = curator_client.post(url, {**_product_form(product), "image": upload})
    assert response.status_code == 200
    assert "megapixels" in response.content.decode()
    product.refresh_from_db()
    assert not product.image


def test_admin_image_upload_marks_the_product_pending(curator_client, django_capture_on_commit_callbacks):
    product = ProductFactory()
    url = reverse("admin:shop_product_change", args=[product.pk])
    upload = SimpleUploadedFile("shirt.jpg", jpeg_bytes(), content_type="image/jpeg")
    with django_capture_on_commit_callbacks() as callbacks:
        response = curator_client.post(url, {**_product_form(product), "image": upload})
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.image and product.image_status == Product.ImageStatus.PENDING
    assert len(callbacks) >= 1  # the processing task is queued after commit


def test_order_admin_is_read_mostly(curator_client):
    cart = CartFactory()
    CartItemFactory(cart=cart)
    from shop.services.orders import order_place

    order = order_place(cart=cart, user=cart.user, shipping_name="A", shipping_address="B")
    assert curator_client.get(reverse("admin:shop_order_changelist")).status_code == 200
    page = curator_client.get(reverse("admin:shop_order_change", args=[order.pk])).content.decode()
    assert 'name="status"' in page and 'name="total"' not in page
    assert curator_client.get(reverse("admin:shop_order_add")).status_code == 403


@pytest.mark.parametrize("name", ["shop_category", "shop_user"])
def test_other_admin_pages_load(curator_client, name):
    assert curator_client.get(reverse(f"admin:{name}_changelist")).status_code == 200
    assert curator_client.get(reverse(f"admin:{name}_add")).status_code == 200


def test_curators_edit_sizes_inline_and_the_product_stock_is_their_total(curator_client):
    product = ProductFactory(sku="TEE", sizes={"S": 2, "M": 3})
    url = reverse("admin:shop_product_change", args=[product.pk])
    page = curator_client.get(url).content.decode()
    assert 'name="variants-0-size"' in page and 'name="variants-1-stock"' in page

    data = {
        **_product_form(product),
        **_sizes_form(product, {"S": {"DELETE": "on"}, "M": {"stock": "5"}}, new=[{"size": "xl", "stock": "4"}]),
    }
    response = curator_client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    product.refresh_from_db()
    sizes = list(product.variants.values_list("size", "sku", "stock"))
    assert sizes == [("M", "TEE-M", 5), ("XL", "TEE-XL", 4)]  # in size order; the label normalised, the SKU derived
    assert product.stock == 9


def test_a_new_product_gets_its_sizes_in_the_admin(curator_client):
    category = ProductFactory().category
    data = {
        **_product_form(ProductFactory.build(sku="CAP-9", slug="cap-9", category=category)),
        "variants-TOTAL_FORMS": "1",
        "variants-INITIAL_FORMS": "0",
        "variants-MIN_NUM_FORMS": "0",
        "variants-MAX_NUM_FORMS": "1000",
        "variants-0-size": "one size",
        "variants-0-sku": "",
        "variants-0-stock": "6",
    }
    response = curator_client.post(reverse("admin:shop_product_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    cap = Product.objects.get(sku="CAP-9")
    assert list(cap.variants.values_list("size", "sku", "stock")) == [("One size", "CAP-9", 6)] and cap.stock == 6


def test_the_admin_refuses_a_variant_sku_another_product_uses(curator_client):
    ProductFactory(sku="JEANS", name="Black jeans", sizes={"32": 1})
    product = ProductFactory(sku="TEE", sizes={"S": 2})
    url = reverse("admin:shop_product_change", args=[product.pk])
    response = curator_client.post(
        url, {**_product_form(product), **_sizes_form(product, new=[{"size": "M", "sku": "JEANS-32", "stock": "1"}])}
    )
    assert response.status_code == 200
    assert "already used by Black jeans (JEANS), size 32" in response.content.decode()
    assert list(product.variants.values_list("size", flat=True)) == ["S"]
    assert Product.objects.get(pk=product.pk).stock == 2
