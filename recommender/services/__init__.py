"""Writes of the recommender, one module per feature (indexing, outfits, complements, photo searches)."""
