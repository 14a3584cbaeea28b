"""The blind complete-the-look panel: sheets for raters, a key kept apart, rival rows, and the tally."""

import csv
import io
import json
import random

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from PIL import Image

from recommender.ml.colour.lab import rgb_to_lab
from recommender.selectors.cached import complements_for
from shop.models import Product
from tests.factories import CategoryFactory, ProductFactory, complement_vector_for
from tests.images import jpeg_bytes
from training.evaluation.panel import (
    NEUTRAL_COLOURS,
    Rival,
    panel_products,
    rival_picks,
    sheet_image,
    sheet_layout,
)

RNG = np.random.default_rng(11)

TOPS = [("white", (245, 245, 245)), ("grey", (128, 128, 128)), ("red", (200, 30, 40))]
OUTERWEAR = [("navy", (30, 40, 90))]
BOTTOMS = [
    ("black", (25, 25, 25)),
    ("beige", (215, 195, 160)),
    ("red", (190, 35, 45)),
    ("blue", (40, 90, 200)),
    ("white", (240, 240, 240)),
]


def garment(category, family, rgb, *, version=None, measured=True, **fields):
    """An on-sale product with a real photo of its colour and its measured colours; with complement vectors
    made by ``version`` when one is given."""
    lab = [round(float(v), 2) for v in rgb_to_lab(np.array(rgb, dtype=np.uint8))]
    product = ProductFactory(
        category=category,
        colour=family,
        dominant_colour="#{:02x}{:02x}{:02x}".format(*rgb),
        colours=[{"name": family, "family": family, "share": 0.8, "lab": lab}] if measured else [],
        image=ContentFile(jpeg_bytes(rgb, size=(90, 120)), name=f"{family}.jpg"),
        image_status=Product.ImageStatus.READY,
        **fields,
    )
    if version is not None:
        complement_vector_for(product, version, RNG)
    return product


@pytest.fixture
def catalog(db, complement_version):
    """Four tops (one of them outerwear) and five bottoms with suggestions, and products that never qualify."""
    slots = {slot: CategoryFactory(slug=f"{slot}s", name=f"{slot.title()}s", slot=slot) for slot in ("top", "bottom")}
    slots["outerwear"] = CategoryFactory(slug="jackets", name="Jackets", slot="outerwear")
    slots["shoes"] = CategoryFactory(slug="shoes", name="Shoes", slot="shoes")
    v = complement_version
    tops = [garment(slots["top"], family, rgb, version=v) for family, rgb in TOPS]
    tops += [garment(slots["outerwear"], family, rgb, version=v) for family, rgb in OUTERWEAR]
    # The red bottom has no measured colours: the colour rival reads its dominant colour instead.
    bottoms = [garment(slots["bottom"], family, rgb, version=v, measured=family != "red") for family, rgb in BOTTOMS]
    garment(slots["top"], "green", (40, 150, 60))  # not indexed yet: no suggestions
    garment(slots["bottom"], "black", (20, 20, 20), version=v, stock=0)  # sold out
    garment(slots["top"], "black", (20, 20, 20), version=v, is_active=False)  # off sale
    garment(slots["shoes"], "white", (250, 250, 250))  # neither a top nor a bottom
    return {"tops": tops, "bottoms": bottoms}


def slots_of(ids):
    products = Product.objects.select_related("category").in_bulk(ids)
    return [products[pk].category.slot for pk in ids]


def fill_ratings(path, key, answers):
    """A rater's CSV from (sheet index, winner "shop"/"rival"/"equal"/raw text, good shop, good rival) answers."""
    rows = {entry["sheet"]: ["", "", ""] for entry in key["sheets"]}
    for index, winner, good_shop, good_rival in answers:
        entry = key["sheets"][index]
        rival_row = "B" if entry["shop_row"] == "A" else "A"
        preferred = {"shop": entry["shop_row"], "rival": rival_row}.get(winner, winner)
        goods = {entry["shop_row"]: good_shop, rival_row: good_rival}
        rows[entry["sheet"]] = [preferred, str(goods["A"]), str(goods["B"])]
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sheet", "preferred", "good_A", "good_B"])
        writer.writerows([sheet, *answer] for sheet, answer in rows.items())
    return path


