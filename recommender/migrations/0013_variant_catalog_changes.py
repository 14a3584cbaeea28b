"""Sizes count as catalog writes for the recommendation sections' cache.

The product page caches "Complete the look" with a size select per piece, so adding or removing a
size, or a size selling out or coming back, advances ``recommender_catalog_changes`` like a
product write does (see 0007). A size's stock moving while it stays in stock does not count.
"""

from django.db import migrations

TABLE = "shop_productvariant"
#: A size update counts when it sells out or comes back, or its label, SKU, order or product moves.
VARIANT_CHANGED = (
    "(OLD.stock > 0) IS DISTINCT FROM (NEW.stock > 0) OR "
    "(to_jsonb(OLD) - 'stock') IS DISTINCT FROM (to_jsonb(NEW) - 'stock')"
)
RUN = "EXECUTE FUNCTION recommender_catalog_changed()"

FORWARD = [
    f"CREATE TRIGGER {TABLE}_catalog_written AFTER INSERT OR DELETE OR TRUNCATE ON {TABLE} FOR EACH STATEMENT {RUN}",
    f"CREATE TRIGGER {TABLE}_catalog_updated AFTER UPDATE ON {TABLE} FOR EACH ROW WHEN ({VARIANT_CHANGED}) {RUN}",
    f"CREATE CONSTRAINT TRIGGER {TABLE}_catalog_committed AFTER INSERT OR DELETE ON {TABLE} "
    f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW {RUN}",
    f"CREATE CONSTRAINT TRIGGER {TABLE}_catalog_update_committed AFTER UPDATE ON {TABLE} "
    f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN ({VARIANT_CHANGED}) {RUN}",
]
BACKWARD = [
    f"DROP TRIGGER IF EXISTS {TABLE}_catalog_{name} ON {TABLE}"
    for name in ("written", "updated", "committed", "update_committed")
]


class Migration(migrations.Migration):
    dependencies = [
        ("recommender", "0012_vector_change_log"),
        ("shop", "0004_product_variants"),
    ]

    operations = [migrations.RunSQL(sql=FORWARD, reverse_sql=BACKWARD)]
