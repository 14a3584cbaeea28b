from django.apps import AppConfig


class RecommenderConfig(AppConfig):
    name = "recommender"
    verbose_name = "Recommender"

    def ready(self) -> None:
        """Hook into the shop, which never imports the recommender: its product signals, its photo
        analysis (:mod:`shop.photo_analysis`) and its product page's sections (:mod:`shop.sections`)."""
        from recommender import receivers  # noqa: F401  (connects the indexing of changed products)
        from recommender.services.photo_analysis import photo_analyse
        from recommender.views import product_page_sections
        from shop import photo_analysis, sections

        photo_analysis.register(photo_analyse)
        sections.register(product_page_sections, template="recommender/product_sections.html")
