"""Look-alikes: same category first (slot as fallback), ranked by shape blended with colour and pattern."""

from decimal import Decimal

import numpy as np
import pytest
from django.core.files.base import ContentFile

from recommender import inference
from recommender.ml.colour.lab import rgb_to_lab
from recommender.ml.colour.look import look_vector
from recommender.ml.colour.palette import colour_features
from recommender.ml.colour.pattern import pattern_features
from recommender.models import GarmentVector
from recommender.selectors.cached import similar_products
from recommender.services.indexing import products_embed, vector_store
from shop.models import Category, Product
from shop.services.catalog import product_image_process, product_set_colours
from tests.factories import CategoryFactory, ProductFactory
from tests.images import jpeg_bytes
from tests.vectors import near as _near
from tests.vectors import unit

pytestmark = pytest.mark.django_db
RNG = np.random.default_rng(11)


def near(base, angle):
    return _near(base, angle, RNG)


def colour(rgb):
    return colour_features(np.tile(rgb_to_lab(np.array(rgb, dtype=np.float64)), (500, 1)))


RED, NAVY = (200, 30, 40), (30, 40, 75)


@pytest.fixture
def version(embedder_weights_dir):
    return inference.current_model_version()


def index(product, embedding, rgb, version, pattern="plain"):
    product.image_sha256 = "0" * 64
    product.save(update_fields=["image_sha256"])
    look = look_vector(embedding, colour(rgb), pattern_features(pattern), inference.look_weights())
    return vector_store(product=product, vector=embedding, model_version=version, look=look)


def test_similar_items_prefer_the_same_colour_among_equally_shaped_garments(version):
    tees = CategoryFactory(slug="t-shirt", slot=Category.Slot.TOP)
    base = unit(RNG.normal(size=512))
    query = ProductFactory(category=tees)
    index(query, base, RED, version)
    navy_twin = ProductFactory(category=tees)
    index(navy_twin, near(base, 0.05), NAVY, version)  # closer in shape, other colour
    red_cousin = ProductFactory(category=tees)
    index(red_cousin, near(base, 0.15), RED, version)  # a little further in shape, same colour

    assert similar_products(product=query, k=2) == [red_cousin, navy_twin]


def test_similar_items_stay_in_the_category_before_the_rest_of_the_slot(version):
    skirts = CategoryFactory(slug="skirt", slot=Category.Slot.BOTTOM)
    shorts = CategoryFactory(slug="shorts", slot=Category.Slot.BOTTOM)
    base = unit(RNG.normal(size=512))
    query = ProductFactory(category=skirts)
    index(query, base, NAVY, version)
    lookalike_shorts = [ProductFactory(category=shorts) for _ in range(4)]
    for p in lookalike_shorts:
        index(p, near(base, 0.01), NAVY, version)  # nearer than any skirt
    skirts_far = [ProductFactory(category=skirts) for _ in range(3)]
    for n, p in enumerate(skirts_far):
        index(p, near(base, 0.4 + 0.1 * n), NAVY, version)

    result = similar_products(product=query, k=5)
    assert result[:3] == skirts_far  # the whole category first
    assert set(result[3:]) <= set(lookalike_shorts)  # the slot fills in when the category runs out


def test_category_purity_of_similar_items_on_a_catalog_of_several_categories(version):
    """≥ 0.95 of similar items share the product's category when each category has enough items."""
    categories = [CategoryFactory(slug=s, slot=Category.Slot.BOTTOM) for s in ("skirt", "shorts", "pants")]
    centres = {c.pk: unit(RNG.normal(size=512)) for c in categories}
    shared = unit(RNG.normal(size=512))
    products = []
    for c in categories:
        for _ in range(12):
            p = ProductFactory(category=c)
            # Categories overlap in shape (a denim skirt looks like denim shorts): half the vector is shared.
            index(p, unit(centres[c.pk] + shared + 0.5 * RNG.normal(size=512) / np.sqrt(512) * 10), NAVY, version)
            products.append(p)
    pairs = [(p, s) for p in products for s in similar_products(product=p, k=8)]
    purity = sum(p.category_id == s.category_id for p, s in pairs) / len(pairs)
    assert len(pairs) == len(products) * 8
    assert purity >= 0.95


def test_cheaper_only_keeps_working_with_the_look_ranking(version):
    tees = CategoryFactory(slug="t-shirt", slot=Category.Slot.TOP)
    base = unit(RNG.normal(size=512))
    query = ProductFactory(category=tees, price=Decimal("50"))
    index(query, base, RED, version)
    dear = ProductFactory(category=tees, price=Decimal("90"))
    index(dear, near(base, 0.01), RED, version)
    cheap = ProductFactory(category=tees, price=Decimal("20"))
    index(cheap, near(base, 0.3), NAVY, version)
    assert similar_products(product=query, k=4, cheaper=True) == [cheap]


