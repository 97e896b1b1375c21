#!/usr/bin/env python3
"""Report of a bench/macro.sh run: reads its raw.tsv (one line per sysbench
run) and the sysbench outputs it names, merges the rounds of each cell, and
prints markdown tables: results, ratios, and issue 6's targets.

Latencies are sysbench's *event* latencies from its --histogram: an event of
oltp_point_select is one query; of oltp_read_only --skip-trx=on, 14 queries;
of oltp_read_write, 18 queries plus BEGIN/COMMIT. Percentiles come from the
histograms of all rounds merged (sysbench's buckets are about 1-2 % wide).
"""
import argparse
import collections
import csv
import re
import statistics
import sys

HIST_LINE = re.compile(r"^\s*([0-9.]+)\s+\|\**\s+([0-9]+)\s*$")


def read_histogram(path):
    counts = collections.Counter()
    in_hist = False
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("Latency histogram"):
                in_hist = True
                continue
            if in_hist:
                m = HIST_LINE.match(line)
                if m:
                    counts[float(m.group(1))] += int(m.group(2))
                elif line.strip() and "distribution" not in line:
                    in_hist = False
    return counts


def percentile(hist, q):
    total = sum(hist.values())
    if total == 0:
        return float("nan")
    need = q * total
    run = 0
    for value in sorted(hist):
        run += hist[value]
        if run >= need:
            return value
    return max(hist)


class Cell:
    def __init__(self):
        self.time = 0.0
        self.queries = 0
        self.events = 0
        self.errors = 0
        self.hop_ticks = 0
        self.server_ticks = 0
        self.clk = 100
        self.rounds = 0
        self.round_no = []      # the round number of each entry below
        self.round_qps = []
        self.round_hop = []     # CPU s per 1k queries, per round
        self.round_server = []
        self.hist = collections.Counter()

    def add(self, row):
        t = float(row["time_s"] or 0)
        q = int(row["queries"] or 0)
        self.time += t
        self.queries += q
        self.events += int(row["events"] or 0)
        self.errors += int(row["errors"] or 0)
        self.hop_ticks += int(row["hop_ticks"])
        self.server_ticks += int(row["server_ticks"])
        self.clk = int(row["clk_tck"])
        self.rounds += 1
        self.round_no.append(row["round"])
        self.round_qps.append(q / t if t else 0.0)
        per_kq = lambda ticks: ticks / self.clk / q * 1000 if q else float("nan")
        self.round_hop.append(per_kq(int(row["hop_ticks"])))
        self.round_server.append(per_kq(int(row["server_ticks"])))
        self.hist.update(read_histogram(row["sysbench_out"]))

    # With several rounds, the median round: one round disturbed by another
    # process's burst must not move the result (this machine is shared).
    @property
    def qps(self):
        return statistics.median(self.round_qps)

    @property
    def hop_cpu(self):
        return statistics.median(self.round_hop)

    @property
    def server_cpu(self):
        return statistics.median(self.round_server)

    def p(self, q):
        return percentile(self.hist, q)


def fmt(x, digits=3):
    if x != x:  # NaN
        return "-"
    return f"{x:.{digits}f}"


def ratio(a, b):
    return a / b if b else float("nan")


