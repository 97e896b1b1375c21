"""The test shop's own test suite, as a developer of the shop would write it:
models, queries, constraints, transactions, locking and auth users. It runs
with `manage.py test` against whatever server the settings point at (the
querylens proxy in tests/integration/test_django_project.py)."""
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Q, Sum
from django.db.models.deletion import ProtectedError
from django.db.transaction import TransactionManagementError
from django.test import TestCase, TransactionTestCase
from django.utils import timezone

from .models import Category, Order, OrderItem, Product
from .services import OutOfStock, cancel_order, place_order

User = get_user_model()


def make_catalogue():
    """Two categories, four products; returns them by slug."""
    books = Category.objects.create(name="Books")
    tools = Category.objects.create(name="Tools")
    products = [
        Product.objects.create(category=books, name="SQL Basics", slug="sql-basics",
                               price=Decimal("29.90"), stock=10),
        Product.objects.create(category=books, name="Query Tuning", slug="query-tuning",
                               price=Decimal("45.00"), stock=3),
        Product.objects.create(category=tools, name="Hammer", slug="hammer",
                               price=Decimal("12.50"), stock=40),
        Product.objects.create(category=tools, name="Wrench", slug="wrench",
                               price=Decimal("8.75"), stock=0),
    ]
    return {"books": books, "tools": tools, **{p.slug: p for p in products}}


class CatalogueTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.c = make_catalogue()

    def test_crud_category(self):
        cat = Category.objects.create(name="Garden")
        self.assertIsNotNone(cat.pk)
        self.assertEqual(Category.objects.get(pk=cat.pk).name, "Garden")
        cat.name = "Garden & Outdoor"
        cat.save()
        self.assertEqual(Category.objects.get(pk=cat.pk).name, "Garden & Outdoor")
        cat.delete()
        self.assertFalse(Category.objects.filter(name__startswith="Garden").exists())

    def test_crud_product_fields_round_trip(self):
        p = Product.objects.create(category=self.c["tools"], name="Saw", slug="saw",
                                   price=Decimal("19.99"), stock=7)
        got = Product.objects.get(slug="saw")
        self.assertEqual((got.name, got.price, got.stock, got.category_id),
                         ("Saw", Decimal("19.99"), 7, self.c["tools"].id))
        Product.objects.filter(pk=p.pk).delete()
        with self.assertRaises(Product.DoesNotExist):
            Product.objects.get(slug="saw")

    def test_unique_slug_violation_raises_integrity_error(self):
        with self.assertRaises(IntegrityError):
            with transaction.atomic():
                Product.objects.create(category=self.c["books"], name="Copy", slug="sql-basics",
                                       price=Decimal("1.00"))
        # The savepoint rollback leaves the connection usable.
        self.assertEqual(Product.objects.filter(slug="sql-basics").count(), 1)

    def test_unique_category_name_violation_raises_integrity_error(self):
        with self.assertRaises(IntegrityError):
            with transaction.atomic():
                Category.objects.create(name="Books")
        self.assertEqual(Category.objects.count(), 2)

    def test_protected_category_cannot_be_deleted(self):
        with self.assertRaises(ProtectedError):
            self.c["books"].delete()
        self.assertTrue(Category.objects.filter(pk=self.c["books"].pk).exists())

    def test_unicode_names_round_trip(self):
        name = "Bücher 📚 книги"
        Category.objects.create(name=name)
        self.assertEqual(Category.objects.get(name=name).name, name)

    def test_filters_q_objects_and_ordering(self):
        cheap_or_empty = Product.objects.filter(Q(price__lt=Decimal("10")) | Q(stock=0))
        self.assertEqual(list(cheap_or_empty.values_list("slug", flat=True)), ["wrench"])
        books = Product.objects.filter(category__name="Books").order_by("-price")
        self.assertEqual([p.slug for p in books], ["query-tuning", "sql-basics"])
        self.assertEqual(Product.objects.filter(name__icontains="sql").count(), 1)
        self.assertEqual(
            list(Product.objects.filter(price__range=(Decimal("10"), Decimal("30")))
                 .exclude(slug="hammer").values_list("slug", flat=True)),
            ["sql-basics"])
        self.assertEqual(list(Product.objects.filter(slug__in=["hammer", "nope"])),
                         [self.c["hammer"]])

    def test_select_related_uses_one_query(self):
        with self.assertNumQueries(1):
            names = [(p.slug, p.category.name) for p in Product.objects.select_related("category")]
        self.assertEqual(names, [("hammer", "Tools"), ("query-tuning", "Books"),
                                 ("sql-basics", "Books"), ("wrench", "Tools")])

    def test_prefetch_related_uses_two_queries(self):
        with self.assertNumQueries(2):
            cats = {c.name: sorted(p.slug for p in c.products.all())
                    for c in Category.objects.prefetch_related("products")}
        self.assertEqual(cats, {"Books": ["query-tuning", "sql-basics"],
                                "Tools": ["hammer", "wrench"]})

    def test_aggregate_sum_and_count(self):
        totals = Product.objects.aggregate(units=Sum("stock"), n=Count("id"))
        self.assertEqual(totals, {"units": 53, "n": 4})
        per_cat = Category.objects.annotate(n=Count("products"), units=Sum("products__stock"))
        self.assertEqual([(c.name, c.n, c.units) for c in per_cat],
                         [("Books", 2, 13), ("Tools", 2, 40)])
        in_stock = Category.objects.filter(products__stock__gt=0).annotate(n=Count("products"))
        self.assertEqual({c.name: c.n for c in in_stock}, {"Books": 2, "Tools": 1})

    def test_f_expression_decrements_stock_in_the_database(self):
        p = self.c["hammer"]
        updated = Product.objects.filter(pk=p.pk, stock__gte=5).update(stock=F("stock") - 5)
        self.assertEqual(updated, 1)
        p.refresh_from_db()
        self.assertEqual(p.stock, 35)
        # The guard keeps stock from going below zero.
        self.assertEqual(Product.objects.filter(pk=p.pk, stock__gte=100)
                         .update(stock=F("stock") - 100), 0)
        p.refresh_from_db()
        self.assertEqual(p.stock, 35)

    def test_update_reports_matched_rows_even_when_unchanged(self):
        # Django's MySQL backend asks for CLIENT_FOUND_ROWS: rows matched, not changed.
        self.assertEqual(Product.objects.filter(category=self.c["books"]).update(stock=F("stock")),
                         2)

    def test_bulk_create_and_bulk_update(self):
        cat = Category.objects.create(name="Bulk")
        Product.objects.bulk_create(
            [Product(category=cat, name=f"Item {i}", slug=f"item-{i}", price=Decimal(i), stock=i)
             for i in range(1, 21)])
        items = list(Product.objects.filter(category=cat).order_by("stock"))
        self.assertEqual(len(items), 20)
        for p in items:
            p.stock *= 10
            p.price += Decimal("0.50")
        Product.objects.bulk_update(items, ["stock", "price"], batch_size=7)
        agg = Product.objects.filter(category=cat).aggregate(units=Sum("stock"), money=Sum("price"))
        self.assertEqual(agg, {"units": 2100, "money": Decimal("220.00")})

    def test_get_or_create_and_update_or_create(self):
        cat, created = Category.objects.get_or_create(name="Books")
        self.assertFalse(created)
        self.assertEqual(cat, self.c["books"])
        cat, created = Category.objects.get_or_create(name="Music")
        self.assertTrue(created)
        p, created = Product.objects.update_or_create(
            slug="hammer", defaults={"price": Decimal("13.00")})
        self.assertFalse(created)
        self.assertEqual(Product.objects.get(slug="hammer").price, Decimal("13.00"))

    def test_raw_sql_with_params(self):
        with connection.cursor() as cur:
            cur.execute(f"SELECT slug, stock FROM {Product._meta.db_table} "
                        "WHERE price > %s AND slug <> %s ORDER BY slug",
                        [Decimal("10"), "hammer"])
            rows = cur.fetchall()
        self.assertEqual(rows, (("query-tuning", 3), ("sql-basics", 10)))
        raw = Product.objects.raw(f"SELECT * FROM {Product._meta.db_table} WHERE slug = %s",
                                  ["wrench"])
        self.assertEqual([p.name for p in raw], ["Wrench"])
        # A parameter that looks like SQL stays data.
        with connection.cursor() as cur:
            cur.execute(f"SELECT COUNT(*) FROM {Product._meta.db_table} WHERE slug = %s",
                        ["x' OR '1'='1"])
            self.assertEqual(cur.fetchone(), (0,))


class OrderTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.c = make_catalogue()
        cls.alice = User.objects.create_user("alice", "alice@example.com", "wonderland")

    def test_place_order_takes_stock_with_select_for_update(self):
        order = place_order(self.alice, [(self.c["sql-basics"].id, 2), (self.c["hammer"].id, 4)])
        self.assertEqual(order.status, Order.PENDING)
        self.assertEqual(order.items.count(), 2)
        self.assertEqual(order.total(), Decimal("109.80"))
        self.assertEqual(Product.objects.get(slug="sql-basics").stock, 8)
        self.assertEqual(Product.objects.get(slug="hammer").stock, 36)

    def test_out_of_stock_rolls_back_the_whole_order(self):
        orders_before = Order.objects.count()
        with self.assertRaises(OutOfStock):
            place_order(self.alice, [(self.c["hammer"].id, 1), (self.c["query-tuning"].id, 4)])
        self.assertEqual(Order.objects.count(), orders_before)
        self.assertFalse(OrderItem.objects.exists())
        self.assertEqual(Product.objects.get(slug="hammer").stock, 40)

    def test_atomic_rollback_on_error_removes_the_order(self):
        try:
            with transaction.atomic():
                order = Order.objects.create(user=self.alice)
                OrderItem.objects.create(order=order, product=self.c["hammer"], quantity=1,
                                         unit_price=Decimal("12.50"))
                order_id = order.id
                self.assertTrue(Order.objects.filter(id=order_id).exists())
                raise RuntimeError("payment failed")
        except RuntimeError:
            pass
        self.assertFalse(Order.objects.filter(id=order_id).exists())
        self.assertFalse(OrderItem.objects.filter(order_id=order_id).exists())

    def test_nested_atomic_rolls_back_only_the_inner_block(self):
        with transaction.atomic():
            kept = Order.objects.create(user=self.alice)
            try:
                with transaction.atomic():
                    Order.objects.create(user=self.alice, status=Order.PAID)
                    raise ValueError("inner")
            except ValueError:
                pass
        self.assertEqual(list(Order.objects.values_list("id", flat=True)), [kept.id])

    def test_cancel_order_returns_units(self):
        order = place_order(self.alice, [(self.c["query-tuning"].id, 3)])
        self.assertEqual(Product.objects.get(slug="query-tuning").stock, 0)
        cancel_order(order.id)
        self.assertEqual(Order.objects.get(id=order.id).status, Order.CANCELLED)
        self.assertEqual(Product.objects.get(slug="query-tuning").stock, 3)
        with self.assertRaises(ValueError):
            cancel_order(order.id)

    def test_order_totals_by_annotation(self):
        place_order(self.alice, [(self.c["sql-basics"].id, 1)])
        place_order(self.alice, [(self.c["hammer"].id, 2), (self.c["sql-basics"].id, 1)])
        totals = (Order.objects.annotate(total=Sum(F("items__quantity") * F("items__unit_price")),
                                         lines=Count("items"))
                  .order_by("id").values_list("lines", "total"))
        self.assertEqual(list(totals), [(1, Decimal("29.90")), (2, Decimal("54.90"))])
        by_user = User.objects.annotate(n=Count("orders")).get(username="alice")
        self.assertEqual(by_user.n, 2)

    def test_created_at_is_aware_and_filterable(self):
        before = timezone.now() - timedelta(seconds=5)
        order = Order.objects.create(user=self.alice)
        self.assertTrue(timezone.is_aware(order.created_at))
        self.assertEqual(list(Order.objects.filter(created_at__gte=before)), [order])
        self.assertFalse(Order.objects.filter(created_at__lt=before).exists())

    def test_prefetch_orders_items_and_products(self):
        place_order(self.alice, [(self.c["sql-basics"].id, 1), (self.c["hammer"].id, 1)])
        with self.assertNumQueries(3):
            lines = [(i.product.slug, i.quantity)
                     for o in Order.objects.prefetch_related("items__product")
                     for i in o.items.all()]
        self.assertEqual(lines, [("sql-basics", 1), ("hammer", 1)])


