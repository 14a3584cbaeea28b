"""``manage.py stock_demo``: the demo shop stocked step by step, its progress on the home page, idempotent."""

import io

import pytest
from django.core.management import call_command

from recommender import inference
from recommender.selectors.indexing import products_needing_vectors
from shop.demo_stock import demo_stock_finish, demo_stock_progress, demo_stock_report
from shop.models import Product
from tests.images import jpeg_bytes

pytestmark = pytest.mark.django_db


def test_the_home_page_says_how_far_the_demo_shop_is_stocked(client):
    demo_stock_report(stage="products", stocked=12, indexed=5, total=600)
    html = client.get("/").content.decode()
    assert "The demo shop is being stocked" in html
    assert "12 of 600 products are in" in html and "5 analysed for recommendations" in html

    demo_stock_finish()
    assert "being stocked" not in client.get("/").content.decode()


def test_the_demo_shop_is_stocked_and_indexed_and_a_second_run_redoes_nothing(tmp_path, embedder_weights_dir):
    source = tmp_path / "train"
    for cls in ("skirt", "shirt"):
        (source / cls).mkdir(parents=True)
        for n in range(3):
            (source / cls / f"{cls}{n}.jpg").write_bytes(jpeg_bytes((40 * n, 90, 160)))

    def stock():
        out = io.StringIO()
        options = dict(source=source, limit_per_class=2, ccp=tmp_path / "no-outfits", index="here")
        call_command("stock_demo", **options, stdout=out, stderr=io.StringIO())
        return out.getvalue()

    assert "4 of 4 products, 4 indexed" in stock()
    assert Product.objects.count() == 4
    version = inference.current_model_version()
    assert not products_needing_vectors(version=version).exists()
    assert demo_stock_progress() is None  # the home page no longer announces it
    written = dict(Product.objects.values_list("pk", "updated_at"))

    assert "4 of 4 products, 4 indexed" in stock()
    assert dict(Product.objects.values_list("pk", "updated_at")) == written
