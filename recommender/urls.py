from django.urls import path

from recommender import views

app_name = "recommender"

urlpatterns = [
    path("shop-by-photo/", views.photo_search_home, name="photo-search-home"),
    path("shop-by-photo/<uuid:pk>/", views.photo_search_detail, name="photo-search-detail"),
    path("shop-by-photo/<uuid:pk>/delete/", views.photo_search_remove, name="photo-search-delete"),
]
