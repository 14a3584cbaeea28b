"""Catalog import from a CSV file or a folder-per-class image tree.

Idempotent: products are keyed by SKU, so a re-run updates and never duplicates.
Each row is its own transaction: a bad row is reported and skipped, the others land.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction

from shop.errors import ApplicationError
from shop.imaging import ColourAnalysis, measure_colours
from shop.models import Category, Product
from shop.naming import product_demo_name
from shop.services.catalog import product_set_image, unique_slug
from shop.validators import clean_text, image_upload_clean

CSV_COLUMNS = ("sku", "name", "brand", "price", "category", "image", "description")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}

# Folder names of catalog-style trees (clothing-small) → category name and slot.
KNOWN_CLASSES: dict[str, tuple[str, str]] = {
    "t-shirt": ("T-shirts", Category.Slot.TOP),
    "shirt": ("Shirts", Category.Slot.TOP),
    "longsleeve": ("Long sleeves", Category.Slot.TOP),
    "outwear": ("Outerwear", Category.Slot.OUTERWEAR),
    "pants": ("Trousers", Category.Slot.BOTTOM),
    "shorts": ("Shorts", Category.Slot.BOTTOM),
    "skirt": ("Skirts", Category.Slot.BOTTOM),
    "dress": ("Dresses", Category.Slot.DRESS),
    "shoes": ("Shoes", Category.Slot.SHOES),
    "hat": ("Hats", Category.Slot.ACCESSORY),
}
_SINGULAR = {
    "t-shirt": "T-shirt",
    "shirt": "shirt",
    "longsleeve": "long-sleeve top",
    "outwear": "jacket",
    "pants": "trousers",
    "shorts": "shorts",
    "skirt": "skirt",
    "dress": "dress",
    "shoes": "shoes",
    "hat": "hat",
}
# Demo prices per class (EUR, min–max); a product's price is fixed by its SKU's hash.
_PRICE_RANGES = {
    "t-shirt": (9, 39),
    "shirt": (19, 79),
    "longsleeve": (15, 59),
    "outwear": (49, 249),
    "pants": (29, 119),
    "shorts": (15, 59),
    "skirt": (19, 89),
    "dress": (29, 179),
    "shoes": (39, 159),
    "hat": (9, 49),
}
_DEMO_BRANDS = ("Northloom", "Atelier Vale", "Common Thread", "Kinfolk & Co", "Sundry", "Marlowe", "Ostra")


@dataclass
class ImportRow:
    where: str  # "row 7" or a file path: how the report names this row
    sku: str
    category: str
    image: Path | None
    name: str = ""
    brand: str = ""
    price: str = ""
    description: str = ""
    demo: bool = False  # name, price and stock are made up from the class and the photo


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> int:
        return self.created + self.updated + self.unchanged


class RowError(ApplicationError):
    pass


def _decode_csv(path: Path) -> str:
    """The whole file as text, or an ApplicationError naming the row and byte where it stops being UTF-8.

    Decoding everything before the first row is imported is what makes a bad file save nothing."""
    data = path.read_bytes()
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or (len(data) > 1 and b"\x00" in data[:2]):
        raise ApplicationError(
            f"{path.name} is UTF-16 encoded; nothing was imported. Save it as UTF-8 (CSV UTF-8) and try again.",
            code="bad_encoding",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = data.count(b"\n", 0, exc.start) + 1
        raise ApplicationError(
            f"{path.name} is not UTF-8: byte 0x{data[exc.start]:02X} at byte {exc.start} (row {row}) cannot be read; "
            "nothing was imported. Save the file as UTF-8 (CSV UTF-8) and try again.",
            details={"row": row, "byte": exc.start},
            code="bad_encoding",
        ) from None


def rows_from_csv(path: Path) -> Iterator[ImportRow]:
    """Rows of a UTF-8 CSV with exactly the columns ``CSV_COLUMNS``.

    Raises before yielding any row if the file is not UTF-8, is not valid CSV, or has other columns."""
    text = _decode_csv(path)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        columns = tuple((c or "").strip().lower() for c in (reader.fieldnames or ()))
        missing = [c for c in CSV_COLUMNS if c not in columns]
        extra = [c for c in columns if c not in CSV_COLUMNS]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing {', '.join(missing)}")
            if extra:
                parts.append(f"unexpected {', '.join(extra)}")
            raise ApplicationError(
                f"{path.name}: wrong columns ({'; '.join(parts)}). Expected: {', '.join(CSV_COLUMNS)}."
            )
        reader.fieldnames = list(columns)
        raws = list(reader)
    except csv.Error as exc:
        raise ApplicationError(f"{path.name}: not a readable CSV at line {reader.line_num} ({exc}).") from None
    rows = []
    for number, raw in enumerate(raws, start=2):
        values = {k: clean_text(v, max_length=None, multiline=k == "description") for k, v in raw.items() if k}
        image = values["image"]
        image_path = None
        if image:
            image_path = Path(image) if Path(image).is_absolute() else (path.parent / image)
        rows.append(
            ImportRow(
                where=f"row {number}",
                sku=values["sku"],
                name=values["name"],
                brand=values["brand"],
                price=values["price"],
                category=values["category"],
                image=image_path,
                description=values["description"],
            )
        )
    return iter(rows)


def rows_from_tree(path: Path, *, limit_per_class: int | None = None) -> Iterator[ImportRow]:
    """One demo product per image of a folder-per-class tree (like clothing-small/train)."""
    for class_dir in sorted(p for p in path.iterdir() if p.is_dir()):
        files = sorted(p for p in class_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        for image in files[:limit_per_class]:
            yield ImportRow(
                where=str(image.relative_to(path)),
                sku=f"{class_dir.name[:6].upper()}-{image.stem[:8].upper()}",
                category=class_dir.name,
                image=image,
                demo=True,
            )


def rows_from_path(path: Path, *, limit_per_class: int | None = None) -> Iterator[ImportRow]:
    if path.is_dir():
        return rows_from_tree(path, limit_per_class=limit_per_class)
    if path.suffix.lower() == ".csv":
        return rows_from_csv(path)
    raise ApplicationError(f"{path} is neither a folder of images nor a .csv file.")


def _category(value: str) -> Category:
    found = Category.objects.filter(slug__iexact=value).first() or Category.objects.filter(name__iexact=value).first()
    if found:
        return found
    if value.lower() in KNOWN_CLASSES:
        name, slot = KNOWN_CLASSES[value.lower()]
        category, _ = Category.objects.get_or_create(slug=value.lower(), defaults={"name": name, "slot": slot})
        return category
    raise RowError(f"unknown category '{value}'")


def _stable_int(text: str, low: int, high: int) -> int:
    digest = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)
    return low + digest % (high - low + 1)


def _read_image(row: ImportRow, known: Product | None) -> tuple[bytes, ColourAnalysis]:
    """The photo's bytes and its measured colours (reused when the same photo was imported before)."""
    if row.image is None:
        return b"", ColourAnalysis()
    try:
        data = row.image.read_bytes()
    except OSError as exc:
        raise RowError(f"image {row.image.name} cannot be read ({exc.strerror or exc})") from exc
    if known is not None and known.colour_names and known.image_sha256 == hashlib.sha256(data).hexdigest():
        return data, ColourAnalysis(colours=known.colours, pattern=known.pattern)
    try:
        clean = image_upload_clean(data)  # the one upload rule: still JPEG/PNG/WebP, size limits
    except ValidationError as exc:
        raise RowError(f"image {row.image.name}: {exc.messages[0]}") from exc
    from recommender.inference import product_garment_mask

    return clean.content.read(), measure_colours(clean.image, product_garment_mask(clean.image))


