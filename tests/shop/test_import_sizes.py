"""The catalog import with sizes: one row per size grouped by product SKU; demo sizes for folder trees."""

import pytest

from shop.models import Category, Product, ProductVariant
from shop.services.variants import product_stock_total
from tests.factories import ProductFactory
from tests.images import jpeg_bytes
from tests.shop.test_import_catalog import run_import

pytestmark = pytest.mark.django_db

HEADER = "sku,name,brand,price,category,image,description,size,variant_sku,stock\n"


@pytest.fixture
def shirts():
    return Category.objects.create(name="Shirts", slug="shirts", slot="top")


def sizes_of(sku: str) -> list[tuple[str, str, int]]:
    return list(ProductVariant.objects.filter(product__sku=sku).values_list("size", "sku", "stock"))


def test_rows_of_one_sku_are_the_sizes_of_one_product_in_size_order(tmp_path, shirts):
    csv_path = tmp_path / "catalog.csv"
    csv_path.write_text(
        HEADER
        + "OXF,Oxford shirt,Marlowe,39.90,shirts,,Cotton,L,,1\n"
        + "TEE,Plain tee,Marlowe,9.90,shirts,,,,,\n"
        + "OXF,Oxford shirt,Marlowe,39.90,shirts,,Cotton,s,OXF-SMALL,4\n"
        + "OXF,Oxford shirt,Marlowe,39.90,shirts,,Cotton,M,,0\n"
    )
    out, err = run_import(csv_path)
    assert "2 created" in out and not err
    assert sizes_of("OXF") == [("S", "OXF-SMALL", 4), ("M", "OXF-M", 0), ("L", "OXF-L", 1)]
    assert sizes_of("TEE") == [("One size", "TEE", 0)]  # an empty size: sold in one size
    assert (
        Product.objects.get(sku="OXF").stock == 5 == product_stock_total(product_id=Product.objects.get(sku="OXF").pk)
    )

    # A re-import sets the stock it is given, leaves the rest, and keeps the total.
    csv_path.write_text(HEADER + "OXF,Oxford shirt,Marlowe,39.90,shirts,,Cotton,M,,7\n")
    out, _ = run_import(csv_path)
    assert "1 updated" in out
    assert sizes_of("OXF") == [("S", "OXF-SMALL", 4), ("M", "OXF-M", 7), ("L", "OXF-L", 1)]
    assert Product.objects.get(sku="OXF").stock == 12


def test_rows_that_disagree_on_the_product_are_reported_and_nothing_of_it_is_saved(tmp_path, shirts):
    csv_path = tmp_path / "catalog.csv"
    csv_path.write_text(
        HEADER
        + "OXF,Oxford shirt,Marlowe,39.90,shirts,,,S,,1\n"
        + "OXF,Oxford shirt,Marlowe,44.90,shirts,,,M,,1\n"
        + "TEE,Plain tee,Marlowe,9.90,shirts,,,S,,1\n"
        + "TEE,Plain T-shirt,Marlowe,9.90,shirts,,,M,,1\n"
        + "CAP,Cap,Marlowe,9.90,shirts,,,,,2\n"
    )
    out, err = run_import(csv_path)
    assert "1 created" in out and "2 skipped" in out
    assert "rows 2, 3: sku 'OXF': row 3 has price '44.90' but row 2 has '39.90'" in err
    assert "rows 4, 5: sku 'TEE': row 5 has name 'Plain T-shirt' but row 4 has 'Plain tee'" in err
    assert set(Product.objects.values_list("sku", flat=True)) == {"CAP"}
    assert not ProductVariant.objects.exclude(product__sku="CAP").exists()


