"""Complete the look: one HNSW query per section, curators' pins and blocks, reasons, the page and the API."""

import numpy as np
import pytest
from django.urls import reverse

from recommender.models import COMPLEMENT_DIM, ComplementRule, ComplementVector, Garment, OutfitPhoto
from recommender.selectors.cached import complements_for
from recommender.services.complements import street_support_refresh
from recommender.services.indexing import vector_store
from shop.models import CartItem
from tests.factories import CategoryFactory, ProductFactory, complement_vector_for
from tests.vectors import unit

pytestmark = pytest.mark.django_db
RNG = np.random.default_rng(3)


@pytest.fixture
def slots():
    return {
        slot: CategoryFactory(slug=f"{slot}s", name=f"{slot.title()}s", slot=slot)
        for slot in ("top", "bottom", "outerwear", "dress", "shoes")
    }


def store(product, version, *, query=None, candidate=None, colour=None):
    return complement_vector_for(product, version, RNG, query=query, candidate=candidate, colour=colour)


def test_a_top_gets_in_stock_bottoms_best_first_never_itself(complement_version, slots):
    direction = unit(RNG.normal(size=COMPLEMENT_DIM))
    top = ProductFactory(category=slots["top"])
    store(top, complement_version, query=direction, candidate=direction)
    best = ProductFactory(category=slots["bottom"])
    store(best, complement_version, candidate=direction)
    good = ProductFactory(category=slots["bottom"])
    store(good, complement_version, candidate=unit(direction + 0.5 * unit(RNG.normal(size=COMPLEMENT_DIM))))
    store(ProductFactory(category=slots["bottom"], stock=0), complement_version, candidate=direction)
    store(ProductFactory(category=slots["bottom"], is_active=False), complement_version, candidate=direction)
    store(ProductFactory(category=slots["top"]), complement_version, candidate=direction)  # a top: never for a top
    store(ProductFactory(category=slots["dress"]), complement_version, candidate=direction)

    result = complements_for(product=top, k=5)

    assert [s.product for s in result.items] == [best, good]
    assert all(s.reason for s in result.items)


def test_a_bottom_gets_tops_and_outerwear_and_a_dress_gets_outerwear(complement_version, slots):
    bottom = store(ProductFactory(category=slots["bottom"]), complement_version).product
    dress = store(ProductFactory(category=slots["dress"]), complement_version).product
    top = store(ProductFactory(category=slots["top"]), complement_version).product
    jacket = store(ProductFactory(category=slots["outerwear"]), complement_version).product
    store(ProductFactory(category=slots["bottom"]), complement_version)

    assert {s.product for s in complements_for(product=bottom, k=5).items} == {top, jacket}
    assert [s.product for s in complements_for(product=dress, k=5).items] == [jacket]


def test_pins_come_first_in_the_curators_order_and_blocks_never_show_either_way(complement_version, slots):
    top = store(ProductFactory(category=slots["top"]), complement_version).product
    bottoms = [store(ProductFactory(category=slots["bottom"]), complement_version).product for _ in range(4)]
    ComplementRule.objects.create(product=top, other=bottoms[3], kind="pin", position=1)
    ComplementRule.objects.create(product=top, other=bottoms[2], kind="pin", position=2)
    ComplementRule.objects.create(product=top, other=bottoms[0], kind="block")
    ComplementRule.objects.create(product=bottoms[1], other=top, kind="block")  # blocked from the other side

    result = complements_for(product=top, k=5)

    assert [s.product for s in result.items] == [bottoms[3], bottoms[2]]
    assert [s.pinned for s in result.items] == [True, True]


def test_a_pin_to_an_inactive_item_or_a_blocked_pair_is_left_out(complement_version, slots):
    top = store(ProductFactory(category=slots["top"]), complement_version).product
    gone = store(ProductFactory(category=slots["bottom"], is_active=False), complement_version).product
    torn = store(ProductFactory(category=slots["bottom"]), complement_version).product
    ComplementRule.objects.create(product=top, other=gone, kind="pin")
    ComplementRule.objects.create(product=top, other=torn, kind="pin")
    ComplementRule.objects.create(product=torn, other=top, kind="block")  # pin one way, block the other: block wins

    assert complements_for(product=top, k=5).items == []
    assert complements_for(product=top, k=5).empty_reason == "none_available"


