from django.apps import AppConfig


class TrainingConfig(AppConfig):
    """Research code apart from the served apps: training, evaluation harnesses, benchmarks and GPU runs.

    It may import ``recommender.ml`` and the apps; nothing served imports it. It is installed in the
    local and test settings (for its ``evaluate_*``, ``benchmark_*``, ``audit_complements`` and
    ``complement_panel`` commands), never in production."""

    name = "training"
    verbose_name = "Training and evaluation"
