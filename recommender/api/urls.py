from django.urls import path

from recommender.api import views

urlpatterns = [
    path("products/<int:pk>/complements/", views.ProductComplementsApi.as_view(), name="api-product-complements"),
    path("products/<int:pk>/similar/", views.SimilarProductsApi.as_view(), name="api-product-similar"),
    path("photo-searches/", views.PhotoSearchListApi.as_view(), name="api-photo-search-list"),
    path("photo-searches/<uuid:pk>/", views.PhotoSearchDetailApi.as_view(), name="api-photo-search-detail"),
    path("photo-searches/<uuid:pk>/crops/", views.PhotoSearchCropsApi.as_view(), name="api-photo-search-crops"),
    path("photo-searches/<uuid:pk>/retry/", views.PhotoSearchRetryApi.as_view(), name="api-photo-search-retry"),
    path("photo-searches/<uuid:pk>/photo/", views.PhotoSearchPhotoApi.as_view(), name="api-photo-search-photo"),
    path(
        "photo-searches/<uuid:pk>/garments/<int:garment_id>/crop/",
        views.PhotoSearchGarmentCropApi.as_view(),
        name="api-photo-search-garment-crop",
    ),
]
