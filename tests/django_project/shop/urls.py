"""URLs of the test shop's profiled pages (shop/views.py); the URLconf of
shopsite/settings_n1.py. The route strings are what the sqlcommenter
middleware reports as `route`."""
from django.urls import path

from . import views

urlpatterns = [
    path("products/", views.product_list, name="product_list"),
    path("products-fast/", views.product_list_fast, name="product_list_fast"),
    path("products/<slug:slug>/", views.product_detail, name="product_detail"),
    path("orders/", views.order_list, name="order_list"),
    path("orders-fast/", views.order_list_fast, name="order_list_fast"),
]
