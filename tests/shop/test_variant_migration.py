"""The data migration: each existing product's stock becomes one "One size" variant, and stored
cart lines and order lines point at it."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("shop", "0003_product_colours")]
AFTER = [("shop", "0004_product_variants")]


@pytest.mark.django_db(transaction=True)
def test_existing_stock_becomes_one_one_size_variant_and_lines_point_at_it():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    try:
        user = old.get_model("shop", "User").objects.create(username="ada")
        category = old.get_model("shop", "Category").objects.create(name="Hats", slug="hats", slot="accessory")
        Product = old.get_model("shop", "Product")
        hat = Product.objects.create(
            sku="HAT-1", name="Hat", slug="hat", price=Decimal("9"), category=category, stock=7
        )
        sold_out = Product.objects.create(
            sku="HAT-2", name="Cap", slug="cap", price=Decimal("9"), category=category, stock=0
        )
        cart = old.get_model("shop", "Cart").objects.create(user=user)
        old.get_model("shop", "CartItem").objects.create(cart=cart, product=hat, quantity=2)
        order = old.get_model("shop", "Order").objects.create(
            number="A1", user=user, total=Decimal("9"), currency="EUR", shipping_name="A", shipping_address="B"
        )
        old.get_model("shop", "OrderItem").objects.create(
            order=order, product=sold_out, product_name="Cap", sku="HAT-2", unit_price=Decimal("9"), quantity=1
        )

        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        new = executor.loader.project_state(AFTER).apps
        Variant = new.get_model("shop", "ProductVariant")
        assert sorted(Variant.objects.values_list("product__sku", "size", "sku", "stock")) == [
            ("HAT-1", "One size", "HAT-1", 7),
            ("HAT-2", "One size", "HAT-2", 0),
        ]
        line = new.get_model("shop", "CartItem").objects.get()
        assert (line.variant.sku, line.size, line.quantity) == ("HAT-1", "One size", 2)
        sold = new.get_model("shop", "OrderItem").objects.get()
        assert (sold.variant.sku, sold.size, sold.variant_sku) == ("HAT-2", "One size", "HAT-2")
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