def test_the_look_query_is_served_by_the_look_hnsw_index(version):
    from django.db import connection

    tees = CategoryFactory(slug="t-shirt", slot=Category.Slot.TOP)
    index(ProductFactory(category=tees), unit(RNG.normal(size=512)), RED, version)
    look = look_vector(unit(RNG.normal(size=512)), colour(RED), pattern_features("plain"), inference.look_weights())
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT product_id FROM recommender_garmentvector ORDER BY look <=> %s::vector LIMIT 10",
            [str(look.tolist())],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "garment_vec_look_hnsw" in plan


def test_indexing_stores_a_look_vector_and_the_category(version, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    product = ProductFactory(
        category=CategoryFactory(slug="t-shirt", slot=Category.Slot.TOP),
        image=ContentFile(jpeg_bytes(RED, size=(240, 320), background=(120, 90, 60)), name="red.jpg"),
        image_sha256="a" * 64,
    )
    product_image_process(product_id=product.pk, analyse=True)
    products_embed(product_ids=[product.pk])
    row = GarmentVector.objects.get(product=product)
    assert row.status == GarmentVector.Status.INDEXED
    assert row.category_id == product.category_id
    assert row.look_version == inference.current_look_version(version)
    assert len(row.look) == 512 + 30 + 4 and abs(np.linalg.norm(row.look) - 1) < 1e-3


def test_a_photo_is_measured_from_its_mask_and_a_curators_edit_survives_reprocessing(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    product = ProductFactory(
        image=ContentFile(jpeg_bytes(RED, size=(240, 320), background=(120, 90, 60)), name="red.jpg"),
        image_sha256="b" * 64,
    )
    product = product_image_process(product_id=product.pk, analyse=True)
    assert product.colours_source == Product.ColoursSource.MEASURED
    assert product.colour_names[0] == "red" and product.colour == "red"
    assert product.garment_mask.name.endswith("b" * 64 + ".png")  # one mask per photo version

    product_set_colours(product=product, colours=[{"name": "burgundy", "share": 80}, {"name": "navy", "share": 20}])
    product_image_process(product_id=product.pk, analyse=True)  # the task runs again: the edit stays
    product.refresh_from_db()
    assert product.colours_source == Product.ColoursSource.CURATOR
    assert product.colour_names == ["burgundy", "navy"] and product.colour == "red"
    assert product.colours[0]["share"] == pytest.approx(0.8)


def test_a_photo_without_foreground_is_unknown_colour_with_the_reason(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    blank = jpeg_bytes((230, 230, 228), size=(240, 320), background=(230, 230, 228))
    product = ProductFactory(image=ContentFile(blank, name="blank.jpg"), image_sha256="c" * 64, colour="beige")
    product = product_image_process(product_id=product.pk, analyse=True)
    assert product.colours == [] and product.colour == ""
    assert product.colours_source == Product.ColoursSource.UNKNOWN
    assert "No garment was found" in product.colours_note


def test_a_curator_cannot_set_a_colour_outside_the_palette():
    from shop.errors import ApplicationError

    product = ProductFactory()
    with pytest.raises(ApplicationError, match="palette"):
        product_set_colours(product=product, colours=[{"name": "vermilion-ish", "share": 1}])


def test_a_cold_similar_ranking_is_one_query_and_reads_the_products_look_in_the_database(
    version, django_assert_num_queries
):
    from recommender.selectors.similar import similar_ranking

    skirts = CategoryFactory(slug="skirts", slot="bottom")
    base = unit(RNG.normal(size=512))
    skirt = ProductFactory(category=skirts)
    index(skirt, base, RED, version)
    others = [ProductFactory(category=skirts) for _ in range(20)]
    for n, other in enumerate(others):
        index(other, near(base, 0.05 + 0.05 * n), RED, version)
    with django_assert_num_queries(1):  # the category's pass has enough; the look vector stays in SQL
        ranked = similar_ranking(skirt, 8)
    assert list(ranked.ids[:3]) == [p.pk for p in others[:3]]

    # A product without a look vector (other look weights) takes the general path, by its embedding.
    GarmentVector.objects.filter(product=skirt).update(look_version="other")
    assert list(similar_ranking(skirt, 8).ids[:3]) == [p.pk for p in others[:3]]
