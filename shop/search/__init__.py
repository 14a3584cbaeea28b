"""Catalog search that speaks fashion: the words shoppers use, read as categories, colours and
patterns the shop measures (:mod:`shop.search.vocabulary`), matched and ranked in PostgreSQL
(:mod:`shop.search.query`)."""
