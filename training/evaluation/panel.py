"""A blind panel for "Complete the look": people judge the shop's pairings against a rival's.

Each sheet shows one top (or outerwear) or bottom, "This item", and two rows, "A" and "B": the
first pieces of its complete-the-look section, and as many pieces of the same slots chosen by a
rival (random, neutral colours, the closest colours, or another ranking). Which row is the shop's
is drawn per sheet and written only to ``key.json``; the sheet itself says nothing but
"This item", "A" and "B", and draws both rows alike. Raters fill a CSV per panel; :func:`tally`
maps their answers back through the key. How to run one: ``docs/models/PANELS.md``.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

from recommender.ml.colour.lab import delta_e_2000, rgb_to_lab
from recommender.ml.stylist.looks import NEUTRALS
from recommender.ml.stylist.priors import PriorsError, StylistPriors, priors_from_file
from recommender.selectors.availability import first_on_sale
from recommender.selectors.cached import complements_for
from shop.models import Category, Product

#: The two halves of a panel: tops (tops and outerwear) and bottoms.
TOP_SLOTS: tuple[str, ...] = (Category.Slot.TOP, Category.Slot.OUTERWEAR)
BOTTOM_SLOTS: tuple[str, ...] = (Category.Slot.BOTTOM,)
#: Colour families that go with anything: the ``neutral`` rival picks only these.
#: The neutral rival's colour families: the stylist's neutrals.
NEUTRAL_COLOURS = NEUTRALS
RIVALS = ("random", "neutral", "colour", "weights:PATH")

ROW_LABELS = ("A", "B")
CAPTION = "This item"
RATING_COLUMNS = ("sheet", "preferred", "good_A", "good_B")
#: What a rater may write under ``preferred`` (case-insensitive), and what it means.
PREFERRED = {"a": "A", "b": "B", "equal": "equal", "=": "equal", "tie": "equal"}

RATER_README = """\
Complete the look: which pieces go with this item?

Each picture (sheet-01.png, sheet-02.png, ...) shows one garment on the left, "This item",
and two rows of pieces on the right, row A and row B.

For each picture, imagine wearing "This item" with the pieces of a row, and answer in
ratings.csv (a copy of ratings-template.csv with your answers filled in), one line per picture:

  preferred   which row goes better with "This item" as an outfit: A, B, or equal
  good_A      how many pieces of row A make a good pairing with "This item"
              (0 up to the number of pieces shown in row A)
  good_B      the same for row B

Judge each row on its own; there are no right answers, only your eye. Take the pictures in
any order, but answer every one, and do not change an answer after seeing later pictures.
"""


class PanelError(ValueError):
    """A panel that cannot be made, or ratings that cannot be read; the message says where and why."""


@dataclass(frozen=True)
class Rival:
    """What the shop's row is judged against: ``random``, ``neutral``, ``colour`` or ``weights`` (with a path)."""

    kind: str
    path: str = ""

    def __str__(self) -> str:
        return f"weights:{self.path}" if self.kind == "weights" else self.kind


def rival_parse(text: str) -> Rival:
    """``random``, ``neutral``, ``colour`` or ``weights:PATH``."""
    kind, _, path = text.partition(":")
    if kind == "weights" and path:
        try:
            priors_from_file(path)
        except PriorsError as exc:
            raise PanelError(f"weights rival: {exc}") from exc
        return Rival("weights", path)
    if kind in ("random", "neutral", "colour") and not path:
        return Rival(kind)
    raise PanelError(f"unknown rival {text!r}: choose one of {', '.join(RIVALS)}")


@dataclass(frozen=True)
class Pairing:
    """One product with its two rows: the shop's first pieces and the rival's, slot for slot."""

    product: Product
    shop: list[Product]
    rival: list[Product]


@dataclass(frozen=True)
class PanelChoice:
    pairings: list[Pairing]
    #: Why the panel has fewer products than asked for (one sentence each); empty when it has them all.
    warnings: list[str] = field(default_factory=list)


# --- choosing the products and the rival's pieces -----------------------------------------------------------


def _on_sale_with_photo(slots: Sequence[str]):
    return (
        Product.objects.filter(is_active=True, stock__gt=0, category__slot__in=list(slots))
        .exclude(image="")
        .order_by("pk")
    )


