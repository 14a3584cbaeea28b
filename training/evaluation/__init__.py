"""Evaluation harnesses that need the catalog (Django side): blind panels for human raters."""