def test_a_variant_sku_another_product_uses_is_reported_and_nothing_of_the_product_is_saved(tmp_path, shirts):
    ProductFactory(sku="JEANS", name="Black jeans", sizes={"32": 3})
    csv_path = tmp_path / "catalog.csv"
    csv_path.write_text(
        HEADER
        + "OXF,Oxford shirt,Marlowe,39.90,shirts,,,S,,1\n"
        + "OXF,Oxford shirt,Marlowe,39.90,shirts,,,M,JEANS-32,1\n"
    )
    out, err = run_import(csv_path)
    assert "1 skipped" in out
    assert "variant SKU 'JEANS-32' is already used by Black jeans (JEANS), size 32" in err
    assert not Product.objects.filter(sku="OXF").exists()
    assert sizes_of("JEANS") == [("32", "JEANS-32", 3)]


def test_a_size_twice_or_one_size_beside_other_sizes_is_reported(tmp_path, shirts):
    csv_path = tmp_path / "catalog.csv"
    csv_path.write_text(
        HEADER
        + "OXF,Oxford shirt,Marlowe,39.90,shirts,,,M,,1\n"
        + "OXF,Oxford shirt,Marlowe,39.90,shirts,,,m,,2\n"
        + "CAP,Cap,Marlowe,9.90,shirts,,,One size,,1\n"
        + "CAP,Cap,Marlowe,9.90,shirts,,,L,,1\n"
        + "TEE,Tee,Marlowe,9.90,shirts,,,M,,many\n"
        + "TOP,Top,Marlowe,9.90,shirts,,,M,,99999999999\n"
        + f"LONG,Long,Marlowe,9.90,shirts,,,M,{'X' * 65},1\n"
    )
    out, err = run_import(csv_path)
    assert "5 skipped" in out and not Product.objects.exists()
    assert "size M is on two rows" in err and "cannot be sold next to other sizes" in err
    assert "stock 'many' is not a whole number" in err and "stock '99999999999' is not a whole number" in err
    assert "is longer than 64 characters" in err


def test_a_file_without_a_size_column_imports_one_size_products_as_before(tmp_path, shirts):
    csv_path = tmp_path / "catalog.csv"
    csv_path.write_text(
        "sku,name,brand,price,category,image,description\n"
        + "OXF,Oxford shirt,Marlowe,39.90,shirts,,\n"
        + "OXF,Oxford shirt again,Marlowe,39.90,shirts,,\n"
    )
    out, err = run_import(csv_path)
    assert "1 created" in out and "duplicate sku 'OXF' (first on row 2)" in err
    assert sizes_of("OXF") == [("One size", "OXF", 0)]


def test_a_folder_import_seeds_plausible_sizes_with_deterministic_stock(tmp_path):
    for cls in ("t-shirt", "shoes", "hat"):
        (tmp_path / cls).mkdir()
        for n in range(4):
            (tmp_path / cls / f"{cls}-{n}.jpg").write_bytes(jpeg_bytes((40 * n, 90, 160), size=(60, 80)))
    run_import(tmp_path)
    first = {p.sku: sizes_of(p.sku) for p in Product.objects.all()}

    tee = Product.objects.filter(category__slug="t-shirt").first()
    assert [size for size, _, _ in sizes_of(tee.sku)] == ["XS", "S", "M", "L", "XL", "XXL"]
    shoes = Product.objects.filter(category__slug="shoes").first()
    assert [size for size, _, _ in sizes_of(shoes.sku)] == [str(n) for n in range(38, 46)]
    hat = Product.objects.filter(category__slug="hat").first()
    assert [size for size, _, _ in sizes_of(hat.sku)] == ["One size"]
    stocks = [stock for sizes in first.values() for _, _, stock in sizes]
    assert 0 in stocks and max(stocks) > 0  # some sizes sold out, others in stock
    for product in Product.objects.all():
        assert product.stock == product_stock_total(product_id=product.pk)

    # Deterministic: the same tree imported again into an empty shop gives the same sizes and stock.
    ProductVariant.objects.all().delete()
    Product.objects.all().delete()
    run_import(tmp_path)
    assert {p.sku: sizes_of(p.sku) for p in Product.objects.all()} == first
