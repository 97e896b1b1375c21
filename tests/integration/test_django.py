"""Django 3.2 with mysqlclient, configured as the README says, directly and
through the proxy: its connection set-up (CLIENT_FOUND_ROWS, @@sql_mode,
isolation level), cursors, transactions (SET autocommit=0 ... COMMIT) and
a model's INSERT ... RETURNING on MariaDB."""
import pytest

django = pytest.importorskip("django")


@pytest.fixture(scope="module")
def dj(direct, proxy):
    from django.conf import settings

    def db(ep):
        return {"ENGINE": "django.db.backends.mysql", "HOST": ep.host, "PORT": ep.port,
                "USER": "app", "PASSWORD": "app_pass", "NAME": "app",
                "OPTIONS": {"isolation_level": "read committed", "connect_timeout": 10}}

    if not settings.configured:
        settings.configure(DATABASES={"default": db(direct), "proxy": db(proxy)},
                           INSTALLED_APPS=["django.contrib.contenttypes"],
                           USE_TZ=True, DEFAULT_AUTO_FIELD="django.db.models.AutoField")
        django.setup()
    from django.db import connections, models, transaction

    class Item(models.Model):
        name = models.CharField(max_length=40)
        qty = models.IntegerField(default=0)

        class Meta:
            app_label = "contenttypes"
            db_table = "ql_django_item"

    yield connections, transaction, Item
    for alias in ("default", "proxy"):
        connections[alias].close()


def _session(dj, alias):
    connections, transaction, Item = dj
    conn = connections[alias]
    seen = []
    with conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS ql_django_item")
    with conn.schema_editor() as editor:
        editor.create_model(Item)
    seen.append(conn.mysql_version)
    seen.append(conn.sql_mode if hasattr(conn, "sql_mode") else None)
    with conn.cursor() as cur:
        cur.execute("SELECT @@tx_isolation, @@autocommit")
        seen.append(cur.fetchall())
    a = Item.objects.using(alias).create(name="first", qty=1)      # INSERT ... RETURNING
    b = Item.objects.using(alias).create(name="second", qty=2)
    seen.append((a.pk, b.pk))
    with transaction.atomic(using=alias):
        Item.objects.using(alias).filter(pk=a.pk).update(qty=10)
        seen.append(Item.objects.using(alias).filter(qty__gte=2).count())
    try:
        with transaction.atomic(using=alias):
            Item.objects.using(alias).create(name="rolled back", qty=99)
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    seen.append(list(Item.objects.using(alias).order_by("pk").values_list("pk", "name", "qty")))
    # FOUND_ROWS: an UPDATE that changes nothing still reports the matched row.
    seen.append(Item.objects.using(alias).filter(pk=b.pk).update(qty=2))
    with conn.cursor() as cur:
        cur.execute("DROP TABLE ql_django_item")
    return seen


def test_django_direct_and_through_proxy(dj):
    a = _session(dj, "default")
    assert a[3] == (1, 2)
    assert a[5] == [(1, "first", 10), (2, "second", 2)]
    assert a[6] == 1
    b = _session(dj, "proxy")
    assert a == b
