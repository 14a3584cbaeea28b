"""Complement vectors grow from 32 to 164 numbers (64 learnt, then the garment's 100-bin colour histogram).

The stored vectors were made by the previous complement model and cannot be cast to the new size:
they are removed first. They are derived data: every product with a slot that has complements is
then "missing complement vectors" and the next ``manage.py reindex`` (or the indexing task) makes
them with the model in service.
"""

import pgvector.django.vector
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("recommender", "0009_ranking_changes")]

    operations = [
        # TRUNCATE, not DELETE: no row triggers left pending for the ALTER below (the statement trigger still
        # advances the change counters, so nothing cached from the old vectors is served).
        migrations.RunSQL("TRUNCATE recommender_complementvector", reverse_sql=migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="complementvector",
            name="candidate",
            field=pgvector.django.vector.VectorField(dimensions=164, verbose_name="candidate vector"),
        ),
        migrations.AlterField(
            model_name="complementvector",
            name="query",
            field=pgvector.django.vector.VectorField(dimensions=164, verbose_name="query vector"),
        ),
    ]
