"""The recommender's machine-learning core.

Nothing in this package imports Django: it takes paths, PIL images and arrays,
and returns arrays and plain dataclasses. The Django side (``recommender``)
calls into it; never the other way round.
"""
