"""Catalog import from a CSV file or a folder-per-class image tree.

Idempotent: products are keyed by SKU, so a re-run updates and never duplicates.
A CSV with a ``size`` column has one row per size, grouped by product SKU; without it, each
row is one product sold in "One size". Each product (all its rows) is its own transaction:
a bad row is reported and nothing of its product is saved; the other products land.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction

from shop import photo_analysis
from shop.errors import ApplicationError
from shop.models import Category, Product, ProductVariant
from shop.naming import product_demo_name
from shop.photo_analysis import PhotoAnalysis
from shop.services.catalog import product_set_image, unique_slug
from shop.services.variants import variant_create, variant_set_stock, variant_sku_check, variants_lock
from shop.sizes import ONE_SIZE, size_normalise, size_rank, variant_sku_for
from shop.validators import clean_text, image_upload_clean

CSV_COLUMNS = ("sku", "name", "brand", "price", "category", "image", "description")
#: Optional columns: the size, its own SKU (empty: ``{sku}-{size}``) and its stock (empty: left as it is).
CSV_SIZE_COLUMNS = ("size", "variant_sku", "stock")
#: Columns every row of one product must agree on.
PRODUCT_COLUMNS = ("name", "brand", "price", "category", "image", "description")
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
# Demo sizes per slot: letters for clothes, EU numbers for shoes, one size for accessories.
_DEMO_SIZES: dict[str, tuple[str, ...]] = {
    Category.Slot.SHOES: tuple(str(n) for n in range(38, 46)),
    Category.Slot.ACCESSORY: (ONE_SIZE,),
}
_DEMO_LETTERS = ("XS", "S", "M", "L", "XL", "XXL")


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
    demo: bool = False  # name, price, sizes and stock are made up from the class and the photo
    size: str | None = None  # None: the file has no size column (the product is sold in "One size")
    variant_sku: str = ""
    stock: str = ""  # empty: a new size starts at 0, an existing one keeps its stock


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
        extra = [c for c in columns if c not in CSV_COLUMNS + CSV_SIZE_COLUMNS]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing {', '.join(missing)}")
            if extra:
                parts.append(f"unexpected {', '.join(extra)}")
            raise ApplicationError(
                f"{path.name}: wrong columns ({'; '.join(parts)}). Expected: {', '.join(CSV_COLUMNS)} "
                f"(and optionally {', '.join(CSV_SIZE_COLUMNS)})."
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
                size=values["size"] if "size" in values else None,
                variant_sku=values.get("variant_sku", ""),
                stock=values.get("stock", ""),
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


def _read_image(row: ImportRow, known: Product | None) -> tuple[bytes, PhotoAnalysis]:
    """The photo's bytes and its measured colours (reused when the same photo was imported before;
    none when no app analyses photos, :mod:`shop.photo_analysis`)."""
    if row.image is None:
        return b"", PhotoAnalysis()
    try:
        data = row.image.read_bytes()
    except OSError as exc:
        raise RowError(f"image {row.image.name} cannot be read ({exc.strerror or exc})") from exc
    if known is not None and known.colour_names and known.image_sha256 == hashlib.sha256(data).hexdigest():
        return data, PhotoAnalysis(colours=known.colours, pattern=known.pattern)
    try:
        clean = image_upload_clean(data)  # the one upload rule: still JPEG/PNG/WebP, size limits
    except ValidationError as exc:
        raise RowError(f"image {row.image.name}: {exc.messages[0]}") from exc
    return clean.content.read(), photo_analysis.analyse(clean.image) or PhotoAnalysis()


def _price(value: str) -> Decimal:
    try:
        price = Decimal(value.replace(",", "."))
    except InvalidOperation:
        raise RowError(f"price '{value}' is not a number") from None
    if not price.is_finite() or price <= 0:
        raise RowError(f"price '{value}' must be positive")
    return price.quantize(Decimal("0.01"))


def _fields(row: ImportRow, colour: PhotoAnalysis) -> dict:
    if not row.sku:
        raise RowError("sku is empty")
    category = _category(row.category)
    if row.demo:
        low, high = _PRICE_RANGES.get(row.category, (19, 99))
        noun = _SINGULAR.get(row.category, category.name.lower())
        brand = _DEMO_BRANDS[_stable_int(row.sku + "b", 0, len(_DEMO_BRANDS) - 1)]
        return {
            "name": product_demo_name(
                noun=noun, colours=colour.colours, pattern=colour.pattern, category=category, sku=row.sku, brand=brand
            ),
            "brand": brand,
            "price": Decimal(_stable_int(row.sku, low, high)) - Decimal("0.01"),
            "category": category,
            "description": "Demo product: photo from the clothing-small dataset (CC0); "
            "name from its class and measured colours and pattern, price, sizes and stock made up.",
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


MAX_STOCK = 2_147_483_647  # what the stock column holds
SKU_LENGTH: int = ProductVariant._meta.get_field("sku").max_length or 64


@dataclass
class SizeSpec:
    size: str
    rank: int
    sku: str
    stock: int | None  # None: keep an existing size's stock (a new one starts at 0)
    sku_given: bool = True  # False: derived, so an existing size keeps the SKU it has


def _where(rows: list[ImportRow]) -> str:
    if len(rows) == 1:
        return rows[0].where
    if all(r.where.startswith("row ") for r in rows):
        return "rows " + ", ".join(r.where.removeprefix("row ") for r in rows)
    return ", ".join(r.where for r in rows)


def _stock(value: str) -> int | None:
    if value == "":
        return None
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_STOCK:
        raise RowError(f"stock '{value}' is not a whole number from 0 to {MAX_STOCK}")
    return int(value)


def _demo_sizes(sku: str, slot: str) -> list[SizeSpec]:
    """Plausible sizes for a demo product, with made-up stock fixed by the SKU (some sizes sold out)."""
    labels = _DEMO_SIZES.get(slot, _DEMO_LETTERS)
    specs = []
    for label in labels:
        stock = max(0, _stable_int(f"{sku}:{label}", -4, 9)) if len(labels) > 1 else _stable_int(sku + "s", 0, 25)
        specs.append(SizeSpec(label, size_rank(label), variant_sku_for(sku, label), stock))
    return specs


def _sizes(rows: list[ImportRow]) -> list[SizeSpec]:
    """The sizes of one product's rows; rows that disagree on the product itself are refused together."""
    first = rows[0]
    for row in rows[1:]:
        for column in PRODUCT_COLUMNS:
            if getattr(row, column) != getattr(first, column):
                raise RowError(
                    f"sku '{first.sku}': {row.where} has {column} '{getattr(row, column) or ''}' but "
                    f"{first.where} has '{getattr(first, column) or ''}'; nothing of this product was saved"
                )
    specs: list[SizeSpec] = []
    for row in rows:
        try:
            size = size_normalise(row.size) if row.size else ONE_SIZE
        except ValueError as exc:
            raise RowError(f"{row.where}: {exc}") from None
        if any(spec.size == size for spec in specs):
            raise RowError(f"sku '{first.sku}': size {size} is on two rows; nothing of this product was saved")
        sku = row.variant_sku or variant_sku_for(row.sku, size)
        if len(sku) > SKU_LENGTH:
            raise RowError(f"{row.where}: variant SKU '{sku}' is longer than {SKU_LENGTH} characters")
        if any(spec.sku.lower() == sku.lower() for spec in specs):
            raise RowError(f"sku '{first.sku}': variant SKU '{sku}' is on two rows; nothing of this product was saved")
        try:
            stock = _stock(row.stock)
        except RowError as exc:
            raise RowError(f"{row.where}: {exc.message}") from None
        specs.append(SizeSpec(size, size_rank(size), sku, stock, sku_given=bool(row.variant_sku)))
    if len(specs) > 1 and any(spec.size == ONE_SIZE for spec in specs):
        raise RowError(f"sku '{first.sku}': “One size” cannot be sold next to other sizes")
    return specs


