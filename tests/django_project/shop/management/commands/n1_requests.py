"""`manage.py n1_requests --settings shopsite.settings_n1 PATH...`: requests
the given pages in order with Django's test client, in this one process and
over one persistent database connection (the test client does not close it
between requests, like a long-lived worker with CONN_MAX_AGE), and prints
one JSON document describing each request:

  {"requests": [{"path", "status", "traceparent", "queries", "sql",
                 "body"}, ...]}

`queries` counts the statements the request ran (Django's debug cursor) and
`sql` lists them as sent to the server, sqlcommenter comment included, so a
test can check that the slow pages really issue one query per object.

The connection is opened and its set-up statements run before the first
request, then --pause-first seconds pass (default 0.7, more than the proxy's
500 ms unit idle gap), so that set-up is never part of a request's unit of
work. --sleep S waits S seconds between requests (requests further apart
than the idle gap are separate units even without comments)."""
import json
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext


class Command(BaseCommand):
    help = "Request shop pages through the test client and report their queries as JSON."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+")
        parser.add_argument("--sleep", type=float, default=0.0,
                            help="seconds between requests (default 0)")
        parser.add_argument("--pause-first", type=float, default=0.7,
                            help="seconds between connection set-up and the first request")

    def handle(self, *args, **options):
        # Connection set-up: connect, init_command, isolation level, and the
        # feature probes Django runs once per connection.
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        connection.features.is_sql_auto_is_null_enabled  # noqa: B018 - cached probe
        connection.mysql_server_data  # noqa: B018
        time.sleep(options["pause_first"])

        client = Client()
        out = []
        for n, path in enumerate(options["paths"]):
            if n and options["sleep"]:
                time.sleep(options["sleep"])
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(path)
            if response.status_code != 200:
                raise CommandError(f"GET {path}: status {response.status_code}\n"
                                   f"{response.content[:2000]!r}")
            sql = [q["sql"] for q in ctx.captured_queries]
            out.append({
                "path": path,
                "status": response.status_code,
                "traceparent": response.get("traceparent"),
                "queries": len(sql),
                "sql": sql,
                "body": json.loads(response.content),
            })
        self.stdout.write(json.dumps({"requests": out}, indent=1))
