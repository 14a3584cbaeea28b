from django.urls import path

from shop import views

app_name = "shop"

urlpatterns = [
    path("", views.home, name="home"),
    path("products/", views.product_list, name="product-list"),
    path("products/<slug:slug>/", views.product_detail, name="product-detail"),
    path("cart/", views.cart_detail, name="cart"),
    path("cart/add/<int:product_id>/", views.cart_add, name="cart-add"),
    path("cart/add-look/<int:product_id>/", views.cart_look_add, name="cart-add-look"),
    path("cart/update/<int:product_id>/", views.cart_update, name="cart-update"),
    path("cart/remove/<int:product_id>/", views.cart_remove, name="cart-remove"),
    path("checkout/", views.checkout, name="checkout"),
    path("orders/", views.order_list, name="order-list"),
    path("orders/<str:number>/", views.order_detail, name="order-detail"),
    path("accounts/signup/", views.sign_up, name="signup"),
]
