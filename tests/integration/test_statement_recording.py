"""What /api/digests keeps of a statement's text: the masked fingerprint
always, and the slowest statement as it was sent only with --log-literals.
(Statements the backend never answered are checked in test_backend_failure.)"""
import pytest

from qladmin import admin_json, wait_for
from qlservers import connect, q


def digest_entries(admin_port, fingerprint):
    body = admin_json(admin_port, "/api/digests?limit=500")
    return [d for d in body["digests"] if d["fingerprint"] == fingerprint]


@pytest.mark.parametrize("literals", [False, True])
def test_digest_example_only_with_log_literals(lab, start_proxy, literals):
    extra = ["--read-write-split", "off"] + (["--log-literals"] if literals else [])
    ep, proc = start_proxy(extra)
    conn = connect(ep)
    try:
        for i in range(3):
            q(conn, f"SELECT {7310 + i} AS example_probe, 'zq_example_{i}' AS s")
    finally:
        conn.close()
    fp = "select ? as example_probe, ? as s"
    entries = wait_for(lambda: digest_entries(proc.admin_port, fp), timeout=10,
                       what=f"{fp!r} in /api/digests")
    e = entries[0]
    assert e["count"] == 3, e
    if literals:
        assert "example" in e, e
        assert e["example"]["text"].startswith("SELECT 731"), e["example"]
        assert "zq_example_" in e["example"]["text"], e["example"]
    else:
        assert "example" not in e, e
        assert "zq_example_" not in str(e)