def test_empty_answers_say_why(complement_version, slots):
    unindexed = ProductFactory(category=slots["top"])
    shoes = ProductFactory(category=slots["shoes"])

    assert complements_for(product=unindexed).empty_reason == "not_indexed"
    assert complements_for(product=shoes).empty_reason == "no_complements_for_slot"


def test_vectors_of_another_model_or_photo_are_not_served(complement_version, slots):
    top = store(ProductFactory(category=slots["top"]), complement_version).product
    store(ProductFactory(category=slots["bottom"]), complement_version)
    ComplementVector.objects.filter(product=top).update(image_sha256="1" * 64)  # the photo changed since

    assert complements_for(product=top).empty_reason == "not_indexed"


def _street_pairing(version, top_look, bottom_look, colours):
    """Three street outfits: a top like ``top_look`` worn with a bottom like ``bottom_look``, in ``colours``."""
    for n in range(3):
        photo = OutfitPhoto.objects.create(source="street_annotated", external_id=str(n), image="outfits/x.jpg")
        for slot, look in (("top", top_look), ("bottom", bottom_look)):
            Garment.objects.create(
                photo=photo, slot=slot, origin="annotation", is_street=True, bbox=[0, 0, 1, 1], pixel_share=0.2,
                embedding=unit(look + 0.05 * RNG.normal(size=512)).tolist(), embedder_version=version,
                colour={"lab_mean": colours[slot]},
            )  # fmt: skip


DARK, LIGHT, MUSTARD = [25.0, 0.0, 0.0], [85.0, 0.0, 2.0], [65.0, 8.0, 60.0]


@pytest.mark.parametrize(
    ("street_colours", "backed"),
    [
        ({"top": DARK, "bottom": LIGHT}, True),  # the street outfits look like both pieces
        ({"top": DARK, "bottom": MUSTARD}, False),  # their bottoms are another colour: not this pairing
        ({"top": LIGHT, "bottom": DARK}, False),  # the colours sit in the other slots: not this pairing
    ],
)
def test_a_pairing_is_backed_only_by_street_outfits_that_look_like_both_pieces(
    complement_version, slots, embedder_weights_dir, street_colours, backed
):
    from recommender import inference

    version = inference.current_model_version()
    top_look, bottom_look = unit(RNG.normal(size=512)), unit(RNG.normal(size=512))
    top = store(ProductFactory(category=slots["top"]), complement_version, colour={"lab_mean": DARK}).product
    bottom = store(ProductFactory(category=slots["bottom"]), complement_version, colour={"lab_mean": LIGHT}).product
    for product, look in ((top, top_look), (bottom, bottom_look)):
        vector_store(product=product, vector=look, model_version=version)
    _street_pairing(version, top_look, bottom_look, street_colours)
    assert "Worn together" not in complements_for(product=top).items[0].reason  # not looked up yet

    street_support_refresh()  # what ingesting street outfits does

    suggestion = next(s for s in complements_for(product=top).items if s.product == bottom)
    if backed:
        assert suggestion.reason == "Worn together in 3 street outfits like this"
        assert suggestion.outfit_photo is not None and suggestion.outfit_photo.source == "street_annotated"
        thumbnail = set(suggestion.outfit_photo.garments.values_list("slot", flat=True))
        assert thumbnail == {"top", "bottom"}
    else:
        assert "Worn together" not in suggestion.reason and suggestion.outfit_photo is None


