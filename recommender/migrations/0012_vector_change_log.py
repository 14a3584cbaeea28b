"""Vector writes are logged per product instead of invalidating every cached ranking.

Before, any write to a garment or complement vector (one new product indexed) advanced
``recommender_ranking_changes`` and made every cached ranking in the shop unreachable: the next
visit to every product page searched the vectors again. Now each written row logs its product and
slot (before and after) in ``recommender_vector_change`` (with the writing transaction's id), and the sequence
``recommender_vector_changes`` advances at the end of the statement and again at the writer's
commit. A cached ranking remembers the log's head and the snapshot it was computed under; a reader
that finds the sequence moved merges the logged products into the ranking (their distances are read
for just those rows, ``recommender.selectors.freshness``) instead of searching again.

A ``TRUNCATE`` of a vector table logs no rows: it still advances the rankings' counter, and so do
categories (migration 0009) and ``vectors_changed()`` (a re-indexing, new street outfits).
"""

from django.db import migrations

TABLES = ("recommender_complementvector", "recommender_garmentvector")

FORWARD = [
    """
    CREATE TABLE recommender_vector_change (
        id bigserial PRIMARY KEY,
        product_id bigint NOT NULL,
        slot varchar(16) NOT NULL,
        txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
        written_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX recommender_vector_change_txid ON recommender_vector_change (txid)",
    "CREATE INDEX recommender_vector_change_written_at ON recommender_vector_change (written_at)",
    "CREATE SEQUENCE IF NOT EXISTS recommender_vector_changes",
    """
    CREATE OR REPLACE FUNCTION recommender_vector_logged() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            INSERT INTO recommender_vector_change (product_id, slot) VALUES (OLD.product_id, OLD.slot);
        END IF;
        IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND (NEW.product_id, NEW.slot) IS DISTINCT FROM (OLD.product_id, OLD.slot)) THEN
            INSERT INTO recommender_vector_change (product_id, slot) VALUES (NEW.product_id, NEW.slot);
        END IF;
        RETURN NULL;
    END;
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION recommender_vectors_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM nextval('recommender_vector_changes');
        RETURN NULL;
    END;
    $$
    """,
    *(
        statement
        for table in TABLES
        for statement in (
            f"DROP TRIGGER IF EXISTS {table}_ranking_written ON {table}",
            f"DROP TRIGGER IF EXISTS {table}_ranking_committed ON {table}",
            f"CREATE TRIGGER {table}_ranking_truncated AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION recommender_ranking_changed()",
            f"CREATE TRIGGER {table}_vector_logged AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION recommender_vector_logged()",
            f"CREATE TRIGGER {table}_vectors_written AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION recommender_vectors_changed()",
            f"CREATE CONSTRAINT TRIGGER {table}_vectors_committed AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION recommender_vectors_changed()",
        )
    ),
]

BACKWARD = [
    *(
        statement
        for table in TABLES
        for statement in (
            *(
                f"DROP TRIGGER IF EXISTS {table}_{name} ON {table}"
                for name in ("ranking_truncated", "vector_logged", "vectors_written", "vectors_committed")
            ),
            f"CREATE TRIGGER {table}_ranking_written AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION recommender_ranking_changed()",
            f"CREATE CONSTRAINT TRIGGER {table}_ranking_committed AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION recommender_ranking_changed()",
        )
    ),
    "DROP FUNCTION IF EXISTS recommender_vectors_changed()",
    "DROP FUNCTION IF EXISTS recommender_vector_logged()",
    "DROP SEQUENCE IF EXISTS recommender_vector_changes",
    "DROP TABLE IF EXISTS recommender_vector_change",
]


class Migration(migrations.Migration):
    dependencies = [("recommender", "0011_rules_leave_rankings")]

    operations = [migrations.RunSQL(sql=FORWARD, reverse_sql=BACKWARD)]
