"""Shared infrastructure below the shop and the recommender: dependency health, unavailability answers."""
