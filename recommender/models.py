"""Garment vectors in PostgreSQL (pgvector) and their indexing state."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from pgvector.django import HnswIndex, VectorField

from recommender.ml.colour.look import LOOK_DIM  # noqa: E402  (no Django in ml/; the size is shared)
from shop.models import Category, Product

EMBEDDING_DIM = 512


def _slot_index(slot: str) -> HnswIndex:
    # pgvector applies WHERE filters *after* the HNSW scan, so one index over every slot
    # would return fewer than k rows for a slot-filtered query. One partial index per
    # slot makes the slot filter part of the index itself.
    return HnswIndex(
        name=f"garment_vec_{slot}_hnsw",
        fields=["embedding"],
        m=16,
        ef_construction=64,
        opclasses=["vector_cosine_ops"],
        condition=Q(slot=slot),
    )


class GarmentVector(models.Model):
    """A catalog product's 512-d garment vector, with the model version that made it.

    One row per product, created as soon as the product needs indexing, so curators
    see every product's state: pending, indexed or failed (with the reason).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        INDEXED = "indexed", "Indexed"
        FAILED = "failed", "Failed"

    product = models.OneToOneField(
        Product, verbose_name="product", on_delete=models.CASCADE, related_name="garment_vector"
    )
    slot = models.CharField("slot", max_length=20, choices=Category.Slot.choices)
    embedding = VectorField("embedding", dimensions=EMBEDDING_DIM, null=True, blank=True)
    model_version = models.CharField(
        "model version", max_length=64, blank=True, help_text="sha256 of the weights that made the vector."
    )
    image_sha256 = models.CharField("image hash", max_length=64, blank=True, help_text="The photo it was made from.")
    status = models.CharField("status", max_length=10, choices=Status.choices, default=Status.PENDING)
    error = models.CharField("failure reason", max_length=300, blank=True)
    attempts = models.PositiveIntegerField("attempts", default=0)
    indexed_at = models.DateTimeField("indexed at", null=True, blank=True)
    updated_at = models.DateTimeField("updated", auto_now=True)
    category = models.ForeignKey(
        Category,
        verbose_name="category",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The product's category when it was indexed: similar items come from the same one first.",
    )
    look = VectorField(
        "look vector",
        dimensions=LOOK_DIM,
        null=True,
        blank=True,
        help_text="Weighted concatenation of the embedding, the colour signature and the pattern (look-alikes).",
    )
    look_version = models.CharField(
        "look version",
        max_length=64,
        blank=True,
        help_text="Embedder, look weights and colour features that made the look vector.",
    )

    class Meta:
        ordering = ["-updated_at"]
        verbose_name = "garment vector"
        indexes = [_slot_index(slot) for slot in Category.Slot.values] + [
            models.Index(fields=["status", "model_version"], name="garment_vec_state_idx"),
            # One index over every category: pgvector ≥ 0.8's iterative scan (hnsw.iterative_scan)
            # keeps a category- or slot-filtered query going until it has k rows.
            HnswIndex(
                name="garment_vec_look_hnsw",
                fields=["look"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            ),
        ]

    def __str__(self) -> str:
        return f"Vector of {self.product_id} ({self.status})"
