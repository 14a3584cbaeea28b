"""One upload rule for admin, API and CSV import: stored names come from the decoded format."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from PIL import Image

from shop.models import Category, Product
from shop.validators import image_upload_clean
from tests.factories import ProductFactory, UserFactory
from tests.images import jpeg_bytes, png_bytes
from tests.shop.test_admin import _product_form

pytestmark = pytest.mark.django_db

IMAGE_SUFFIXES = {".jpg", ".png", ".webp"}


def gif_bytes(frames: int = 1) -> bytes:
    images = [Image.new("P", (20, 20), n) for n in range(frames)]
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=frames > 1, append_images=images[1:])
    return buffer.getvalue()


def gif_with_script() -> bytes:
    """A valid GIF whose comment carries HTML: a classic polyglot."""
    return gif_bytes() + b"<html><script>alert(document.cookie)</script></html>"


def animated_png() -> bytes:
    frames = [Image.new("RGB", (20, 20), (n * 80, 0, 0)) for n in range(3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="PNG", save_all=True, append_images=frames[1:])
    return buffer.getvalue()


def webp_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), (0, 90, 0)).save(buffer, format="WEBP")
    return buffer.getvalue()


def stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [Path(d) / f for d, _, files in os.walk(root) for f in files] if root.exists() else []


@pytest.mark.parametrize(
    "data, fmt, suffix", [(jpeg_bytes(), "JPEG", "jpg"), (png_bytes(), "PNG", "png"), (webp_bytes(), "WEBP", "webp")]
)
def test_the_stored_name_is_the_content_hash_and_the_decoded_format(data, fmt, suffix):
    clean = image_upload_clean(SimpleUploadedFile("x.html", data, content_type="text/html"))
    assert clean.format == fmt
    assert clean.name == f"{clean.sha256}.{suffix}" and len(clean.sha256) == 64


@pytest.mark.parametrize(
    "data",
    [gif_bytes(), gif_with_script(), gif_bytes(frames=3), animated_png(), b"<html><script>x</script></html>"],
    ids=["gif", "gif-with-script", "animated-gif", "animated-png", "html"],
)
def test_gifs_animations_and_html_are_refused(data):
    with pytest.raises(ValidationError):
        image_upload_clean(data)


@pytest.fixture
def curator_client(client):
    client.force_login(UserFactory(username="curator", is_staff=True, is_superuser=True))
    return client


def test_the_admin_stores_an_image_named_x_html_as_a_jpg(curator_client):
    product = ProductFactory()
    upload = SimpleUploadedFile("x.html", jpeg_bytes(), content_type="text/html")
    url = reverse("admin:shop_product_change", args=[product.pk])
    assert curator_client.post(url, {**_product_form(product), "image": upload}).status_code == 302
    product.refresh_from_db()
    stored = Path(product.image.name)
    assert stored.suffix == ".jpg" and stored.stem.startswith(product.image_sha256)


def test_the_admin_refuses_a_gif_carrying_a_script(curator_client):
    product = ProductFactory()
    upload = SimpleUploadedFile("x.gif", gif_with_script(), content_type="image/gif")
    url = reverse("admin:shop_product_change", args=[product.pk])
    response = curator_client.post(url, {**_product_form(product), "image": upload})
    assert response.status_code == 200 and "GIF images are not accepted" in response.content.decode()
    product.refresh_from_db()
    assert not product.image


def test_the_api_stores_an_image_named_x_html_as_a_png_and_refuses_a_gif(api_client):
    api_client.force_authenticate(UserFactory(username="curator", is_staff=True))
    product = ProductFactory()
    url = f"/api/v1/products/{product.pk}/image/"
    upload = SimpleUploadedFile("x.html", png_bytes(), content_type="text/html")
    assert api_client.post(url, {"image": upload}, format="multipart").status_code == 202
    product.refresh_from_db()
    assert Path(product.image.name).suffix == ".png" and "x.html" not in product.image.name
    gif = SimpleUploadedFile("y.gif", gif_with_script(), content_type="image/gif")
    assert api_client.post(url, {"image": gif}, format="multipart").status_code == 400


def test_the_csv_import_names_files_by_format_and_refuses_gifs(tmp_path):
    Category.objects.create(name="Shirts", slug="shirts", slot="top")
    (tmp_path / "x.html").write_bytes(jpeg_bytes())
    (tmp_path / "y.gif").write_bytes(gif_with_script())
    csv_path = tmp_path / "catalog.csv"
    csv_path.write_text(
        "sku,name,brand,price,category,image,description\n"
        "S-1,Shirt,Marlowe,10,shirts,x.html,\n"
        "S-2,Gif,Marlowe,10,shirts,y.gif,\n"
    )
    err = io.StringIO()
    call_command(
        "import_catalog", str(csv_path), no_progress=True, process_images_now=True, stdout=io.StringIO(), stderr=err
    )
    assert "row 3: image y.gif: GIF images are not accepted" in err.getvalue()
    product = Product.objects.get(sku="S-1")
    assert Path(product.image.name).suffix == ".jpg" and Path(product.thumbnail.name).suffix == ".jpg"
    assert not Product.objects.filter(sku="S-2").exists()


def test_no_attack_leaves_a_file_with_a_non_image_suffix(curator_client, api_client, tmp_path):
    before = set(stored_files())
    test_the_admin_stores_an_image_named_x_html_as_a_jpg(curator_client)
    test_the_admin_refuses_a_gif_carrying_a_script(curator_client)
    test_the_api_stores_an_image_named_x_html_as_a_png_and_refuses_a_gif(api_client)
    test_the_csv_import_names_files_by_format_and_refuses_gifs(tmp_path)
    new = set(stored_files()) - before
    assert new and {f.suffix for f in new} <= IMAGE_SUFFIXES


def test_the_size_refusal_states_the_configured_limit_in_the_readmes_unit():
    limit = settings.MAX_UPLOAD_BYTES
    assert limit == 15 * 1024 * 1024  # the default (README's configuration table)
    with pytest.raises(ValidationError) as refused:
        image_upload_clean(b"\0" * (limit + 1))
    assert refused.value.code == "file_too_large"
    assert refused.value.messages == ["The file is 15.1 MiB; the limit is 15 MiB."]
    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    [row] = [line for line in readme.splitlines() if line.startswith("| `MAX_UPLOAD_BYTES`")]
    assert "| 15 MiB (15,728,640 bytes)," in row


def test_the_size_refusal_and_the_help_text_follow_the_setting(settings, client):
    from shop.validators import IMAGE_HELP_TEXT

    settings.MAX_UPLOAD_BYTES = 2 * 1024 * 1024
    with pytest.raises(ValidationError) as refused:
        image_upload_clean(SimpleUploadedFile("big.jpg", b"\0" * (2 * 1024 * 1024 + 1)))
    assert refused.value.messages == ["The file is 2.1 MiB; the limit is 2 MiB."]
    assert str(IMAGE_HELP_TEXT) == "JPEG, PNG or WebP; at most 2 MiB and 40 megapixels."
    settings.MAX_UPLOAD_BYTES = 10_000
    with pytest.raises(ValidationError) as refused:
        image_upload_clean(b"\0" * 10_001)
    assert refused.value.messages == ["The file is 10 KiB; the limit is 9 KiB."]