def _save_sizes(product: Product, specs: list[SizeSpec], *, created: bool) -> bool:
    """Create or update the product's sizes and keep ``Product.stock`` their total; True if anything changed.

    Sizes that are not in the file are left as they are (a curator removes sizes in the admin)."""
    existing = {v.size: v for v in variants_lock(product_id=product.pk)}
    changed = False
    for spec in specs:
        variant = existing.get(spec.size)
        if variant is None or spec.sku_given:
            variant_sku_check(sku=spec.sku, product_id=product.pk, other_products_only=True)
        if variant is None:
            if not created and spec.stock is None and product.variants.exists() and spec.size == ONE_SIZE:
                continue  # a file without sizes never adds "One size" next to a curator's sizes
            variant_sku_check(sku=spec.sku, product_id=product.pk)
            variant_create(product=product, size=spec.size, sku=spec.sku, stock=spec.stock or 0)
            changed = True
            continue
        if spec.sku_given and variant.sku != spec.sku:
            variant_sku_check(sku=spec.sku, product_id=product.pk, exclude_pk=variant.pk)
            ProductVariant.objects.filter(pk=variant.pk).update(sku=spec.sku)
            changed = True
        if spec.stock is not None and spec.stock != variant.stock:
            variant_set_stock(variant_id=variant.pk, stock=spec.stock)
            changed = True
    return changed