def test_a_panel_round_trip_writes_blind_sheets_and_a_key_and_tallies_the_raters(catalog, tmp_path):
    out = io.StringIO()
    call_command("complement_panel", out=tmp_path / "panel", n=4, seed=7, k=2, stdout=out, stderr=io.StringIO())
    panel = tmp_path / "panel"
    key = json.loads((panel / "key.json").read_text())

    assert "Wrote 4 sheets" in out.getvalue() and str(panel) in out.getvalue()
    assert (key["rival"], key["seed"], key["k"]) == ("random", 7, 2)
    assert [entry["sheet"] for entry in key["sheets"]] == ["sheet-01", "sheet-02", "sheet-03", "sheet-04"]
    products = Product.objects.select_related("category").in_bulk([entry["product_id"] for entry in key["sheets"]])
    assert len(products) == 4
    groups = sorted("bottom" if p.category.slot == "bottom" else "top" for p in products.values())
    assert groups == ["bottom", "bottom", "top", "top"]
    assert {entry["shop_row"] for entry in key["sheets"]} == {"A", "B"}  # as often A as B
    for entry in key["sheets"]:
        product = products[entry["product_id"]]
        assert entry["shop_ids"] == [s.product.pk for s in complements_for(product=product, k=2).items[:2]]
        assert len(entry["rival_ids"]) == len(entry["shop_ids"]) == 2
        with Image.open(panel / f"{entry['sheet']}.png") as sheet:
            assert sheet.format == "PNG" and sheet.width == 1400 and 600 < sheet.height < 900
    assert set(p.name for p in panel.iterdir()) == {
        *(f"sheet-0{i}.png" for i in range(1, 5)),
        "key.json",
        "ratings-template.csv",
        "README.txt",
    }
    template = list(csv.reader((panel / "ratings-template.csv").open()))
    assert template == [["sheet", "preferred", "good_A", "good_B"]] + [[f"sheet-0{i}", "", "", ""] for i in range(1, 5)]
    readme = (panel / "README.txt").read_text().lower()
    assert "this item" in readme and "good_a" in readme
    assert not any(word in readme for word in ("shop", "rival", "random", "neutral", "method", "model", "key"))

    first = fill_ratings(
        tmp_path / "rater-1.csv",
        key,
        [(0, "shop", 2, 1), (1, "shop", 1, 0), (2, "equal", 1, 1), (3, "rival", 0, 2)],
    )
    second = fill_ratings(tmp_path / "rater-2.csv", key, [(0, "tie", 2, 2), (1, "shop", 2, 0)])  # two left unrated
    tallied = io.StringIO()
    call_command("complement_panel", "--tally", str(panel / "key.json"), str(first), str(second), stdout=tallied)

    assert json.loads(tallied.getvalue().strip().splitlines()[-1]) == {
        "sheets": 6,
        "preferred_shop": 3,
        "preferred_rival": 1,
        "equal": 2,
        "good_shop": 1.33,
        "good_rival": 1.0,
    }


def test_the_same_seed_draws_the_same_panel_and_a_folder_holding_one_is_refused(catalog, tmp_path):
    for folder in ("one", "two"):
        call_command("complement_panel", out=tmp_path / folder, n=2, seed=3, k=2, stdout=io.StringIO())

    assert (tmp_path / "one" / "key.json").read_text() == (tmp_path / "two" / "key.json").read_text()
    with pytest.raises(CommandError, match="already holds a panel"):
        call_command("complement_panel", out=tmp_path / "one", n=2, seed=4, stdout=io.StringIO())


@pytest.mark.parametrize("rival", ["random", "neutral", "colour"])
def test_rival_rows_take_the_slots_and_counts_of_the_shops_row(catalog, rival):
    choice = panel_products(n=8, seed=1, k=2, rival=Rival(rival))

    assert len(choice.pairings) == 8
    for pairing in choice.pairings:
        shop_ids, rival_ids = [p.pk for p in pairing.shop], [p.pk for p in pairing.rival]
        assert slots_of(rival_ids) == slots_of(shop_ids)
        assert pairing.product.pk not in rival_ids and len(set(rival_ids)) == len(rival_ids)
        assert all(p.is_active and p.stock > 0 for p in pairing.rival)
        if rival == "neutral":
            assert {p.colour for p in pairing.rival} <= NEUTRAL_COLOURS


