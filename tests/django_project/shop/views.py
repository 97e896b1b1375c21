"""Pages of the test shop that exist to be profiled: each list comes in a
slow form that loads related rows one query per object (the N+1 pattern the
proxy should report) and a fast form that loads them with
select_related()/prefetch_related() (which it should not). They return
JSON so that a driver can check what they loaded."""
from django.http import JsonResponse
from django.shortcuts import get_object_or_404

from .models import Order, Product


def _product_rows(products):
    # product.category is a forward foreign key: one query per product unless
    # the queryset used select_related('category').
    return [{"slug": p.slug, "category": p.category.name} for p in products]


def product_list(request):
    return JsonResponse({"products": _product_rows(Product.objects.all())})


def product_list_fast(request):
    return JsonResponse({"products": _product_rows(Product.objects.select_related("category"))})


def _order_rows(orders):
    # order.items is the reverse side of OrderItem.order (related_name
    # "items"): one query per order unless prefetched.
    return [{"id": o.id, "items": [[i.product_id, i.quantity] for i in o.items.all()]}
            for o in orders]


def order_list(request):
    return JsonResponse({"orders": _order_rows(Order.objects.all())})


def order_list_fast(request):
    return JsonResponse({"orders": _order_rows(Order.objects.prefetch_related("items"))})


def product_detail(request, slug):
    # One product and its category per request: a loop over products that
    # issues one request each is not an N+1 inside any request.
    p = get_object_or_404(Product, slug=slug)
    return JsonResponse({"slug": p.slug, "category": p.category.name})