class AuthUserTests(TestCase):
    def test_create_user_and_authenticate(self):
        User.objects.create_user("bob", "bob@example.com", "s3cret-pass")
        self.assertEqual(authenticate(username="bob", password="s3cret-pass").username, "bob")
        self.assertIsNone(authenticate(username="bob", password="wrong"))
        self.assertIsNone(authenticate(username="nobody", password="s3cret-pass"))

    def test_password_is_hashed_and_can_change(self):
        u = User.objects.create_user("carol", password="first")
        stored = User.objects.get(username="carol")
        self.assertNotEqual(stored.password, "first")
        self.assertTrue(stored.check_password("first"))
        stored.set_password("second")
        stored.save()
        again = User.objects.get(pk=u.pk)
        self.assertFalse(again.check_password("first"))
        self.assertTrue(again.check_password("second"))

    def test_duplicate_username_raises_integrity_error(self):
        User.objects.create_user("dave")
        with self.assertRaises(IntegrityError):
            with transaction.atomic():
                User.objects.create_user("dave")

    def test_permissions_through_groups(self):
        ct = ContentType.objects.get_for_model(Order)
        perm = Permission.objects.get(content_type=ct, codename="change_order")
        staff = Group.objects.create(name="staff")
        staff.permissions.add(perm)
        erin = User.objects.create_user("erin", password="pw")
        self.assertFalse(erin.has_perm("shop.change_order"))
        erin.groups.add(staff)
        erin = User.objects.get(pk=erin.pk)  # fresh instance: no permission cache
        self.assertTrue(erin.has_perm("shop.change_order"))
        self.assertFalse(erin.has_perm("shop.delete_order"))
        admin = User.objects.create_superuser("root", "root@example.com", "pw")
        self.assertTrue(admin.has_perm("shop.delete_order"))


class CommittedWritesTests(TransactionTestCase):
    """Without TestCase's wrapping transaction: every write commits for real
    and each read right after it must see it (read-your-writes)."""

    def setUp(self):
        self.c = make_catalogue()

    def test_autocommit_write_is_read_back_immediately(self):
        p = self.c["hammer"]
        for i in range(1, 31):
            Product.objects.filter(pk=p.pk).update(stock=F("stock") - 1)
            self.assertEqual(Product.objects.get(pk=p.pk).stock, 40 - i)
            Category.objects.create(name=f"cat {i}")
            self.assertTrue(Category.objects.filter(name=f"cat {i}").exists())
        self.assertEqual(Category.objects.count(), 32)

    def test_committed_order_is_read_back_immediately(self):
        user = User.objects.create_user("frank", password="pw")
        self.assertIsNotNone(authenticate(username="frank", password="pw"))
        order = place_order(user, [(self.c["sql-basics"].id, 1)])
        self.assertEqual(Order.objects.get(id=order.id).items.get().product.slug, "sql-basics")
        self.assertEqual(Product.objects.get(slug="sql-basics").stock, 9)

    def test_rolled_back_order_is_gone_after_commit_boundary(self):
        user = User.objects.create_user("grace", password="pw")
        with self.assertRaises(OutOfStock):
            place_order(user, [(self.c["wrench"].id, 1)])
        self.assertFalse(Order.objects.exists())
        self.assertFalse(OrderItem.objects.exists())
        self.assertEqual(Product.objects.get(slug="wrench").stock, 0)

    def test_bulk_create_is_visible_after_commit(self):
        Product.objects.bulk_create(
            [Product(category=self.c["books"], name=f"Vol {i}", slug=f"vol-{i}",
                     price=Decimal("5.00"), stock=1) for i in range(50)])
        self.assertEqual(Product.objects.filter(slug__startswith="vol-").count(), 50)
        self.assertEqual(Category.objects.annotate(n=Count("products")).get(name="Books").n, 52)

    def test_select_for_update_needs_a_transaction(self):
        self.assertTrue(connection.get_autocommit())
        with self.assertRaises(TransactionManagementError):
            list(Product.objects.select_for_update().filter(slug="hammer"))
        with transaction.atomic():
            locked = Product.objects.select_for_update().get(slug="hammer")
            locked.stock = F("stock") + 5
            locked.save(update_fields=["stock"])
        self.assertEqual(Product.objects.get(slug="hammer").stock, 45)

    def test_unique_violation_outside_transaction_keeps_connection_usable(self):
        with self.assertRaises(IntegrityError):
            Product.objects.create(category=self.c["tools"], name="Dup", slug="hammer",
                                   price=Decimal("1.00"))
        self.assertEqual(Product.objects.filter(slug="hammer").count(), 1)
        with transaction.atomic():
            Category.objects.create(name="After error")
        self.assertTrue(Category.objects.filter(name="After error").exists())