def test_the_neutral_rival_only_picks_neutral_colours(catalog):
    red_top = catalog["tops"][2]
    bottoms = catalog["bottoms"]
    for seed in range(10):
        picks = rival_picks(product=red_top, shop=bottoms[:3], rival=Rival("neutral"), rng=random.Random(seed))
        assert len(picks) == 3 and {p.colour for p in picks} == {"black", "beige", "white"}


def test_the_colour_rival_picks_the_nearest_colours_in_cielab_the_same_every_time(catalog):
    red_top = catalog["tops"][2]
    black, beige, red, blue, white = catalog["bottoms"]

    picks = [rival_picks(product=red_top, shop=[black], rival=Rival("colour"), rng=random.Random(s)) for s in (1, 2)]

    assert picks == [[red], [red]]  # the red bottom, from its dominant colour (it has no measured colours)
    picks = rival_picks(product=catalog["tops"][0], shop=[black, red], rival=Rival("colour"), rng=random.Random(0))
    assert picks == [white, beige]  # a white top: white, then the next lightest


def test_both_rows_are_drawn_alike_only_their_labels_differ(catalog):
    top, (black, beige, red, blue, white) = catalog["tops"][0], catalog["bottoms"]
    layout = sheet_layout(k=3)

    def pixels(image, box):
        return np.asarray(image.crop(box))

    same = sheet_image(product=top, row_a=[black, red, blue], row_b=[black, red, blue], k=3)
    for tile_a, tile_b in zip(*layout.tiles, strict=True):
        assert np.array_equal(pixels(same, tile_a), pixels(same, tile_b))
    assert not np.array_equal(pixels(same, layout.labels[0]), pixels(same, layout.labels[1]))  # "A" and "B"

    one = sheet_image(product=top, row_a=[black, red], row_b=[beige, white], k=3)
    other = sheet_image(product=top, row_a=[beige, white], row_b=[black, red], k=3)
    for row in (0, 1):
        for tile, swapped in zip(layout.tiles[row], layout.tiles[1 - row], strict=True):
            assert np.array_equal(pixels(one, tile), pixels(other, swapped))
    for box in (layout.hero, layout.caption, *layout.labels):
        assert np.array_equal(pixels(one, box), pixels(other, box))
    assert one.size == (1400, layout.size[1])
    # Outside the photos, the caption and the labels the sheet is blank but for the frames and the divider.
    mask = np.ones((one.height, one.width), dtype=bool)
    for box in (layout.hero, layout.caption, *layout.labels, *layout.tiles[0], *layout.tiles[1]):
        mask[box[1] : box[3], box[0] : box[2]] = False
    mask[layout.divider[1], layout.divider[0] : layout.divider[2] + 1] = False
    assert (np.asarray(one)[mask] == 255).all()


def test_fewer_qualifying_products_than_asked_is_a_warning(catalog, tmp_path):
    out, err = io.StringIO(), io.StringIO()
    call_command("complement_panel", out=tmp_path / "panel", n=12, seed=0, k=2, stdout=out, stderr=err)

    assert "Wrote 9 sheets" in out.getvalue()
    assert "only 4 of 6 tops qualify" in err.getvalue() and "1 of them without suggestions" in err.getvalue()
    assert "only 5 of 6 bottoms qualify" in err.getvalue()


def test_the_weights_rival_ranks_with_other_stylist_priors_and_refuses_a_bad_file(catalog, tmp_path):
    from recommender.ml.stylist.priors import PRIORS_PATH

    call_command(
        "complement_panel", out=tmp_path / "panel", rival=f"weights:{PRIORS_PATH}", n=4, k=2, stdout=io.StringIO()
    )
    key = json.loads((tmp_path / "panel" / "key.json").read_text())
    assert key["sheets"] and all(s["shop_ids"] == s["rival_ids"] for s in key["sheets"])  # the same priors

    bad = tmp_path / "edited.json"
    bad.write_text(json.dumps({**json.loads(PRIORS_PATH.read_text()), "tables": {}}))
    with pytest.raises(CommandError, match="weights rival: .*sha256"):
        call_command("complement_panel", out=tmp_path / "other", rival=f"weights:{bad}", stdout=io.StringIO())
    assert not (tmp_path / "other").exists()


