from django.urls import path

from recommender.api import (
    PhotoSearchCropsApi,
    PhotoSearchDetailApi,
    PhotoSearchGarmentCropApi,
    PhotoSearchListApi,
    PhotoSearchPhotoApi,
    PhotoSearchRetryApi,
    ProductComplementsApi,
    SimilarProductsApi,
)

urlpatterns = [
    path("products/<int:pk>/complements/", ProductComplementsApi.as_view(), name="api-product-complements"),
    path("products/<int:pk>/similar/", SimilarProductsApi.as_view(), name="api-product-similar"),
    path("photo-searches/", PhotoSearchListApi.as_view(), name="api-photo-search-list"),
    path("photo-searches/<uuid:pk>/", PhotoSearchDetailApi.as_view(), name="api-photo-search-detail"),
    path("photo-searches/<uuid:pk>/crops/", PhotoSearchCropsApi.as_view(), name="api-photo-search-crops"),
    path("photo-searches/<uuid:pk>/retry/", PhotoSearchRetryApi.as_view(), name="api-photo-search-retry"),
    path("photo-searches/<uuid:pk>/photo/", PhotoSearchPhotoApi.as_view(), name="api-photo-search-photo"),
    path(
        "photo-searches/<uuid:pk>/garments/<int:garment_id>/crop/",
        PhotoSearchGarmentCropApi.as_view(),
        name="api-photo-search-garment-crop",
    ),
]
