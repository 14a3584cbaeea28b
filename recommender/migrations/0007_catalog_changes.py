"""A counter of catalog writes, advanced by PostgreSQL itself.

Every write that can change what a recommendation section shows advances the sequence
``recommender_catalog_changes``, whatever wrote it: the ORM, bulk ``UPDATE``s, the checkout's
conditional stock update, raw SQL. It advances when the statement ends (so the writer's own
transaction reads fresh results) and again at the writer's commit (so a reader that cached
the old rows between the two is not trusted either). A product's stock moving while it stays
in stock does not count: the sections show "sold out or not", never the number, so orders
keep the cache warm. Cached results carry the counter in their key
(``recommender.selectors.freshness``): a write makes them unreachable. Sequences take no row
locks, so concurrent checkouts never wait on the counter.
"""

from django.db import migrations

TABLES = (
    "shop_category",
    "recommender_complementrule",
    "recommender_complementvector",
    "recommender_garmentvector",
)
#: A product update counts unless only its stock level (in stock either way) or timestamps moved.
PRODUCT_CHANGED = (
    "(OLD.stock > 0) IS DISTINCT FROM (NEW.stock > 0) OR "
    "(to_jsonb(OLD) - 'stock' - 'updated_at') IS DISTINCT FROM (to_jsonb(NEW) - 'stock' - 'updated_at')"
)
RUN = "EXECUTE FUNCTION recommender_catalog_changed()"

FORWARD = [
    "CREATE SEQUENCE IF NOT EXISTS recommender_catalog_changes",
    """
    CREATE OR REPLACE FUNCTION recommender_catalog_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM nextval('recommender_catalog_changes');
        RETURN NULL;
    END;
    $$
    """,
    *(
        statement
        for table in TABLES
        for statement in (
            f"CREATE TRIGGER {table}_catalog_written AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            f"FOR EACH STATEMENT {RUN}",
            f"CREATE CONSTRAINT TRIGGER {table}_catalog_committed AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW {RUN}",
        )
    ),
    f"CREATE TRIGGER shop_product_catalog_written AFTER INSERT OR DELETE OR TRUNCATE ON shop_product "
    f"FOR EACH STATEMENT {RUN}",
    f"CREATE TRIGGER shop_product_catalog_updated AFTER UPDATE ON shop_product "
    f"FOR EACH ROW WHEN ({PRODUCT_CHANGED}) {RUN}",
    f"CREATE CONSTRAINT TRIGGER shop_product_catalog_committed AFTER INSERT OR DELETE ON shop_product "
    f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW {RUN}",
    f"CREATE CONSTRAINT TRIGGER shop_product_catalog_update_committed AFTER UPDATE ON shop_product "
    f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN ({PRODUCT_CHANGED}) {RUN}",
]

BACKWARD = [
    *(
        f"DROP TRIGGER IF EXISTS {table}_catalog_{name} ON {table}"
        for table in (*TABLES, "shop_product")
        for name in ("written", "committed", "updated", "update_committed")
    ),
    "DROP FUNCTION IF EXISTS recommender_catalog_changed()",
    "DROP SEQUENCE IF EXISTS recommender_catalog_changes",
]


class Migration(migrations.Migration):
    dependencies = [
        ("recommender", "0006_complement_dim_32"),
        ("shop", "0003_product_colours"),
    ]

    operations = [migrations.RunSQL(sql=FORWARD, reverse_sql=BACKWARD)]
