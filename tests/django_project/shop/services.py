"""Shop operations that span several rows: placing and cancelling orders.
Each runs in one transaction and locks the products it changes."""
from django.db import transaction
from django.db.models import F

from .models import Order, OrderItem, Product


class OutOfStock(Exception):
    """A line asks for more units than the product has."""


def place_order(user, lines):
    """lines: iterable of (product_id, quantity). Creates a pending order,
    takes the units from stock, and returns the order; on any error nothing
    is written."""
    lines = list(lines)
    with transaction.atomic():
        order = Order.objects.create(user=user)
        ids = sorted({pid for pid, _ in lines})
        # Lock in id order so that concurrent orders cannot deadlock.
        products = {p.id: p for p in Product.objects.select_for_update().filter(id__in=ids)
                    .order_by("id")}
        for pid, qty in lines:
            product = products[pid]
            # Create the item first: a shortage found later still rolls it back.
            OrderItem.objects.create(order=order, product=product, quantity=qty,
                                     unit_price=product.price)
            if product.stock < qty:
                raise OutOfStock(f"{product.slug}: {product.stock} left, {qty} wanted")
            Product.objects.filter(id=pid).update(stock=F("stock") - qty)
            product.stock -= qty
        return order


def cancel_order(order_id):
    """Marks a pending order cancelled and returns its units to stock."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(id=order_id)
        if order.status != Order.PENDING:
            raise ValueError(f"order {order_id} is {order.status}")
        for item in order.items.all():
            Product.objects.filter(id=item.product_id).update(stock=F("stock") + item.quantity)
        order.status = Order.CANCELLED
        order.save(update_fields=["status"])
        return order