def test_street_support_is_the_nearest_street_garments_of_the_slot_and_follows_the_outfits(
    complement_version, slots, embedder_weights_dir
):
    from recommender import inference

    version = inference.current_model_version()
    look = unit(RNG.normal(size=512))
    top = store(ProductFactory(category=slots["top"]), complement_version).product
    bottom = store(ProductFactory(category=slots["bottom"]), complement_version).product
    vector_store(product=top, vector=look, model_version=version)
    photos = []
    for n, (slot, noise) in enumerate((("top", 0.1), ("top", 0.3), ("bottom", 0.0), ("top", 2.0))):
        photo = OutfitPhoto.objects.create(source="street_annotated", external_id=str(n), image="outfits/x.jpg")
        Garment.objects.create(
            photo=photo, slot=slot, origin="annotation", is_street=True, bbox=[0, 0, 1, 1], pixel_share=0.2,
            embedding=unit(look + noise * RNG.normal(size=512)).tolist(), embedder_version=version,
        )  # fmt: skip
        photos.append(photo)
    Garment.objects.create(  # a customer's photo never backs a pairing
        photo=OutfitPhoto.objects.create(source="customer", image="outfits/y.jpg"), slot="top", origin="segmenter",
        bbox=[0, 0, 1, 1], pixel_share=0.2, embedding=look.tolist(), embedder_version=version,
    )  # fmt: skip

    assert street_support_refresh(product_ids=[top.pk]) == 1
    row = ComplementVector.objects.get(product=top)
    assert row.street_photos == [photos[0].pk, photos[1].pk, photos[3].pk]  # tops only, nearest first
    assert row.street_distances == sorted(row.street_distances) and row.street_version == version
    assert ComplementVector.objects.get(product=bottom).street_version == ""  # not asked for, and not indexed

    photos[0].delete()
    street_support_refresh()
    assert ComplementVector.objects.get(product=top).street_photos == [photos[1].pk, photos[3].pk]


def test_without_street_support_the_reason_speaks_of_colour(complement_version, slots):
    top = store(
        ProductFactory(category=slots["top"], colour="navy"), complement_version, colour={"lab_mean": [25, 5, -30]}
    )
    light = {"lab_mean": [80, 2, 15]}
    store(ProductFactory(category=slots["bottom"], colour="beige"), complement_version, colour=light)

    [suggestion] = complements_for(product=top.product).items

    assert suggestion.reason == "Navy with beige: a light and dark contrast"


def test_the_product_page_shows_the_look_and_adds_it_to_the_cart(client, complement_version, slots):
    top = store(ProductFactory(category=slots["top"], stock=3), complement_version).product
    bottom = store(ProductFactory(category=slots["bottom"], stock=3), complement_version).product

    page = client.get(top.get_absolute_url())
    assert "Complete the look" in page.content.decode()
    assert bottom.name in page.content.decode()

    response = client.post(reverse("shop:cart-add-look", args=[top.pk]), {"with_product": bottom.pk})
    assert response.status_code == 302
    assert set(CartItem.objects.values_list("product_id", "quantity")) == {(top.pk, 1), (bottom.pk, 1)}


def test_adding_a_look_with_a_sold_out_piece_adds_nothing(client, complement_version, slots):
    top = ProductFactory(category=slots["top"], stock=3)
    gone = ProductFactory(category=slots["bottom"], is_active=False)

    client.post(reverse("shop:cart-add-look", args=[top.pk]), {"with_product": gone.pk})

    assert not CartItem.objects.exists()


def test_the_page_hides_the_section_when_there_is_nothing_to_show(client, complement_version, slots):
    top = ProductFactory(category=slots["top"])

    assert "Complete the look" not in client.get(top.get_absolute_url()).content.decode()


def test_the_api_lists_complements_with_reasons_and_says_why_when_empty(api_client, complement_version, slots):
    top = store(ProductFactory(category=slots["top"]), complement_version).product
    bottom = store(ProductFactory(category=slots["bottom"]), complement_version).product
    ComplementRule.objects.create(product=top, other=bottom, kind="pin")
    shoes = ProductFactory(category=slots["shoes"])

    body = api_client.get(f"/api/v1/products/{top.pk}/complements/?k=3").json()
    assert [item["product"]["id"] for item in body["items"]] == [bottom.pk, shoes.pk]  # the whole look
    assert [(item["slot"], item["in_look"]) for item in body["items"]] == [("bottom", True), ("shoes", True)]
    assert body["items"][0]["pinned"] is True and body["items"][0]["reason"] and body["items"][1]["reason"]
    assert body["empty_reason"] == ""

    empty = api_client.get(f"/api/v1/products/{shoes.pk}/complements/").json()
    assert empty["items"] == [] and empty["empty_reason"] == "no_complements_for_slot" and empty["message"]


