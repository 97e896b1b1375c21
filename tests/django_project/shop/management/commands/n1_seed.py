"""`manage.py n1_seed`: migrates the configured database and fills it with
the fixed data set of the N+1 tests: 5 categories, 30 products (6 per
category), 2 users and 10 orders of 3 items each. Meant for a fresh, empty
database; refuses to add a second copy. Prints the counts as JSON."""
import json
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from shop.models import Category, Order, OrderItem, Product

CATEGORIES = 5
PRODUCTS = 30
ORDERS = 10
ITEMS_PER_ORDER = 3


class Command(BaseCommand):
    help = "Migrate and seed the N+1 test data set into an empty database."

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        if Product.objects.exists() or Order.objects.exists():
            raise CommandError("the database already has shop data; seed a fresh one")
        with transaction.atomic():
            cats = Category.objects.bulk_create(
                [Category(name=f"Category {i}") for i in range(1, CATEGORIES + 1)])
            cats = list(Category.objects.order_by("id"))  # MySQL returns no ids from bulk_create
            Product.objects.bulk_create([
                Product(category=cats[i % CATEGORIES], name=f"Product {i:02d}",
                        slug=f"product-{i:02d}", price=Decimal(10 + i) + Decimal("0.50"),
                        stock=100)
                for i in range(PRODUCTS)])
            products = list(Product.objects.order_by("id"))
            User = get_user_model()
            users = [User.objects.create(username=f"buyer{i}") for i in (1, 2)]
            items = []
            for n in range(ORDERS):
                order = Order.objects.create(user=users[n % 2])
                for k in range(ITEMS_PER_ORDER):
                    p = products[(n * ITEMS_PER_ORDER + k) % PRODUCTS]
                    items.append(OrderItem(order=order, product=p, quantity=k + 1,
                                           unit_price=p.price))
            OrderItem.objects.bulk_create(items)
        self.stdout.write(json.dumps({
            "categories": Category.objects.count(), "products": Product.objects.count(),
            "orders": Order.objects.count(), "items": OrderItem.objects.count()}))