def paired(c, h):
    """Each round's proxy QPS over the same round's HAProxy QPS: the two ran
    seconds apart, so the machine's drift between rounds cancels out."""
    hq = dict(zip(h.round_no, h.round_qps))
    return [ratio(q, hq[r]) for r, q in zip(c.round_no, c.round_qps) if r in hq]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--header", default="")
    ap.add_argument("--out")
    args = ap.parse_args()

    cells = collections.OrderedDict()
    targets = []
    with open(args.raw, encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            key = (row["test"], int(row["threads"]))
            cells.setdefault(key, collections.OrderedDict())
            cells[key].setdefault(row["target"], Cell()).add(row)
            if row["target"] not in targets:
                targets.append(row["target"])
    proxies = [t for t in targets if t.startswith("querylens")]

    out = []
    w = out.append
    w("## Macro benchmark")
    w("")
    if args.header:
        w(args.header)
        w("")
    w("QPS = all queries / wall time; latencies are sysbench event latencies in ms (p50/p95/p99 from its")
    w("histogram); CPU = utime+stime of the hop process (querylens or HAProxy) and of mariadbd, from")
    w("/proc/PID/stat, in CPU seconds per 1,000 queries. With several rounds, QPS and CPU are the median")
    w("round (every round's QPS in parentheses) and the percentiles come from all rounds' histograms merged.")
    w("")
    w("| test | threads | target | QPS | p50 ms | p95 ms | p99 ms | hop CPU s/1k q | server CPU s/1k q | errors |")
    w("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for (test, threads), by_target in cells.items():
        for name, c in by_target.items():
            hop = "-" if name == "direct" else fmt(c.hop_cpu, 4)
            qps = f"{c.qps:.0f}"
            if c.rounds > 1:
                qps += " (" + "/".join(f"{x:.0f}" for x in c.round_qps) + ")"
            w(f"| {test} | {threads} | {name} | {qps} | {fmt(c.p(0.50))} | {fmt(c.p(0.95))} | "
              f"{fmt(c.p(0.99))} | {hop} | {fmt(c.server_cpu, 4)} | {c.errors} |")
    w("")
    w("Ratios (added p50 = target p50 - direct p50, in microseconds):")
    w("")
    w("QPS / HAProxy paired: each round's QPS over the same round's HAProxy QPS, median over the rounds")
    w("(each round in parentheses); the targets below use it.")
    w("")
    w("| test | threads | proxy | QPS / direct | QPS / HAProxy | QPS / HAProxy paired | hop CPU / HAProxy | added p50 proxy | added p50 HAProxy | added p50 proxy / HAProxy |")
    w("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for (test, threads), by_target in cells.items():
        d = by_target.get("direct")
        h = by_target.get("haproxy")
        for p in proxies:
            c = by_target.get(p)
            if not (c and d and h):
                continue
            add_p = (c.p(0.5) - d.p(0.5)) * 1000
            add_h = (h.p(0.5) - d.p(0.5)) * 1000
            pr = paired(c, h)
            pr_text = fmt(statistics.median(pr), 2) if pr else "-"
            if len(pr) > 1:
                pr_text += " (" + "/".join(fmt(x, 2) for x in pr) + ")"
            w(f"| {test} | {threads} | {p} | {fmt(ratio(c.qps, d.qps), 2)} | {fmt(ratio(c.qps, h.qps), 2)} | "
              f"{pr_text} | {fmt(ratio(c.hop_cpu, h.hop_cpu), 2)} | "
              f"{fmt(add_p, 0)} | {fmt(add_h, 0)} | {fmt(ratio(add_p, add_h), 2)} |")
    w("")

    # Issue 6 targets, on oltp_point_select.
    checks = []
    for (test, threads), by_target in cells.items():
        if test != "oltp_point_select":
            continue
        d = by_target.get("direct")
        h = by_target.get("haproxy")
        for p in proxies:
            c = by_target.get(p)
            # The targets are about (b), every statement to the primary; the
            # split target serves reads from a second server.
            if not (c and h) or "split" in p:
                continue
            need = 1.0 if threads >= 64 else 0.95
            pr = paired(c, h)
            r = statistics.median(pr) if pr else ratio(c.qps, h.qps)
            at = f"at {threads} thread{'s' if threads != 1 else ''}"
            checks.append((p, f"QPS >= {need:.2f} x HAProxy {at} (paired)", f"{r:.3f}", r >= need))
            r = ratio(c.hop_cpu, h.hop_cpu)
            checks.append((p, f"CPU/1k q <= 1.1 x HAProxy {at}", f"{r:.3f}", r <= 1.1))
            if threads == 1 and d:
                add_p = c.p(0.5) - d.p(0.5)
                add_h = h.p(0.5) - d.p(0.5)
                r = ratio(add_p, add_h)
                checks.append((p, "added median latency at 1 thread <= 1.2 x HAProxy's",
                               f"{r:.3f} ({add_p * 1000:.0f} vs {add_h * 1000:.0f} us)", r <= 1.2))
    if checks:
        w("Issue 6 targets (oltp_point_select):")
        w("")
        w("| proxy | target | measured | met |")
        w("|---|---|---:|---|")
        for p, what, measured, ok in checks:
            w(f"| {p} | {what} | {measured} | {'yes' if ok else '**no**'} |")
        w("")
    text = "\n".join(out)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    sys.exit(main())