def test_the_api_refuses_bad_parameters_in_the_one_error_shape(api_client, complement_version, slots):
    top = ProductFactory(category=slots["top"])

    for query in ("k=0", "k=25", "k=abc", "colour=red"):
        response = api_client.get(f"/api/v1/products/{top.pk}/complements/?{query}")
        assert response.status_code == 400, query
        assert set(response.json()["error"]) == {"code", "message", "details"}
    missing = api_client.get("/api/v1/products/999999/complements/")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("slot", "index"), [("top", "complement_bottom_hnsw"), ("bottom", "complement_top_outerwear_hnsw")]
)
def test_each_section_is_one_query_the_partial_hnsw_index_can_answer(complement_version, slots, slot, index):
    from django.db import connection, transaction

    from recommender.models import COMPLEMENT_TARGETS
    from recommender.selectors import complements as selectors

    product = store(ProductFactory(category=slots[slot]), complement_version).product
    # The served query: the product's own vector read by a scalar subquery inside the ranking query.
    question = selectors._product_question(product, COMPLEMENT_TARGETS[slot], complement_version)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = selectors._ranked_candidates(question)[:10].explain()
    assert index in plan
    assert selectors._ranked_candidate_ids(question, limit=10) == []  # nothing else is indexed


def test_curators_pin_a_complement_in_the_admin_and_preview_what_customers_see(client, complement_version, slots):
    from tests.factories import UserFactory

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    top = store(ProductFactory(category=slots["top"], name="Linen shirt"), complement_version).product
    chinos = store(ProductFactory(category=slots["bottom"], name="Sand chinos"), complement_version).product
    url = reverse("admin:shop_product_change", args=[top.pk])
    page = client.get(url).content.decode()
    assert "Complete the look: pins and blocks" in page and "Sand chinos" in page  # the preview

    ComplementRule.objects.create(product=top, other=chinos, kind="block")
    page = client.get(url).content.decode()
    assert "Sand chinos</a>" not in page and "Nothing that goes with this is on sale" in page


def test_curators_pick_the_product_to_pin_by_its_sku_or_name(client, complement_version, slots):
    from tests.factories import UserFactory

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    top = ProductFactory(category=slots["top"], name="Linen shirt")
    chinos = ProductFactory(category=slots["bottom"], name="Sand chinos", sku="PANTS-0042")
    ProductFactory(category=slots["bottom"], name="Navy shorts", sku="SHORTS-7")
    page = client.get(reverse("admin:shop_product_change", args=[top.pk])).content.decode()
    assert 'name="complement_rules-0-other"' in page and "admin-autocomplete" in page
    assert "Type a SKU or a name." in page

    def search(term):
        params = {"app_label": "recommender", "model_name": "complementrule", "field_name": "other", "term": term}
        response = client.get(reverse("admin:autocomplete"), params)
        assert response.status_code == 200
        return [(int(r["id"]), r["text"]) for r in response.json()["results"]]

    assert search("pants-0042") == [(chinos.pk, "Sand chinos (PANTS-0042)")]
    assert search("sand chin") == [(chinos.pk, "Sand chinos (PANTS-0042)")]
    assert search("NOSUCHSKU") == []


def test_the_admin_preview_shows_a_thumbnail_of_each_suggestion(client, complement_version, slots):
    from tests.factories import UserFactory

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    top = store(ProductFactory(category=slots["top"], name="Linen shirt"), complement_version).product
    chinos = store(ProductFactory(category=slots["bottom"], name="Sand chinos", with_image=True), complement_version)
    chinos = chinos.product
    page = client.get(reverse("admin:shop_product_change", args=[top.pk])).content.decode()
    preview = page.split("Complete the look, as customers see it", 1)[1]
    assert f'<img src="{chinos.display_image.url}"' in preview
    assert preview.index(chinos.display_image.url) < preview.index("Sand chinos</a>")


