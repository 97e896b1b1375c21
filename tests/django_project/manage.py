#!/usr/bin/env python3
"""Django's command-line utility for the querylens test shop.

The database it talks to comes from QL_DJANGO_* environment variables (see
shopsite/settings.py); point them at the proxy to run `manage.py test`
through it."""
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopsite.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
