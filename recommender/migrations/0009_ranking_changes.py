"""A second counter: writes that can change a recommendation *ranking*.

``recommender_catalog_changes`` (migration 0007) counts every write that can change what a
section shows, a product's price or stock included. Most of those writes leave the rankings
alone: which products are nearest a product, and the curators' pins and blocks, depend only on
vectors, rules and categories. ``recommender_ranking_changes`` counts just those writes, the same
way (at the end of the statement and again at the writer's commit), so a ranking cached under it
survives price edits, stock changes and new products' rows; every shown list is still filtered
for what is on sale now, and its rows read fresh (``recommender.selectors.freshness``).
"""

from django.db import migrations

TABLES = (
    "shop_category",
    "recommender_complementrule",
    "recommender_complementvector",
    "recommender_garmentvector",
)
RUN = "EXECUTE FUNCTION recommender_ranking_changed()"

FORWARD = [
    "CREATE SEQUENCE IF NOT EXISTS recommender_ranking_changes",
    """
    CREATE OR REPLACE FUNCTION recommender_ranking_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM nextval('recommender_ranking_changes');
        RETURN NULL;
    END;
    $$
    """,
    *(
        statement
        for table in TABLES
        for statement in (
            f"CREATE TRIGGER {table}_ranking_written AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            f"FOR EACH STATEMENT {RUN}",
            f"CREATE CONSTRAINT TRIGGER {table}_ranking_committed AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW {RUN}",
        )
    ),
]

BACKWARD = [
    *(f"DROP TRIGGER IF EXISTS {table}_ranking_{name} ON {table}" for table in TABLES for name in ("written", "committed")),
    "DROP FUNCTION IF EXISTS recommender_ranking_changed()",
    "DROP SEQUENCE IF EXISTS recommender_ranking_changes",
]


class Migration(migrations.Migration):
    dependencies = [("recommender", "0008_street_support")]

    operations = [migrations.RunSQL(sql=FORWARD, reverse_sql=BACKWARD)]
