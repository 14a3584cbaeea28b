from django.urls import path

from recommender.api import ProductComplementsApi, SimilarProductsApi

urlpatterns = [
    path("products/<int:pk>/complements/", ProductComplementsApi.as_view(), name="api-product-complements"),
    path("products/<int:pk>/similar/", SimilarProductsApi.as_view(), name="api-product-similar"),
]
