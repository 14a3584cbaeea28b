"""Colour science and the shop's colour vocabulary, with no Django: shared by the shop and the recommender."""
