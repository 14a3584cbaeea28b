from __future__ import annotations

from decimal import Decimal

import factory
from django.core.files.base import ContentFile

from shop.models import Cart, CartItem, Category, Product, ProductVariant, User
from shop.sizes import ONE_SIZE, size_rank, variant_sku_for
from tests.images import jpeg_bytes


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"customer{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def persist_password(self, create, extracted, **kwargs):
        if create:
            self.save(update_fields=["password"])


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")
    slot = Category.Slot.TOP


class ProductFactory(factory.django.DjangoModelFactory):
    """A product sold in "One size" holding ``stock`` (variant SKU = product SKU), or in the
    ``sizes`` given as ``{"S": 2, "M": 0}`` (the product's stock is then their total)."""

    class Meta:
        model = Product
        skip_postgeneration_save = True

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Garment {n}")
    slug = factory.LazyAttribute(lambda p: p.sku.lower())
    brand = "Northloom"
    price = Decimal("49.00")
    currency = "EUR"
    category = factory.SubFactory(CategoryFactory)
    stock = 10
    is_active = True

    @factory.post_generation
    def sizes(self, create, extracted, **kwargs):
        if not create:
            return
        for label, stock in (extracted or {ONE_SIZE: self.stock}).items():
            ProductVariant.objects.create(
                product=self, size=label, size_rank=size_rank(label), sku=variant_sku_for(self.sku, label), stock=stock
            )
        if extracted:
            self.stock = sum(extracted.values())
            Product.objects.filter(pk=self.pk).update(stock=self.stock)

    class Params:
        with_image = factory.Trait(
            image=factory.LazyAttribute(lambda p: ContentFile(jpeg_bytes(), name=f"{p.sku}.jpg")),
            image_status=Product.ImageStatus.READY,
        )


class CartFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cart

    user = factory.SubFactory(UserFactory)


class CartItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CartItem

    cart = factory.SubFactory(CartFactory)
    product = factory.SubFactory(ProductFactory)
    variant = factory.LazyAttribute(lambda item: item.product.variants.first())
    size = factory.LazyAttribute(lambda item: item.variant.size if item.variant else "")
    quantity = 1


def stock_set(product: Product, stock: int, *, size: str = ONE_SIZE) -> None:
    """Set one size's stock behind the services' back (sold elsewhere meanwhile), keeping the total."""
    ProductVariant.objects.filter(product=product, size=size).update(stock=stock)
    total = sum(ProductVariant.objects.filter(product=product).values_list("stock", flat=True))
    Product.objects.filter(pk=product.pk).update(stock=total)


def tops_waiting_for_vectors(n: int) -> list:
    """``n`` tops with real photos (480x640 JPEGs) and pending garment vectors: an indexing batch."""
    from django.core.files.base import ContentFile

    from recommender.models import GarmentVector
    from tests.images import jpeg_bytes

    tops = CategoryFactory(slug="tops", slot="top")
    products = [ProductFactory(category=tops) for _ in range(n)]
    for i, product in enumerate(products):
        product.image.save(f"{i}.jpg", ContentFile(jpeg_bytes((i * 5, 100, 150), size=(480, 640))), save=False)
        product.image_sha256 = f"{i:064d}"
        product.save()
        GarmentVector.objects.create(product=product, slot="top")
    return products


def complement_vector_for(product, version, rng, *, query=None, candidate=None, colour=None):
    """Store complement vectors for ``product`` (random unit vectors from ``rng`` where not given),
    made by ``version`` from its current photo."""
    from recommender.models import COMPLEMENT_DIM, ComplementVector
    from tests.vectors import unit

    product.image_sha256 = product.image_sha256 or "0" * 64
    product.save(update_fields=["image_sha256"])
    return ComplementVector.objects.create(
        product=product,
        slot=product.category.slot,
        query=(query if query is not None else unit(rng.normal(size=COMPLEMENT_DIM))).tolist(),
        candidate=(candidate if candidate is not None else unit(rng.normal(size=COMPLEMENT_DIM))).tolist(),
        model_version=version,
        image_sha256=product.image_sha256,
        colour=colour or {},
    )
