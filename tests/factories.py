from __future__ import annotations

from decimal import Decimal

import factory
from django.core.files.base import ContentFile

from shop.models import Cart, CartItem, Category, Product, User
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
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Garment {n}")
    slug = factory.LazyAttribute(lambda p: p.sku.lower())
    brand = "Northloom"
    price = Decimal("49.00")
    currency = "EUR"
    category = factory.SubFactory(CategoryFactory)
    stock = 10
    is_active = True

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
    quantity = 1


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
