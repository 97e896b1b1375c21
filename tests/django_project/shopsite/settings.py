"""Settings of the querylens test shop: a small Django project whose only
database is whatever QL_DJANGO_HOST/PORT points at (the proxy, normally).

Environment:
  QL_DJANGO_HOST       server host (default 127.0.0.1)
  QL_DJANGO_PORT       server port (default 6033, the proxy's default)
  QL_DJANGO_USER       login (default app)
  QL_DJANGO_PASSWORD   password (default app_pass)
  QL_DJANGO_NAME       database for migrate/runserver (default app)
  QL_DJANGO_TEST_NAME  database `manage.py test` creates and drops
                       (default test_shop); give parallel runs distinct names
"""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# Only a test fixture: never deployed, so a fixed key is fine.
SECRET_KEY = "querylens-test-shop-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["localhost", "127.0.0.1"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "shop",
]

MIDDLEWARE = []
ROOT_URLCONF = "shopsite.urls"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.mysql",
        "HOST": os.environ.get("QL_DJANGO_HOST", "127.0.0.1"),
        "PORT": int(os.environ.get("QL_DJANGO_PORT", "6033")),
        "USER": os.environ.get("QL_DJANGO_USER", "app"),
        "PASSWORD": os.environ.get("QL_DJANGO_PASSWORD", "app_pass"),
        "NAME": os.environ.get("QL_DJANGO_NAME", "app"),
        "OPTIONS": {
            "charset": "utf8mb4",
            "connect_timeout": 10,
            # Strict mode, so that bad data raises instead of being truncated
            # (and `manage.py check --database default` has nothing to warn about).
            "init_command": "SET sql_mode='STRICT_TRANS_TABLES'",
        },
        "TEST": {
            "NAME": os.environ.get("QL_DJANGO_TEST_NAME", "test_shop"),
            "CHARSET": "utf8mb4",
            "COLLATION": "utf8mb4_general_ci",
        },
    }
}

# Fast hashing keeps the auth tests quick; the check logic is the same.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
USE_I18N = False