def test_a_garment_from_a_photo_gets_complements_through_the_same_query(complement_version, slots):
    from recommender.selectors.complements import ComplementQuery, complements_for_query

    direction = unit(RNG.normal(size=COMPLEMENT_DIM))
    best = store(ProductFactory(category=slots["bottom"]), complement_version, candidate=direction).product
    store(ProductFactory(category=slots["bottom"], stock=0), complement_version, candidate=direction)
    store(ProductFactory(category=slots["top"]), complement_version, candidate=direction)
    other = store(ProductFactory(category=slots["bottom"]), complement_version).product

    question = ComplementQuery(direction.tolist(), ("bottom",), complement_version)
    suggestions = complements_for_query(question=question, k=5, colour={"lab_mean": [50, 0, 0]})

    assert [s.product for s in suggestions] == [best, other]
    assert all(s.reason for s in suggestions)


@pytest.fixture
def complement_model_for_test_embedder(settings, tmp_path, embedder_weights_dir):
    """A tiny complement model trained (untrained, seeded) for the test embedder's features."""
    from recommender import inference
    from tests.conftest import make_complement_weights

    directory = make_complement_weights(
        tmp_path / "complement", embedder_sha256=inference.current_model_version(), dim=COMPLEMENT_DIM
    )
    settings.RECOMMENDER_COMPLEMENT_WEIGHTS = {"name": "complement-ccp", "directory": str(directory)}
    return inference.current_complement_version()


def test_indexing_makes_complement_vectors_for_slots_that_have_complements(
    complement_model_for_test_embedder, slots, tmp_path, settings
):
    from django.core.files.base import ContentFile

    from recommender.services.indexing import products_embed
    from shop.services.catalog import product_set_image
    from tests.images import jpeg_bytes

    settings.MEDIA_ROOT = str(tmp_path / "media")
    top = ProductFactory(category=slots["top"])
    bottom = ProductFactory(category=slots["bottom"])
    shoes = ProductFactory(category=slots["shoes"])
    for n, product in enumerate((top, bottom, shoes)):
        photo = jpeg_bytes((40 * n, 90, 160), size=(240, 320), background=(230, 230, 225))
        product_set_image(product=product, image=ContentFile(photo), process_now=True)
    products_embed(product_ids=[top.pk, bottom.pk, shoes.pk])

    rows = {v.product_id: v for v in ComplementVector.objects.all()}
    assert set(rows) == {top.pk, bottom.pk}  # nothing goes with shoes
    for row in rows.values():
        assert row.model_version == complement_model_for_test_embedder
        assert np.linalg.norm(np.asarray(row.query)) == pytest.approx(1.0, abs=1e-3)
        assert row.colour["pixels"] > 0
    before = {pk: list(v.candidate) for pk, v in rows.items()}
    assert products_embed(product_ids=[top.pk, bottom.pk])["skipped"] == 2  # current: left alone
    assert {v.product_id: list(v.candidate) for v in ComplementVector.objects.all()} == before
    assert [s.product for s in complements_for(product=top).items] == [bottom, shoes]  # a bottom plus shoes


def test_a_complement_model_for_another_embedder_makes_no_vectors(complement_version, slots, tmp_path, settings):
    from django.core.files.base import ContentFile

    from recommender.services.indexing import products_embed
    from shop.services.catalog import product_set_image
    from tests.conftest import make_complement_weights
    from tests.images import jpeg_bytes

    settings.MEDIA_ROOT = str(tmp_path / "media")
    directory = make_complement_weights(tmp_path / "other", embedder_sha256="f" * 64, dim=COMPLEMENT_DIM)
    settings.RECOMMENDER_COMPLEMENT_WEIGHTS = {"name": "complement-ccp", "directory": str(directory)}
    top = ProductFactory(category=slots["top"])
    product_set_image(product=top, image=ContentFile(jpeg_bytes()), process_now=True)

    assert products_embed(product_ids=[top.pk])["indexed"] == 1  # similar items still work
    assert not ComplementVector.objects.exists()
    assert complements_for(product=top).empty_reason == "not_indexed"


