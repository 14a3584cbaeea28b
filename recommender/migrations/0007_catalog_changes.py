"""A counter of catalog writes, bumped by PostgreSQL itself.

Every write to products, categories, curator rules or vectors advances the sequence
``recommender_catalog_changes``, whatever wrote it: the ORM, bulk ``UPDATE``s, the checkout's
conditional stock update, raw SQL. It advances when the statement ends (so the writer's own
transaction reads fresh results) and again at the writer's commit (so a reader that cached
the old rows between the two is not trusted either). Cached product-page results
carry the value in their key (``recommender.selectors.freshness``): a write makes them
unreachable. Sequences take no row locks, so concurrent checkouts never wait on the counter.
"""

from django.db import migrations

TABLES = (
    "shop_product",
    "shop_category",
    "recommender_complementrule",
    "recommender_complementvector",
    "recommender_garmentvector",
)

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
        f"CREATE CONSTRAINT TRIGGER {table}_catalog_changed AFTER INSERT OR UPDATE OR DELETE ON {table} "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION recommender_catalog_changed()"
        for table in TABLES
    ),
    *(
        f"CREATE TRIGGER {table}_catalog_written AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION recommender_catalog_changed()"
        for table in TABLES
    ),
]

BACKWARD = [
    *(f"DROP TRIGGER IF EXISTS {table}_catalog_changed ON {table}" for table in TABLES),
    *(f"DROP TRIGGER IF EXISTS {table}_catalog_written ON {table}" for table in TABLES),
    "DROP FUNCTION IF EXISTS recommender_catalog_changed()",
    "DROP SEQUENCE IF EXISTS recommender_catalog_changes",
]


class Migration(migrations.Migration):
    dependencies = [
        ("recommender", "0006_complement_dim_32"),
        ("shop", "0003_product_colours"),
    ]

    operations = [migrations.RunSQL(sql=FORWARD, reverse_sql=BACKWARD)]
