from django.urls import path

from shop.api import views

urlpatterns = [
    path("auth/token/", views.TokenApi.as_view(), name="api-token"),
    path("auth/signup/", views.SignUpApi.as_view(), name="api-signup"),
    path("products/", views.ProductListApi.as_view(), name="api-product-list"),
    path("products/<int:pk>/", views.ProductDetailApi.as_view(), name="api-product-detail"),
    path("products/<int:pk>/image/", views.ProductImageApi.as_view(), name="api-product-image"),
    path("categories/", views.CategoryListApi.as_view(), name="api-category-list"),
    path("cart/", views.CartApi.as_view(), name="api-cart"),
    path("cart/items/<int:product_id>/", views.CartItemApi.as_view(), name="api-cart-item"),
    path("orders/", views.OrderListApi.as_view(), name="api-order-list"),
    path("orders/<str:number>/", views.OrderDetailApi.as_view(), name="api-order-detail"),
]
