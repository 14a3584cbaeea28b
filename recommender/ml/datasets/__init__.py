"""Readers for the datasets the models learn from (no Django here either)."""
