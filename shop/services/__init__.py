"""Writes: every change to the store goes through a function here."""
