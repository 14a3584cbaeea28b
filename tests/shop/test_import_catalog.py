import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from shop.models import Category, Product
from tests.images import jpeg_bytes, truncated_jpeg

pytestmark = pytest.mark.django_db

HEADER = "sku,name,brand,price,category,image,description\n"


@pytest.fixture
def catalog_dir(tmp_path) -> Path:
    (tmp_path / "shirt.jpg").write_bytes(jpeg_bytes((30, 40, 80)))
    (tmp_path / "broken.jpg").write_bytes(truncated_jpeg())
    (tmp_path / "notes.jpg").write_text("not an image")
    return tmp_path


def run_import(path, **options):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_catalog", str(path), no_progress=True, process_images_now=True, stdout=out, stderr=err, **options
    )
    return out.getvalue(), err.getvalue()


def test_csv_import_creates_products_and_reports_each_bad_row(catalog_dir):
    Category.objects.create(name="Shirts", slug="shirts", slot="top")
    csv_path = catalog_dir / "catalog.csv"
    csv_path.write_text(
        HEADER
        + "S-1,Oxford shirt,Marlowe,39.90,shirts,shirt.jpg,Cotton\n"
        + "S-2,Bad price,Marlowe,cheap,shirts,shirt.jpg,\n"
        + "S-3,No category,Marlowe,10,capes,shirt.jpg,\n"
        + "S-4,Broken photo,Marlowe,10,shirts,broken.jpg,\n"
        + "S-5,Text photo,Marlowe,10,shirts,notes.jpg,\n"
        + "S-6,Lost photo,Marlowe,10,shirts,missing.jpg,\n"
        + ",No sku,Marlowe,10,shirts,,\n"
        + "S-8,No photo yet,Marlowe,12.5,shirts,,\n"
    )
    out, err = run_import(csv_path)
    assert "2 created" in out and "6 skipped" in out
    for row, reason in [
        (3, "price"),
        (4, "unknown category"),
        (5, "damaged"),
        (6, "image"),
        (7, "cannot be read"),
        (8, "sku"),
    ]:
        assert f"row {row}:" in err and reason in err.split(f"row {row}:")[1].splitlines()[0]
    shirt = Product.objects.get(sku="S-1")
    assert shirt.price == Decimal("39.90") and shirt.image_status == Product.ImageStatus.READY
    assert shirt.thumbnail and shirt.colour == "navy"
    assert set(Product.objects.values_list("sku", flat=True)) == {"S-1", "S-8"}


def test_csv_reimport_updates_and_never_duplicates(catalog_dir):
    Category.objects.create(name="Shirts", slug="shirts", slot="top")
    csv_path = catalog_dir / "catalog.csv"
    csv_path.write_text(HEADER + "S-1,Oxford shirt,Marlowe,39.90,shirts,shirt.jpg,Cotton\n")
    run_import(csv_path)
    image_name = Product.objects.get(sku="S-1").image.name
    out, _ = run_import(csv_path)
    assert "1 unchanged" in out
    csv_path.write_text(HEADER + "S-1,Oxford shirt,Marlowe,29.90,shirts,shirt.jpg,Cotton\n")
    out, _ = run_import(csv_path)
    assert "1 updated" in out
    product = Product.objects.get(sku="S-1")
    assert Product.objects.count() == 1 and product.price == Decimal("29.90")
    assert product.image.name == image_name  # same bytes: the photo was not stored again


def test_csv_with_wrong_columns_is_refused_before_any_row(tmp_path):
    csv_path = tmp_path / "catalog.csv"
    csv_path.write_text("sku,title,price\nS-1,Shirt,10\n")
    with pytest.raises(CommandError, match="missing name, brand, category, image, description; unexpected title"):
        run_import(csv_path)
    assert not Product.objects.exists()


def test_folder_tree_import_names_products_from_class_and_measured_colour(tmp_path):
    for cls, colour in [("t-shirt", (200, 30, 40)), ("pants", (20, 20, 20))]:
        (tmp_path / cls).mkdir()
        (tmp_path / cls / f"{cls}-a1b2c3d4.jpg").write_bytes(jpeg_bytes(colour, size=(120, 160)))
    out, _ = run_import(tmp_path)
    assert "2 created" in out
    tee = Product.objects.get(category__slug="t-shirt")
    assert tee.name == "Red T-shirt" and tee.category.slot == "top" and tee.price > 0
    assert Product.objects.get(category__slug="pants").category.slot == "bottom"
    out, _ = run_import(tmp_path)
    assert "2 unchanged" in out and Product.objects.count() == 2


def test_without_a_photo_analyser_the_import_names_products_without_a_colour(tmp_path, monkeypatch):
    from shop import photo_analysis

    monkeypatch.setattr(photo_analysis, "_analysers", [])
    (tmp_path / "t-shirt").mkdir()
    (tmp_path / "t-shirt" / "t-shirt-a1b2c3d4.jpg").write_bytes(jpeg_bytes((200, 30, 40), size=(120, 160)))
    out, _ = run_import(tmp_path)
    assert "1 created" in out
    tee = Product.objects.get()
    assert tee.name == "T-shirt" and tee.colours == []
    assert tee.image_status == Product.ImageStatus.READY and tee.thumbnail  # the shop's own part is done


def test_importing_a_path_that_is_neither_csv_nor_folder_fails_clearly(tmp_path):
    path = tmp_path / "catalog.xlsx"
    path.write_bytes(b"PK")
    with pytest.raises(CommandError, match="neither a folder"):
        run_import(path)


def test_demo_seed_takes_at_most_the_limit_per_class_and_processes_the_photos(tmp_path):
    for cls in ("skirt", "shirt"):
        (tmp_path / cls).mkdir()
        for n in range(3):
            (tmp_path / cls / f"{cls}{n}.jpg").write_bytes(jpeg_bytes((40 * n, 90, 160)))
    call_command("seed_demo", source=tmp_path, limit_per_class=2, no_admin=True, stdout=io.StringIO())
    assert Product.objects.filter(category__slug="skirt").count() == 2
    assert Product.objects.filter(category__slug="shirt").count() == 2
    assert set(Product.objects.values_list("image_status", flat=True)) == {Product.ImageStatus.READY}