def test_out_and_tally_are_exclusive_and_one_is_required(tmp_path):
    with pytest.raises(CommandError):
        call_command("complement_panel", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("complement_panel", "--out", str(tmp_path), "--tally", "key.json", "r.csv", stdout=io.StringIO())
    with pytest.raises(CommandError, match="unknown rival 'best'"):
        call_command("complement_panel", out=tmp_path / "p", rival="best", stdout=io.StringIO())


KEY = {
    "rival": "random",
    "seed": 0,
    "k": 2,
    "sheets": [
        {"sheet": "sheet-01", "product_id": 1, "shop_row": "B", "shop_ids": [2, 3], "rival_ids": [4, 5]},
        {"sheet": "sheet-02", "product_id": 6, "shop_row": "A", "shop_ids": [7], "rival_ids": [8]},
    ],
}
HEADER = "sheet,preferred,good_A,good_B\n"


def test_the_tally_reads_any_case_and_ties_and_skips_unrated_rows(tmp_path):
    (tmp_path / "key.json").write_text(json.dumps(KEY))
    (tmp_path / "r.csv").write_text(HEADER + "sheet-01, a ,2,0\nsheet-02.png,=,1,0\n")
    (tmp_path / "s.csv").write_text(HEADER + "sheet-01,TIE,1,1\nsheet-02,,,\n")
    out = io.StringIO()

    call_command(
        "complement_panel", "--tally", *(str(tmp_path / f) for f in ("key.json", "r.csv", "s.csv")), stdout=out
    )

    assert json.loads(out.getvalue()) == {
        "sheets": 3,
        "preferred_shop": 0,
        "preferred_rival": 1,
        "equal": 2,
        "good_shop": 0.67,
        "good_rival": 1.0,
    }


@pytest.mark.parametrize(
    "ratings, message",
    [
        ("sheet,preferred,good_A\nsheet-01,A,1\n", r"bad\.csv, line 1: missing column good_B"),
        (HEADER + "sheet-01,A,1,1\nsheet-09,A,1,1\n", r"bad\.csv, line 3 \(sheet-09\): unknown sheet 'sheet-09'"),
        (
            HEADER + "sheet-01,maybe,1,1\n",
            r"bad\.csv, line 2 \(sheet-01\): preferred must be A, B or equal, not 'maybe'",
        ),
        (HEADER + "sheet-02,B,2,0\n", r"bad\.csv, line 2 \(sheet-02\): good_A must be a whole number from 0 to 1"),
        (HEADER + "sheet-01,B,1,-1\n", r"bad\.csv, line 2 \(sheet-01\): good_B must be a whole number from 0 to 2"),
        (HEADER + "sheet-01,B,1.5,1\n", r"good_A must be a whole number from 0 to 2 .*not '1\.5'"),
        (HEADER + "sheet-01,A,,1\n", r"line 2 \(sheet-01\): fill preferred, good_A and good_B, or leave all three"),
        (HEADER + "sheet-01,A,1,1\nsheet-01,B,1,1\n", r"line 3 \(sheet-01\): sheet-01 is rated twice"),
        (HEADER + "sheet-01,,,\n", r"no rated rows in .*bad\.csv"),
    ],
)
def test_a_bad_ratings_file_is_refused_naming_the_file_and_line(tmp_path, ratings, message):
    (tmp_path / "key.json").write_text(json.dumps(KEY))
    (tmp_path / "bad.csv").write_text(ratings)
    out = io.StringIO()

    with pytest.raises(CommandError, match=message):
        call_command("complement_panel", "--tally", str(tmp_path / "key.json"), str(tmp_path / "bad.csv"), stdout=out)
    assert out.getvalue() == ""


def test_a_file_that_is_not_a_key_is_refused(tmp_path):
    (tmp_path / "key.json").write_text('{"sheets": [{"sheet": "sheet-01"}]}')
    (tmp_path / "r.csv").write_text(HEADER)

    with pytest.raises(CommandError, match=r"key\.json: not a panel key"):
        call_command("complement_panel", "--tally", str(tmp_path / "key.json"), str(tmp_path / "r.csv"))
    with pytest.raises(CommandError, match=r"missing\.json: cannot read the key"):
        call_command("complement_panel", "--tally", str(tmp_path / "missing.json"), str(tmp_path / "r.csv"))