def _price(value: str) -> Decimal:
    try:
        price = Decimal(value.replace(",", "."))
    except InvalidOperation:
        raise RowError(f"price '{value}' is not a number") from None
    if not price.is_finite() or price <= 0:
        raise RowError(f"price '{value}' must be positive")
    return price.quantize(Decimal("0.01"))


def _fields(row: ImportRow, colour: ColourAnalysis) -> dict:
    if not row.sku:
        raise RowError("sku is empty")
    category = _category(row.category)
    if row.demo:
        low, high = _PRICE_RANGES.get(row.category, (19, 99))
        noun = _SINGULAR.get(row.category, category.name.lower())
        return {
            "name": product_demo_name(
                noun=noun, colours=colour.colours, pattern=colour.pattern, category=category, sku=row.sku
            ),
            "brand": _DEMO_BRANDS[_stable_int(row.sku + "b", 0, len(_DEMO_BRANDS) - 1)],
            "price": Decimal(_stable_int(row.sku, low, high)) - Decimal("0.01"),
            "category": category,
            "description": "Demo product: photo from the clothing-small dataset (CC0); "
            "name from its class and measured colours and pattern, price and stock made up.",
            "stock": _stable_int(row.sku + "s", 0, 25),
        }
    if not row.name:
        raise RowError("name is empty")
    return {
        "name": row.name[:200],
        "brand": row.brand[:100],
        "price": _price(row.price),
        "category": category,
        "description": row.description,
    }


@transaction.atomic
def catalog_import_row(*, row: ImportRow, process_images_now: bool = False) -> str:
    """Create or update one product; returns 'created', 'updated' or 'unchanged'."""
    product = Product.objects.select_for_update().filter(sku=row.sku).first() if row.sku else None
    data, colour = _read_image(row, product)
    fields = _fields(row, colour)
    digest = hashlib.sha256(data).hexdigest() if data else ""
    if product is None:
        product = Product(sku=row.sku, stock=fields.pop("stock", 0), **fields)
        product.slug = unique_slug(product.name, product.sku)
        outcome = "created"
    else:
        fields.pop("stock", None)  # a re-import never overwrites stock a curator has set
        changed = [k for k, v in fields.items() if getattr(product, k) != v]
        if not changed and (not data or digest == product.image_sha256):
            return "unchanged"
        for key, value in fields.items():
            setattr(product, key, value)
        outcome = "updated"
    try:
        product.full_clean(exclude=["slug", "image"])
    except ValidationError as exc:
        raise RowError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
    product.save()
    if data and digest != product.image_sha256:
        product_set_image(product=product, image=ContentFile(data), process_now=process_images_now)
    return outcome


def catalog_import(*, rows: Iterable[ImportRow], process_images_now: bool = False) -> ImportReport:
    """Import every row; bad rows land in ``report.errors`` and the rest go on."""
    report = ImportReport()
    first_seen: dict[str, str] = {}
    for row in rows:
        if row.sku:
            key = row.sku
            if key in first_seen:
                report.errors.append((row.where, f"duplicate sku '{row.sku}' (first on {first_seen[key]})"))
                continue
            first_seen[key] = row.where
        try:
            outcome = catalog_import_row(row=row, process_images_now=process_images_now)
        except ApplicationError as exc:
            report.errors.append((row.where, exc.message))
            continue
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report
