"""Curators' rules no longer advance the rankings' counter.

A pin or a block changes one product's "Complete the look", not which products are nearest any
other: the rules are now read with each result (one query), which the catalog's counter
(migration 0007) still refreshes at once. Before, every pin invalidated every cached ranking in
the shop, and the next visit to each product page searched the vectors again.
"""

from django.db import migrations

TABLE = "recommender_complementrule"
RUN = "EXECUTE FUNCTION recommender_ranking_changed()"

FORWARD = [
    f"DROP TRIGGER IF EXISTS {TABLE}_ranking_written ON {TABLE}",
    f"DROP TRIGGER IF EXISTS {TABLE}_ranking_committed ON {TABLE}",
]

BACKWARD = [
    f"CREATE TRIGGER {TABLE}_ranking_written AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {TABLE} "
    f"FOR EACH STATEMENT {RUN}",
    f"CREATE CONSTRAINT TRIGGER {TABLE}_ranking_committed AFTER INSERT OR UPDATE OR DELETE ON {TABLE} "
    f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW {RUN}",
]


class Migration(migrations.Migration):
    dependencies = [("recommender", "0010_complement_dim_164")]

    operations = [migrations.RunSQL(sql=FORWARD, reverse_sql=BACKWARD)]
