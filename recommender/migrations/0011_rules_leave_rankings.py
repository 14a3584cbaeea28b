"""Curators' rules get their own counter and no longer advance the rankings' counter.

A pin or a block changes one product's "Complete the look", not which products are nearest any
other. The rules are cached apart from the rankings, under ``recommender_rule_changes``, which only
writes to the rules advance (the same way as the other counters: at the end of the statement and
again at the writer's commit); the catalog's counter (migration 0007) still refreshes every shown
list at once. Before, every pin invalidated every cached ranking in the shop, and the next visit to
each product page searched the vectors again.
"""

from django.db import migrations

TABLE = "recommender_complementrule"
RANKING = "EXECUTE FUNCTION recommender_ranking_changed()"
RULES = "EXECUTE FUNCTION recommender_rules_changed()"


def _triggers(name: str, run: str) -> list[str]:
    return [
        f"CREATE TRIGGER {TABLE}_{name}_written AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {TABLE} "
        f"FOR EACH STATEMENT {run}",
        f"CREATE CONSTRAINT TRIGGER {TABLE}_{name}_committed AFTER INSERT OR UPDATE OR DELETE ON {TABLE} "
        f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW {run}",
    ]


def _drop(name: str) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {TABLE}_{name}_{when} ON {TABLE}" for when in ("written", "committed")]


FORWARD = [
    *_drop("ranking"),
    "CREATE SEQUENCE IF NOT EXISTS recommender_rule_changes",
    """
    CREATE OR REPLACE FUNCTION recommender_rules_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM nextval('recommender_rule_changes');
        RETURN NULL;
    END;
    $$
    """,
    *_triggers("rules", RULES),
]

BACKWARD = [
    *_drop("rules"),
    "DROP FUNCTION IF EXISTS recommender_rules_changed()",
    "DROP SEQUENCE IF EXISTS recommender_rule_changes",
    *_triggers("ranking", RANKING),
]


class Migration(migrations.Migration):
    dependencies = [("recommender", "0010_complement_dim_164")]

    operations = [migrations.RunSQL(sql=FORWARD, reverse_sql=BACKWARD)]