def panel_products(*, n: int, seed: int, k: int, rival: Rival) -> PanelChoice:
    """``n`` products drawn with ``seed``, half tops (or outerwear), half bottoms, each with its two rows.

    A product qualifies when it is on sale, in stock and has a photo, its complete-the-look section
    shows at least one piece, every piece shown has a photo, and the rival can match its row slot
    for slot. The result is shuffled, so tops and bottoms come in a random order."""
    if n < 1 or k < 1:
        raise PanelError("--n and --k must be at least 1")
    rng = random.Random(seed)
    chosen: list[Pairing] = []
    warnings: list[str] = []
    for name, slots, quota in (("tops", TOP_SLOTS, (n + 1) // 2), ("bottoms", BOTTOM_SLOTS, n // 2)):
        if quota == 0:
            continue
        ids = list(_on_sale_with_photo(slots).values_list("pk", flat=True))
        rng.shuffle(ids)
        found, no_suggestions, no_photo, short_rival = [], 0, 0, 0
        for pk in ids:
            if len(found) == quota:
                break
            product = Product.objects.select_related("category").get(pk=pk)
            shop = [suggestion.product for suggestion in complements_for(product=product, k=k).items[:k]]
            if not shop:
                no_suggestions += 1
                continue
            if not all(piece.image for piece in shop):  # an empty tile would tell the shop's row apart
                no_photo += 1
                continue
            picks = rival_picks(product=product, shop=shop, rival=rival, rng=random.Random(f"{seed}:{pk}"))
            if len(picks) < len(shop):
                short_rival += 1
                continue
            found.append(Pairing(product, shop, picks))
        if len(found) < quota:
            warnings.append(
                f"only {len(found)} of {quota} {name} qualify: {len(ids)} on sale and in stock with a photo, "
                f"{no_suggestions} of them without suggestions, {no_photo} suggesting a piece without a photo, "
                f"{short_rival} without a full {rival} row"
            )
        chosen += found
    rng.shuffle(chosen)
    return PanelChoice(chosen, warnings)


def rival_picks(*, product: Product, shop: Sequence[Product], rival: Rival, rng: random.Random) -> list[Product]:
    """The rival's row for ``product``: for each piece of the shop's row, one of the same slot, in the same
    positions; never the product itself, only on-sale, in-stock products with a photo. Shorter than the
    shop's row when the catalog cannot match it (the panel then leaves the product out)."""
    if rival.kind == "weights":
        return _weights_rival(product=product, shop=shop, path=rival.path, k=len(shop))
    slots = [piece.category.slot for piece in shop]
    by_slot: dict[str, list[Product]] = {}
    for slot in dict.fromkeys(slots):
        candidates = _on_sale_with_photo([slot]).exclude(pk=product.pk)
        count = slots.count(slot)
        if rival.kind in ("random", "neutral"):
            if rival.kind == "neutral":
                candidates = candidates.filter(colour__in=sorted(NEUTRAL_COLOURS))
            pool = list(candidates.values_list("pk", flat=True))
            ids = rng.sample(pool, min(count, len(pool)))
        elif rival.kind == "colour":
            ids = _closest_colours(product, candidates, count)
        else:
            raise PanelError(f"unknown rival {rival}")
        by_slot[slot] = first_on_sale(ids, k=count)
    row = []
    for slot in slots:
        if not by_slot[slot]:
            break
        row.append(by_slot[slot].pop(0))
    return row


def _weights_rival(*, product: Product, shop: Sequence[Product], path: str, k: int) -> list[Product]:
    """The shop's own ranking for ``product`` with other stylist priors (the file at ``path``): the first
    ``k`` pieces of the same complete-the-look section, ranked with those priors instead of the ones in
    service (uncached). A panel then measures a change of priors as people see it, before it ships;
    ``shop`` against ``weights:PATH`` is "the priors in service against these". A row that cannot be
    matched slot for slot is cut short (the panel leaves the product out)."""
    items = [s.product for s in complements_for(product=product, k=k, priors=_priors(path)).items]
    wanted = [piece.category.slot for piece in shop]
    row: list[Product] = []
    for slot in wanted:
        match = next((p for p in items if p.category.slot == slot and p not in row), None)
        if match is None:
            break
        row.append(match)
    return row


@functools.cache
def _priors(path: str) -> StylistPriors:
    return priors_from_file(path)


def _main_lab(colours: list | None, dominant_colour: str) -> np.ndarray | None:
    """The CIELAB of a product's main colour: its measured ``colours``' first Lab, else its dominant colour."""
    if colours and isinstance(colours[0], dict):
        lab = colours[0].get("lab")
        if isinstance(lab, list | tuple) and len(lab) == 3:
            return np.asarray(lab, dtype=np.float64)
    hex_colour = (dominant_colour or "").lstrip("#")
    if len(hex_colour) == 6:
        try:
            rgb = [int(hex_colour[i : i + 2], 16) for i in (0, 2, 4)]
        except ValueError:
            return None
        return rgb_to_lab(np.asarray(rgb, dtype=np.uint8)).astype(np.float64)
    return None


def _closest_colours(product: Product, candidates, count: int) -> list[int]:
    """Ids of the ``count`` candidates whose main colour is nearest ``product``'s (CIEDE2000), nearest first;
    ties broken by id. None when the product's colour is unknown; candidates without a colour never rank."""
    own = _main_lab(product.colours, product.dominant_colour)
    if own is None:
        return []
    rows = [
        (pk, lab)
        for pk, colours, dominant in candidates.values_list("pk", "colours", "dominant_colour")
        if (lab := _main_lab(colours, dominant)) is not None
    ]
    if not rows:
        return []
    distances = delta_e_2000(own, np.stack([lab for _, lab in rows]))
    ranked = sorted(zip(distances.tolist(), (pk for pk, _ in rows), strict=True))
    return [pk for _, pk in ranked[:count]]


# --- the sheet -----------------------------------------------------------------------------------------------

Box = tuple[int, int, int, int]  # left, top, right, bottom

SHEET_WIDTH = 1400
_MARGIN = 40
_HERO = (450, 600)
_CAPTION_HEIGHT = 56
_GUTTER = 56
_LABEL_WIDTH = 64
_TILE_GAP = 16
_ROW_GAP = 56
_TILE_ASPECT = 4 / 3  # height / width: catalog photos are mostly 3:4 portraits
_FRAME = (214, 214, 214)
_INK = (30, 30, 30)


@dataclass(frozen=True)
class SheetLayout:
    """Where everything on a sheet goes; the same for every sheet of a panel (it depends on ``k`` only)."""

    size: tuple[int, int]
    hero: Box
    caption: Box
    #: Row A's and row B's label boxes, and each row's ``k`` tile boxes: the same shapes, one below the other.
    labels: tuple[Box, Box]
    tiles: tuple[tuple[Box, ...], tuple[Box, ...]]
    divider: Box


def sheet_layout(*, k: int) -> SheetLayout:
    hero = (_MARGIN, _MARGIN, _MARGIN + _HERO[0], _MARGIN + _HERO[1])
    caption = (hero[0], hero[3], hero[2], hero[3] + _CAPTION_HEIGHT)
    left = hero[2] + _GUTTER + _LABEL_WIDTH
    width = SHEET_WIDTH - _MARGIN - left
    tile_h = (_HERO[1] - _ROW_GAP) // 2
    tile_w = min((width - (k - 1) * _TILE_GAP) // k, int(tile_h / _TILE_ASPECT))
    tile_h = min(tile_h, int(tile_w * _TILE_ASPECT))
    top_a = hero[1] + (_HERO[1] - 2 * tile_h - _ROW_GAP) // 2
    top_b = top_a + tile_h + _ROW_GAP

    def label(y: int) -> Box:
        return (left - _LABEL_WIDTH, y, left, y + tile_h)

    def tiles(y: int) -> tuple[Box, ...]:
        return tuple(
            (left + i * (tile_w + _TILE_GAP), y, left + i * (tile_w + _TILE_GAP) + tile_w, y + tile_h) for i in range(k)
        )

    divider_y = top_b - _ROW_GAP // 2
    divider = (left - _LABEL_WIDTH, divider_y, left + k * tile_w + (k - 1) * _TILE_GAP, divider_y)
    size = (SHEET_WIDTH, caption[3] + _MARGIN)
    return SheetLayout(size, hero, caption, (label(top_a), label(top_b)), (tiles(top_a), tiles(top_b)), divider)


def _photo(product: Product) -> Image.Image | None:
    """The product's photo as RGB on white (transparency flattened), or None when it cannot be read."""
    photo = product.image or product.thumbnail
    if not photo:
        return None
    try:
        with photo.open("rb") as handle:
            image = Image.open(handle)
            image.load()
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        flat = Image.new("RGB", image.size, "white")
        flat.paste(image, mask=image.getchannel("A"))
        return flat
    return image.convert("RGB")


def _letterboxed(sheet: Image.Image, product: Product, box: Box, *, frame: bool) -> None:
    """The whole photo, as large as fits ``box``, centred on white; never cropped."""
    width, height = box[2] - box[0], box[3] - box[1]
    photo = _photo(product)
    if photo is not None:
        photo = ImageOps.contain(photo, (width - 2, height - 2), Image.Resampling.LANCZOS)
        sheet.paste(photo, (box[0] + (width - photo.width) // 2, box[1] + (height - photo.height) // 2))
    if frame:
        ImageDraw.Draw(sheet).rectangle((box[0], box[1], box[2] - 1, box[3] - 1), outline=_FRAME)


def _centred_text(draw: ImageDraw.ImageDraw, box: Box, text: str, size: int) -> None:
    font = ImageFont.load_default(size=size)
    draw.text(((box[0] + box[2]) / 2, (box[1] + box[3]) / 2), text, fill=_INK, font=font, anchor="mm")


def sheet_image(*, product: Product, row_a: Sequence[Product], row_b: Sequence[Product], k: int) -> Image.Image:
    """One sheet: ``product`` large on the left ("This item"), rows A and B of up to ``k`` pieces on the right.

    The only words are "This item", "A" and "B"; both rows are drawn by the same code in boxes of
    the same size, so nothing but their photos tells them apart."""
    layout = sheet_layout(k=k)
    sheet = Image.new("RGB", layout.size, "white")
    draw = ImageDraw.Draw(sheet)
    _letterboxed(sheet, product, layout.hero, frame=False)
    _centred_text(draw, layout.caption, CAPTION, 30)
    for label, label_box, tiles, row in zip(ROW_LABELS, layout.labels, layout.tiles, (row_a, row_b), strict=True):
        _centred_text(draw, label_box, label, 48)
        for tile, piece in zip(tiles, row[:k], strict=False):
            _letterboxed(sheet, piece, tile, frame=True)
    draw.line(layout.divider[:2] + layout.divider[2:], fill=_FRAME, width=1)
    return sheet


# --- writing a panel and reading its ratings -----------------------------------------------------------------


@dataclass(frozen=True)
class PanelWritten:
    out: Path
    sheets: int
    warnings: list[str]


def panel_write(*, out: Path, n: int, seed: int, rival: Rival, k: int) -> PanelWritten:
    """Choose the products, draw one PNG sheet each, and write ``key.json``, ``ratings-template.csv`` and
    ``README.txt`` into ``out``. Nothing is written when no product qualifies or ``out`` holds a panel."""
    out = Path(out)
    if (out / "key.json").exists():
        raise PanelError(f"{out} already holds a panel (key.json); choose a new folder")
    choice = panel_products(n=n, seed=seed, k=k, rival=rival)
    if not choice.pairings:
        raise PanelError("no product qualifies: " + "; ".join(choice.warnings or ["the catalog is empty"]))
    # Which row is the shop's: drawn per sheet, as often A as B (position bias then cancels out).
    sides = (["A", "B"] * len(choice.pairings))[: len(choice.pairings)]
    random.Random(f"{seed}:rows").shuffle(sides)
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    for number, (pairing, shop_row) in enumerate(zip(choice.pairings, sides, strict=True), start=1):
        name = f"sheet-{number:02d}"
        row_a, row_b = (pairing.shop, pairing.rival) if shop_row == "A" else (pairing.rival, pairing.shop)
        sheet_image(product=pairing.product, row_a=row_a, row_b=row_b, k=k).save(out / f"{name}.png", optimize=True)
        entries.append(
            {
                "sheet": name,
                "product_id": pairing.product.pk,
                "shop_row": shop_row,
                "shop_ids": [p.pk for p in pairing.shop],
                "rival_ids": [p.pk for p in pairing.rival],
            }
        )
    key = {"rival": str(rival), "seed": seed, "k": k, "sheets": entries}
    (out / "key.json").write_text(json.dumps(key, indent=2) + "\n", encoding="utf-8")
    with open(out / "ratings-template.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(RATING_COLUMNS)
        writer.writerows([entry["sheet"], "", "", ""] for entry in entries)
    (out / "README.txt").write_text(RATER_README, encoding="utf-8")
    return PanelWritten(out, len(entries), choice.warnings)


def _read_key(path: Path) -> dict[str, dict]:
    """The key's sheets by name, each checked: a shop row A or B, and two lists of ids."""
    try:
        key = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise PanelError(f"{path}: cannot read the key ({exc.strerror or exc})") from exc
    except json.JSONDecodeError as exc:
        raise PanelError(f"{path}: not a panel key (invalid JSON: {exc.msg}, line {exc.lineno})") from exc
    sheets = key.get("sheets") if isinstance(key, dict) else None
    if not isinstance(sheets, list):
        raise PanelError(f"{path}: not a panel key (no list of sheets)")
    by_name = {}
    for entry in sheets:
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("sheet"), str)
            and entry.get("shop_row") in ROW_LABELS
            and isinstance(entry.get("shop_ids"), list)
            and isinstance(entry.get("rival_ids"), list)
        ):
            raise PanelError(f"{path}: not a panel key (a sheet without sheet, shop_row, shop_ids, rival_ids)")
        by_name[entry["sheet"]] = entry
    return by_name


def _good_count(text: str, *, column: str, shown: int, where: str) -> int:
    try:
        count = int(text)
    except ValueError:
        count = -1
    if not 0 <= count <= shown:
        raise PanelError(f"{where}: {column} must be a whole number from 0 to {shown} (the pieces shown), not {text!r}")
    return count


def tally(*, key: Path, ratings: Sequence[Path]) -> dict:
    """Every rated row of every ratings file, mapped to shop and rival through the key.

    A row with its three answers empty is not rated and is skipped; anything else that is not a
    valid answer stops the tally with the file, line and reason."""
    sheets = _read_key(key)
    preferred = {"shop": 0, "rival": 0, "equal": 0}
    good = {"shop": 0, "rival": 0}
    rated = 0
    for path in ratings:
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise PanelError(f"{path}: cannot read the ratings ({exc})") from exc
        reader = csv.DictReader(io.StringIO(text))
        header = [name.strip() for name in reader.fieldnames or []]
        missing = [column for column in RATING_COLUMNS if column not in header]
        if missing:
            raise PanelError(
                f"{path}, line 1: missing column {', '.join(missing)} (the header is {','.join(RATING_COLUMNS)})"
            )
        seen: set[str] = set()
        for raw in reader:
            row = {name.strip(): value.strip() if isinstance(value, str) else "" for name, value in raw.items() if name}
            name = row["sheet"].removesuffix(".png")
            where = f"{path}, line {reader.line_num} ({name or 'no sheet'})"
            answers = [row["preferred"], row["good_A"], row["good_B"]]
            if not name and not any(answers):
                continue
            if name not in sheets:
                raise PanelError(f"{where}: unknown sheet {row['sheet']!r}: not in {key}")
            if not any(answers):
                continue
            if not all(answers):
                raise PanelError(f"{where}: fill preferred, good_A and good_B, or leave all three empty")
            if name in seen:
                raise PanelError(f"{where}: {name} is rated twice in this file")
            seen.add(name)
            entry = sheets[name]
            choice = PREFERRED.get(row["preferred"].lower())
            if choice is None:
                raise PanelError(f"{where}: preferred must be A, B or equal, not {row['preferred']!r}")
            sides = {entry["shop_row"]: "shop", ("B" if entry["shop_row"] == "A" else "A"): "rival"}
            shown = {label: len(entry[f"{sides[label]}_ids"]) for label in ROW_LABELS}
            for label in ROW_LABELS:
                column = f"good_{label}"
                good[sides[label]] += _good_count(row[column], column=column, shown=shown[label], where=where)
            preferred["equal" if choice == "equal" else sides[choice]] += 1
            rated += 1
    if not rated:
        raise PanelError(f"no rated rows in {', '.join(str(p) for p in ratings)}")
    return {
        "sheets": rated,
        "preferred_shop": preferred["shop"],
        "preferred_rival": preferred["rival"],
        "equal": preferred["equal"],
        "good_shop": round(good["shop"] / rated, 2),
        "good_rival": round(good["rival"] / rated, 2),
    }
