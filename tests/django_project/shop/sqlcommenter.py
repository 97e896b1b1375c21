"""A minimal sqlcommenter middleware for the test shop: every statement a
request runs gets a trailing comment naming its call site, in the format of
Google's sqlcommenter Django middleware (Debian has no package for it):

    SELECT ... /*controller='product_list',framework='django%%3A3.2.25',
                 route='products%%2F',traceparent='00-<32 hex>-<16 hex>-01'*/

Keys sorted, values URL-encoded with every '%' doubled (the DB-API
formatting of the statement turns '%%' back into '%'; statements run without
parameters keep '%%', which the proxy decodes the same way). Each request
gets a fresh W3C traceparent (or keeps a valid one the client sent), which
the response echoes in its `traceparent` header so that a test can find the
request's unit of work in the proxy's findings.

Enabled in shopsite/settings_n1.py unless QL_SHOP_SQLCOMMENTER=0."""
import re
import secrets
from contextlib import ExitStack
from urllib.parse import quote

import django
from django.db import connections

FRAMEWORK = f"django:{django.get_version()}"
_TRACEPARENT_RE = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")


def new_traceparent() -> str:
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def _quote(value: str) -> str:
    return quote(value, safe="").replace("%", "%%")


def sql_comment(**tags) -> str:
    """' /*k='v',...*/' for the non-empty tags, keys sorted."""
    pairs = [f"{_quote(k)}='{_quote(str(v))}'" for k, v in sorted(tags.items()) if v]
    return " /*" + ",".join(pairs) + "*/" if pairs else ""


class _Tagger:
    """An execute_wrapper: appends the request's comment to each statement.
    The resolver match is read per statement because it is set only after
    the middleware chain has started (URL resolution happens inside it)."""

    def __init__(self, request, traceparent: str):
        self.request = request
        self.traceparent = traceparent

    def __call__(self, execute, sql, params, many, context):
        match = getattr(self.request, "resolver_match", None)
        comment = sql_comment(
            controller=match.view_name if match else "",
            framework=FRAMEWORK,
            route=match.route if match else "",
            traceparent=self.traceparent,
        )
        return execute(sql + comment, params, many, context)


class SqlCommenterMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        sent = request.META.get("HTTP_TRACEPARENT", "")
        traceparent = sent if _TRACEPARENT_RE.match(sent) else new_traceparent()
        tagger = _Tagger(request, traceparent)
        with ExitStack() as stack:
            for alias in connections:
                stack.enter_context(connections[alias].execute_wrapper(tagger))
            response = self.get_response(request)
        response["traceparent"] = traceparent
        return response
