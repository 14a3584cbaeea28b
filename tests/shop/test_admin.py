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


def test_product_changelist_shows_thumbnails_filters_and_editable_price_and_stock(curator_client):
    ProductFactory(with_image=True, name="Linen shirt")
    response = curator_client.get(reverse("admin:shop_product_changelist"), {"q": "linen"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Linen shirt" in html and "<img" in html
    assert 'name="form-0-price"' in html and 'name="form-0-stock"' in html


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
        "stock": "10",
        "is_active": "on",
        "colour": "",
        "dominant_colour": "",
        # the complete-the-look pins and blocks inline, left empty
        "complement_rules-TOTAL_FORMS": "0",
        "complement_rules-INITIAL_FORMS": "0",
    }
    data.update(overrides)
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
