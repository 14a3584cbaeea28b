from django.urls import path

from recommender.api import SimilarProductsApi

urlpatterns = [
    path("products/<int:pk>/similar/", SimilarProductsApi.as_view(), name="api-product-similar"),
]
