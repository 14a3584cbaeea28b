"""Product names from what was measured: the garment's kind, its colours and its pattern.

A plain garment is named by its main colour ("Navy dress"), with its second colour when that
covers a good part of it ("Navy and white dress"). A striped or checked garment is named by the
pattern and the two colours that make it, when they contrast ("Navy and white striped T-shirt");
a print by its main colours ("Navy and white print dress"). Only measured attributes are used:
palette shade names ("charcoal", "burgundy"), second colours, the pattern and the measured
lightness of the main colour against its name's reference ("dark navy"), never style words.

Demo catalogs (:func:`product_demo_name`) hold many garments alike; a name already given
:data:`REPEAT_LIMIT` times in a category takes the next measured detail, and when the details run
out (a plain white T-shirt has none to add) the product's brand, so a category page does not list
"White T-shirt" ten times.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.colour.palette import FAMILY, NAMES, PALETTE_LAB
from shop.models import Product

#: A second colour is in the name when it covers this share of the garment.
SECOND_SHARE = 0.25
#: Stripes and checks are named when their two colours differ this much in lightness (L*).
CONTRAST_LIGHTNESS = 20.0
#: A print is named by its colours when its second colour covers this share.
PRINT_SHARE = 0.2
#: A main colour this much lighter or darker (L*) than its palette name's reference is "light" or "dark".
TONE_LIGHTNESS = 10.0
#: A demo name may repeat this many times in a category before the next measured detail is added.
REPEAT_LIMIT = 2
PATTERN_WORDS = {"striped": "striped", "checked": "checked", "printed": "print"}


def _lightness(entry: dict) -> float:
    lab = entry.get("lab")
    if lab:
        return float(lab[0])
    name = str(entry.get("name", ""))
    return float(PALETTE_LAB[NAMES.index(name)][0]) if name in NAMES else 50.0


def _family(entry: dict) -> str:
    return str(entry.get("family") or FAMILY.get(str(entry.get("name", "")), ""))


def _join(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def colour_words(colours: Sequence[dict], pattern: str = "", *, detail: int = 0) -> str:
    """The words before the garment's noun ("navy and white striped"); "" when nothing is measured.

    ``detail`` 1 adds any second measured colour; 2 also the measured tone (light, dark) and stripes or checks."""
    named = [c for c in colours if c.get("name")]
    if not named:
        return ""
    main = named[0]
    others = [c for c in named[1:] if _family(c) != _family(main)]
    pattern_word = PATTERN_WORDS.get(pattern, "")
    if pattern in ("striped", "checked"):
        contrasting = [c for c in others if abs(_lightness(c) - _lightness(main)) >= CONTRAST_LIGHTNESS]
        if contrasting:
            return f"{main['name']} and {contrasting[0]['name']} {pattern_word}"
    if pattern == "printed":
        printed = [c for c in others if float(c.get("share") or 0) >= PRINT_SHARE]
        if printed:
            return f"{_join([main['name']] + [c['name'] for c in printed[:2]])} {pattern_word}"
    second = [c for c in others if float(c.get("share") or 0) >= SECOND_SHARE]
    if detail >= 1 and not second:
        second = [c for c in named[1:] if c["name"] != main["name"]]
    words = _join([main["name"], *(c["name"] for c in second[:1])])
    if detail >= 2:
        tone = _tone(main)
        words = f"{tone} {words}" if tone else words
        if pattern in ("striped", "checked"):  # a print on one colour is too often folds or texture
            words = f"{words} {pattern_word}"
    return words


def _tone(entry: dict) -> str:
    """ "light" or "dark" when the measured main colour is clearly lighter or darker than its palette
    name's reference (:data:`TONE_LIGHTNESS`); never for black, white and grey."""
    name = str(entry.get("name", ""))
    if not entry.get("lab") or name not in NAMES or _family(entry) in ("black", "white", "grey") or " " in name:
        return ""
    difference = float(entry["lab"][0]) - float(PALETTE_LAB[NAMES.index(name)][0])
    return "light" if difference >= TONE_LIGHTNESS else "dark" if difference <= -TONE_LIGHTNESS else ""


def product_name(*, noun: str, colours: Sequence[dict], pattern: str = "", detail: int = 0) -> str:
    words = colour_words(colours, pattern, detail=detail)
    name = f"{words} {noun}" if words else noun
    return name[:1].upper() + name[1:]


def product_demo_name(*, noun: str, colours: Sequence[dict], pattern: str, category, sku: str, brand: str = "") -> str:
    """:func:`product_name` with more measured detail where the category already has that name
    :data:`REPEAT_LIMIT` times (other SKUs), then with the product's brand in front ("Marlowe white
    T-shirt"); the least used name when every one is taken."""
    names = list(dict.fromkeys(product_name(noun=noun, colours=colours, pattern=pattern, detail=d) for d in range(3)))
    branded = [f"{brand} {name[:1].lower()}{name[1:]}" for name in names] if brand else []
    candidates = names + branded
    taken = Product.objects.filter(category=category, name__in=candidates).exclude(sku=sku)
    counts = {name: taken.filter(name=name).count() for name in candidates}
    for name in candidates:
        if counts[name] < REPEAT_LIMIT:
            return name
    return min(candidates, key=lambda name: counts[name])
