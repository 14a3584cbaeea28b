"""Training, evaluation and benchmarks: everything a web process never runs (see ``apps.py``)."""