def test_the_product_list_shows_a_product_stale_until_its_complement_vectors_are_current(
    client, complement_version, slots
):
    from recommender import inference
    from tests.factories import UserFactory

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    top = ProductFactory(category=slots["top"], name="Linen shirt", image_sha256="1" * 64)
    shoes = ProductFactory(category=slots["shoes"], name="Loafers", image_sha256="2" * 64)
    for product in (top, shoes):
        vector_store(
            product=product, vector=unit(RNG.normal(size=512)), model_version=inference.current_model_version()
        )

    # The garment vector is current, but "Complete the look" has nothing for the shirt yet; shoes need none.
    listing = client.get(reverse("admin:shop_product_changelist")).content.decode()
    assert listing.count(">stale<") == 1 and "Complete the look is not indexed" in listing
    store(top, "another-model")
    assert client.get(reverse("admin:shop_product_changelist")).content.decode().count(">stale<") == 1
    ComplementVector.objects.filter(product=top).update(model_version=complement_version)
    listing = client.get(reverse("admin:shop_product_changelist")).content.decode()
    assert listing.count(">stale<") == 0 and listing.count(">indexed<") == 2


def test_a_cold_ranking_reads_the_products_own_vector_inside_the_vector_search(
    complement_version, slots, django_assert_num_queries
):
    from recommender.selectors.complements import complement_ranking

    direction = unit(RNG.normal(size=COMPLEMENT_DIM))
    top = store(ProductFactory(category=slots["top"]), complement_version, query=direction).product
    bottoms = [
        store(
            ProductFactory(category=slots["bottom"]),
            complement_version,
            candidate=unit(direction + w * unit(RNG.normal(size=COMPLEMENT_DIM))),
        ).product
        for w in (0.1, 1.0, 3.0)
    ]
    with django_assert_num_queries(2):  # the vector search, the reasons' evidence (rules are read with each result)
        ranking = complement_ranking(top, ("bottom",))
    assert list(ranking.ranked.ids) == [p.pk for p in bottoms] and ranking.version == complement_version

    unindexed = ProductFactory(category=slots["top"])
    with django_assert_num_queries(2):  # nothing found, then: is there a vector at all?
        assert complement_ranking(unindexed, ("bottom",)).ranked is None


def test_a_garment_from_a_photo_gets_a_varied_stylists_choice_not_the_models_near_duplicates(complement_version):
    """The model ranks six red shorts nearest a navy top from a photo; the stylist's order mixes in trousers
    and a skirt, and never shows six of one kind (the model's own order does)."""
    from recommender.selectors.complements import ComplementQuery, complements_for_query, garment_garb

    categories = {
        slug: CategoryFactory(slug=slug, name=slug.title(), slot="bottom") for slug in ("shorts", "pants", "skirt")
    }
    direction = unit(RNG.normal(size=COMPLEMENT_DIM))

    def near(spread):
        return unit(direction + spread * unit(RNG.normal(size=COMPLEMENT_DIM)))

    for i in range(6):
        store(ProductFactory(category=categories["shorts"], colour="red"), complement_version, candidate=near(0.05 * i))
    for colour in ("blue", "black", "grey"):
        store(ProductFactory(category=categories["pants"], colour=colour), complement_version, candidate=near(0.5))
    store(ProductFactory(category=categories["skirt"], colour="black"), complement_version, candidate=near(0.5))
    question = ComplementQuery(direction.tolist(), ("bottom",), complement_version)
    top = Garment(slot="top", fine_label="", colour={"lab_mean": [28.0, 4.0, -22.0]})  # navy

    by_model = complements_for_query(question=question, k=6)
    by_stylist = complements_for_query(question=question, k=6, own=garment_garb(top))

    assert {s.product.category.slug for s in by_model} == {"shorts"}
    kinds = [(s.product.category.slug, s.product.colour) for s in by_stylist]
    assert len(by_stylist) == 6 and len({slug for slug, _ in kinds}) >= 2
    assert max(kinds.count(kind) for kind in kinds) < 6