@transaction.atomic
def catalog_import_product(*, rows: list[ImportRow], process_images_now: bool = False) -> str:
    """Create or update one product and its sizes from its rows; returns 'created', 'updated' or 'unchanged'.

    All or nothing: a row that disagrees with the others, or a size whose SKU another product
    uses, raises and leaves nothing of the product saved."""
    row = rows[0]
    if row.sku:
        # Sizes before the product row: the lock order the checkout uses.
        ProductVariant.objects.select_for_update().filter(product__sku=row.sku).order_by("pk").exists()
    product = Product.objects.select_for_update().filter(sku=row.sku).first() if row.sku else None
    data, colour = _read_image(row, product)
    fields = _fields(row, colour)
    specs = _demo_sizes(row.sku, fields["category"].slot) if row.demo else _sizes(rows)
    digest = hashlib.sha256(data).hexdigest() if data else ""
    if product is None:
        product = Product(sku=row.sku, stock=0, **fields)
        product.slug = unique_slug(product.name, product.sku)
        outcome = "created"
    else:
        changed = [k for k, v in fields.items() if getattr(product, k) != v]
        for key, value in fields.items():
            setattr(product, key, value)
        outcome = "updated" if changed or (data and digest != product.image_sha256) else "unchanged"
    try:
        product.full_clean(exclude=["slug", "image", "stock"])
    except ValidationError as exc:
        raise RowError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
    if outcome != "unchanged":
        product.save()
    if row.demo and outcome != "created":
        specs = []  # a re-import never overwrites the sizes and stock a curator has set
    try:
        sizes_changed = _save_sizes(product, specs, created=outcome == "created")
    except ApplicationError as exc:
        raise RowError(exc.message) from exc
    if outcome == "unchanged" and sizes_changed:
        outcome = "updated"
    if data and digest != product.image_sha256:
        product_set_image(product=product, image=ContentFile(data), process_now=process_images_now)
    return outcome


def rows_by_product(rows: Iterable[ImportRow]) -> tuple[list[list[ImportRow]], list[tuple[str, str]]]:
    """Rows grouped by product SKU, in first-seen order, and the rows refused while grouping.

    Rows of a file with a ``size`` column are sizes of their product; without one, a SKU on two
    rows is a mistake and the second row is refused."""
    groups: dict[str, list[ImportRow]] = {}
    errors: list[tuple[str, str]] = []
    for number, row in enumerate(rows):
        key = row.sku or f"\0{number}"  # a row without a SKU is its own (bad) product
        if key in groups and row.size is None:
            errors.append((row.where, f"duplicate sku '{row.sku}' (first on {groups[key][0].where})"))
            continue
        groups.setdefault(key, []).append(row)
    return list(groups.values()), errors


def catalog_import(
    *, rows: Iterable[ImportRow], process_images_now: bool = False, progress: Callable | None = None
) -> ImportReport:
    """Import every product; bad products land in ``report.errors`` and the rest go on.

    ``progress`` wraps the list of products (one item per product, its rows) for a progress bar."""
    report = ImportReport()
    groups, report.errors = rows_by_product(rows)
    for group in progress(groups) if progress else groups:
        try:
            outcome = catalog_import_product(rows=group, process_images_now=process_images_now)
        except ApplicationError as exc:
            report.errors.append((_where(group), exc.message))
            continue
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report
