"""Settings for serving the test shop's pages (shop/urls.py) for the N+1
tests: the base settings plus the URLconf and the sqlcommenter middleware
(shop/sqlcommenter.py). QL_SHOP_SQLCOMMENTER=0 leaves the middleware out, so
that statements carry no call-site comments."""
import os

from .settings import *  # noqa: F401,F403
from .settings import ALLOWED_HOSTS

ROOT_URLCONF = "shop.urls"
# Django's test client sends Host: testserver.
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]
MIDDLEWARE = []
if os.environ.get("QL_SHOP_SQLCOMMENTER", "1") != "0":
    MIDDLEWARE.append("shop.sqlcommenter.SqlCommenterMiddleware")
