"""Garment vectors in PostgreSQL (pgvector) and their indexing state."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from pgvector.django import HnswIndex, VectorField

from recommender.inference import LOOK_DIM  # the size is shared with ml/
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


class OutfitPhoto(models.Model):
    """A photo of a whole outfit: a street photo the recommender learns from, or a customer's photo to search by.

    Street photos teach which garments are worn together; a customer's photo goes through the
    same garment-cutting code, and is never used as a street outfit."""

    class Source(models.TextChoices):
        STREET_ANNOTATED = "street_annotated", "Street photo, pixel labels"
        STREET_TAGGED = "street_tagged", "Street photo, garment tags (segmented by our model)"
        CUSTOMER = "customer", "Customer photo"

    STREET_SOURCES = (Source.STREET_ANNOTATED, Source.STREET_TAGGED)

    source = models.CharField("source", max_length=20, choices=Source.choices)
    external_id = models.CharField(
        "external id", max_length=64, blank=True, help_text="The photo's id in its dataset (street photos)."
    )
    image = models.ImageField("photo", upload_to="outfits/", blank=True)
    image_sha256 = models.CharField("photo hash", max_length=64, blank=True)
    width = models.PositiveIntegerField("width", default=0)
    height = models.PositiveIntegerField("height", default=0)
    segmenter_version = models.CharField(
        "segmenter version", max_length=64, blank=True, help_text="Empty when the garments come from pixel labels."
    )
    created_at = models.DateTimeField("created", auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "outfit photo"
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~Q(source="customer"),
                name="outfit_photo_unique_street_id",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.external_id or self.pk}"


#: The slots an outfit garment can have; outerwear is a top whose fine label is a coat, jacket, blazer, …
GARMENT_SLOTS = ("top", "bottom", "dress", "outerwear")


def _street_garment_index(slot: str) -> HnswIndex:
    return HnswIndex(
        name=f"garment_{slot}_hnsw",
        fields=["embedding"],
        m=16,
        ef_construction=64,
        opclasses=["vector_cosine_ops"],
        condition=Q(slot=slot, is_street=True),
    )


class Garment(models.Model):
    """One garment cut out of an outfit photo: where it is, what it looks like, and its vector."""

    class Origin(models.TextChoices):
        ANNOTATION = "annotation", "Pixel labels"
        SEGMENTER = "segmenter", "Our segmenter"
        BOX = "box", "A box drawn by the customer"

    SLOTS = GARMENT_SLOTS

    photo = models.ForeignKey(OutfitPhoto, verbose_name="photo", on_delete=models.CASCADE, related_name="garments")
    slot = models.CharField("slot", max_length=20, choices=[(s, s.title()) for s in SLOTS])
    fine_label = models.CharField("fine label", max_length=40, blank=True, help_text="e.g. jeans, blazer, skirt.")
    origin = models.CharField("found by", max_length=12, choices=Origin.choices)
    is_street = models.BooleanField(
        "street outfit", default=False, editable=False, help_text="Part of a street outfit the recommender learns from."
    )
    bbox = models.JSONField("box", help_text="[x0, y0, x1, y1] in photo pixels; x1 and y1 exclusive.")
    pixel_share = models.FloatField("share of the photo")
    confidence = models.FloatField("confidence", default=1.0)
    crop = models.ImageField("white-filled crop", upload_to="garments/", blank=True)
    colour = models.JSONField(
        "colour statistics", default=dict, blank=True, help_text="CIELAB statistics of the garment's own pixels."
    )
    embedding = VectorField("embedding", dimensions=EMBEDDING_DIM, null=True, blank=True)
    embedder_version = models.CharField("embedder version", max_length=64, blank=True)
    created_at = models.DateTimeField("created", auto_now_add=True)

    class Meta:
        ordering = ["photo_id", "slot"]
        verbose_name = "garment"
        indexes = [_street_garment_index(slot) for slot in GARMENT_SLOTS]

    def __str__(self) -> str:
        return f"{self.slot} in {self.photo}"


class ComplementRule(models.Model):
    """A curator's word on one pairing: pin it (shown first, in the curator's order) or block it (never shown)."""

    class Kind(models.TextChoices):
        PIN = "pin", "Pin"
        BLOCK = "block", "Block"

    product = models.ForeignKey(
        Product, verbose_name="product", on_delete=models.CASCADE, related_name="complement_rules"
    )
    other = models.ForeignKey(
        Product, verbose_name="goes with", on_delete=models.CASCADE, related_name="complement_rules_as_other"
    )
    kind = models.CharField("rule", max_length=5, choices=Kind.choices)
    position = models.PositiveSmallIntegerField("position", default=0, help_text="Pins are shown in this order.")
    created_at = models.DateTimeField("created", auto_now_add=True)

    class Meta:
        ordering = ["product_id", "kind", "position", "pk"]
        verbose_name = "complement rule"
        constraints = [
            models.UniqueConstraint(fields=["product", "other"], name="complement_rule_one_per_pair"),
            models.CheckConstraint(condition=~Q(product=models.F("other")), name="complement_rule_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.other} for {self.product}"


#: Dimension of the complement model's query and candidate vectors (its manifest says the same).
COMPLEMENT_DIM = 164

#: Which catalog slots go with which: a top (or outerwear) gets bottoms, a bottom gets tops, a dress gets outerwear.
COMPLEMENT_TARGETS: dict[str, tuple[str, ...]] = {
    "top": ("bottom",),
    "outerwear": ("bottom",),
    "bottom": ("top", "outerwear"),
    "dress": ("outerwear",),
}


def _candidate_index(targets: tuple[str, ...]) -> HnswIndex:
    # One partial index per *question* ("tops and outerwear for a bottom"), so each section
    # is one HNSW query whose WHERE clause is the index's own condition: it returns k rows.
    return HnswIndex(
        name=f"complement_{'_'.join(targets)}_hnsw",
        fields=["candidate"],
        m=16,
        ef_construction=64,
        opclasses=["vector_cosine_ops"],
        condition=Q(slot__in=list(targets)),
    )


class ComplementVector(models.Model):
    """A product's two complement vectors: what it asks for (query) and how it answers (candidate).

    "Goes with" is the cosine between one product's query vector and another's candidate
    vector, so "Complete the look" is one pgvector HNSW query per section."""

    product = models.OneToOneField(
        Product, verbose_name="product", on_delete=models.CASCADE, related_name="complement_vector"
    )
    slot = models.CharField("slot", max_length=20, choices=Category.Slot.choices)
    query = VectorField("query vector", dimensions=COMPLEMENT_DIM)
    candidate = VectorField("candidate vector", dimensions=COMPLEMENT_DIM)
    model_version = models.CharField("model version", max_length=64, help_text="sha256 of the complement model.")
    image_sha256 = models.CharField("image hash", max_length=64, blank=True, help_text="The photo it was made from.")
    colour = models.JSONField("colour statistics", default=dict, blank=True)
    street_photos = ArrayField(
        models.BigIntegerField(),
        verbose_name="street outfits like it",
        default=list,
        blank=True,
        help_text="Street outfit photos whose garment of this slot is nearest the product's, nearest first.",
    )
    street_distances = ArrayField(
        models.FloatField(), verbose_name="their distances", default=list, blank=True, help_text="Cosine distances."
    )
    street_version = models.CharField(
        "street outfits' embedder",
        max_length=64,
        blank=True,
        help_text="The embedder the street neighbours were found with (empty: not looked up yet).",
    )
    updated_at = models.DateTimeField("updated", auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        verbose_name = "complement vector"
        indexes = [_candidate_index(targets) for targets in sorted(set(COMPLEMENT_TARGETS.values()))]

    def __str__(self) -> str:
        return f"Complement vectors of {self.product_id}"


class PhotoSearch(models.Model):
    """A customer's "shop by photo" search: their photo, the garments found in it and the catalog items for each.

    The id is a random UUID, so a search cannot be guessed from another's. The owner is a user,
    or an anonymous visitor through a random key kept in their session (``visitor_key``); a
    search with neither belongs to staff (the ``analyze_photo`` command). The job's state lives
    here, not in the broker: the pages and the API read ``status`` and ``progress``."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SEGMENTING = "segmenting", "Finding garments"
        EMBEDDING = "embedding", "Describing garments"
        MATCHING = "matching", "Finding items"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    class Channel(models.TextChoices):
        WEB = "web", "Web page"
        API = "api", "API"
        COMMAND = "command", "Operator command"

    #: How far along each state is, for the progress bar.
    PROGRESS = {"queued": 0, "segmenting": 10, "embedding": 60, "matching": 85, "done": 100, "failed": 100}
    RUNNING = (Status.QUEUED, Status.SEGMENTING, Status.EMBEDDING, Status.MATCHING)

    id = models.UUIDField("id", primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="customer",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="photo_searches",
    )
    visitor_key = models.CharField(
        "visitor key",
        max_length=32,
        blank=True,
        db_index=True,
        help_text="Random key kept in an anonymous visitor's session; empty for a signed-in customer's search.",
    )
    channel = models.CharField("channel", max_length=10, choices=Channel.choices, default=Channel.WEB)
    photo = models.OneToOneField(
        OutfitPhoto, verbose_name="photo", on_delete=models.CASCADE, related_name="search", null=True, blank=True
    )
    status = models.CharField("status", max_length=12, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField("progress (%)", default=0)
    error_code = models.CharField("error code", max_length=40, blank=True)
    error = models.CharField("failure reason", max_length=300, blank=True)
    timings = models.JSONField(
        "timings (ms)", default=dict, blank=True, help_text="Milliseconds per step: decode, segment, embed, match."
    )
    attempts = models.PositiveSmallIntegerField("attempts", default=0, help_text="Times a worker started the job.")
    created_at = models.DateTimeField("created", auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField("updated", auto_now=True)
    finished_at = models.DateTimeField("finished", null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "photo search"
        verbose_name_plural = "photo searches"
        indexes = [models.Index(fields=["user", "-created_at"], name="photo_search_user_idx")]

    def __str__(self) -> str:
        return f"Photo search {str(self.id)[:8]} ({self.status})"

    @property
    def is_running(self) -> bool:
        return self.status in self.RUNNING


class PhotoSearchMatch(models.Model):
    """What a photo search found for one of its garments: its outline and the catalog items, as ranked ids.

    The ids are ranked when the search runs; availability is filtered again whenever they are shown."""

    search = models.ForeignKey(PhotoSearch, verbose_name="search", on_delete=models.CASCADE, related_name="matches")
    garment = models.OneToOneField(
        Garment, verbose_name="garment", on_delete=models.CASCADE, related_name="search_match"
    )
    outline = models.JSONField(
        "outline", default=list, blank=True, help_text="Closed polygon [[x, y], ...] in photo pixels."
    )
    similar = models.JSONField("look-alikes", default=list, blank=True, help_text="Product ids, nearest first.")
    similar_cheaper = models.JSONField(
        "cheaper look-alikes",
        default=list,
        blank=True,
        help_text="Product ids priced below the nearest look-alike, nearest first.",
    )
    complements = models.JSONField("goes with", default=list, blank=True, help_text="Product ids, best first.")
    matched_at = models.DateTimeField("matched at", null=True, blank=True)

    class Meta:
        ordering = ["search_id", "garment__origin", "-garment__pixel_share", "pk"]
        verbose_name = "photo search match"
        verbose_name_plural = "photo search matches"

    def __str__(self) -> str:
        return f"{self.garment.slot} in {self.search}"
