"""Reads of the recommender, one module per feature (similar items, complements, photo searches, models)."""
