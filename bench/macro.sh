#!/usr/bin/env bash
# querylens macro benchmark: sysbench against the primary directly, through
# HAProxy in TCP mode, and through querylens, interleaved in one run so that
# the machine's drift hits every target alike. Prints a table of QPS, p50 /
# p95 / p99 event latency, CPU seconds per 1,000 queries of the hop process
# (querylens or HAProxy) and of the server, and the ratios proxy/direct and
# proxy/HAProxy, then checks issue 6's targets.
#
#   bash bench/macro.sh                 full run: 3 tests x 1/8/64 threads, 10 s a cell
#   bash bench/macro.sh --quick         smoke run: 4 cells, 3 s each (about 1 minute)
#   bash bench/macro.sh --help          every option
#
# Everything it starts is its own: a lab (deploy/lab/lab.sh, QL_LAB_DIR in a
# temporary directory, ports 33261/33262, or --lab-port P and P+1), one
# querylens per --workers value (16233, then 16235, 16237 ...; admin ports
# 16243, 16245 ...), HAProxy (16234) in the foreground as a child;
# --port-base B moves those to B, B+2 ... / B+10, B+12 ... / B+1. All of it
# is stopped by PID on exit, also on Ctrl-C; nothing else on the machine is
# touched. It needs sysbench, haproxy and the mariadb client/server
# (scripts/setup.sh installs them) and a built querylens (ninja -C build
# querylens).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

# ---- options ----------------------------------------------------------------
TIME=10
TIME_GIVEN=0
ROUNDS=1
TESTS="oltp_point_select oltp_read_only oltp_read_write"
THREADS="1 8 64"
WORKERS="1 2"
PS_MODE=disable
TABLES=4
TABLE_SIZE=10000
QUERYLENS=$ROOT/build/proxy/querylens
HAPROXY_THREADS=""
OUT=""
KEEP=0
SPLIT=1
QUICK=0
PRIMARY_PORT=33261
REPLICA_PORT=33262
PROXY_PORT=16233
HAPROXY_PORT=16234
ADMIN_PORT=16243

usage() {
  cat <<EOF
Usage: bash bench/macro.sh [options]

  --quick               smoke run: oltp_point_select at 1/8/64 threads and
                        oltp_read_write at 8, 3 s a cell, one round, --workers 1
  --time S              seconds per cell (default $TIME)
  --rounds N            repeat every cell N times, interleaved (default $ROUNDS);
                        the table shows the median round
  --tests "A B"         sysbench tests (default: $TESTS)
  --threads "1 8"       thread counts (default: $THREADS)
  --workers "1 2"       one querylens instance per value of --workers (default: $WORKERS)
  --ps-mode MODE        sysbench --db-ps-mode, disable (text protocol) or auto (default $PS_MODE)
  --haproxy-threads N   HAProxy nbthread (default: HAProxy's own, one per CPU)
  --querylens BIN       querylens binary (default build/proxy/querylens)
  --out FILE            also write the report (markdown) to FILE
  --keep                keep the temporary directory (logs, raw results, sysbench output)
  --lab-port P          lab primary port P, replica P+1 (default $PRIMARY_PORT)
  --port-base B         querylens on B, B+2 ... (admin B+10, B+12 ...), HAProxy
                        on B+1 (default $PROXY_PORT)
  --no-split            no read/write split target: the lab's replica is stopped
                        after start and every target serves from the primary alone
                        (by default the replica runs and one more querylens,
                        querylens-split-wN, sends reads to it)
  -h, --help            this text

Cells are run in the order test, threads, round, target, so the targets of a
cell run back to back: direct, haproxy, querylens (each --workers value), each
round starting one target later than the last. The report's paired ratios
divide each round's proxy QPS by the same round's HAProxy QPS.
A full run at the defaults takes about 3 tests x 3 thread counts x 4 targets
x (time + ~2 s) = 7-8 minutes, plus about a minute to start the lab.
EOF
}

while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) QUICK=1 ;;
    --time) TIME=$2; TIME_GIVEN=1; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --tests) TESTS=$2; shift ;;
    --threads) THREADS=$2; shift ;;
    --workers) WORKERS=$2; shift ;;
    --ps-mode) PS_MODE=$2; shift ;;
    --haproxy-threads) HAPROXY_THREADS=$2; shift ;;
    --querylens) QUERYLENS=$2; shift ;;
    --out) OUT=$2; shift ;;
    --keep) KEEP=1 ;;
    --no-split) SPLIT=0 ;;
    --keep-replica) ;;  # the default now (kept for old command lines)
    --lab-port) PRIMARY_PORT=$2; REPLICA_PORT=$(($2 + 1)); shift ;;
    --port-base) PROXY_PORT=$2; HAPROXY_PORT=$(($2 + 1)); ADMIN_PORT=$(($2 + 10)); shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "macro.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

# --quick fixes the cells, rounds and workers (a short smoke run); only an
# explicit --time still applies.
CELLS=()
if [[ $QUICK == 1 ]]; then
  [[ $TIME_GIVEN == 1 ]] || TIME=3
  ROUNDS=1
  WORKERS=1
  CELLS=("oltp_point_select 1" "oltp_point_select 8" "oltp_point_select 64" "oltp_read_write 8")
else
  for t in $TESTS; do
    for n in $THREADS; do CELLS+=("$t $n"); done
  done
fi

log() { printf '[macro %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { printf 'macro.sh: error: %s\n' "$*" >&2; exit 1; }

# ---- prerequisites ----------------------------------------------------------
for bin in sysbench haproxy mariadb; do
  command -v "$bin" >/dev/null 2>&1 ||
    die "$bin not found: apt-get install sysbench haproxy mariadb-client (or bash scripts/setup.sh)"
done
[[ -x $QUERYLENS ]] || die "no querylens binary at $QUERYLENS: build it with 'ninja -C build querylens'"
PY=/usr/bin/python3
[[ -x $PY ]] || PY=$(command -v python3) || die "python3 not found"
CLK_TCK=$(getconf CLK_TCK)

PROXY_PORTS=()
ADMIN_PORTS=()
i=0
for w in $WORKERS; do
  PROXY_PORTS+=($((PROXY_PORT + 2 * i)))
  ADMIN_PORTS+=($((ADMIN_PORT + 2 * i)))
  i=$((i + 1))
done
# (c): one more querylens, with the replica and read/write splitting, with
# the first --workers value.
SPLIT_WORKERS=${WORKERS%% *}
SPLIT_PORT=$((PROXY_PORT + 2 * i))
SPLIT_ADMIN=$((ADMIN_PORT + 2 * i))
for p in $PRIMARY_PORT $REPLICA_PORT $HAPROXY_PORT "${PROXY_PORTS[@]}" "${ADMIN_PORTS[@]}" \
         $SPLIT_PORT $SPLIT_ADMIN; do
  port_in_use "$p" && die "port $p is in use by another process (another macro.sh run?); not touching it"
done

# ---- clean-up: only what this script started, by PID ------------------------
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
WORK=$(mktemp -d /tmp/qlbench.XXXXXX)
LAB_ENV=(QL_LAB_DIR="$WORK/lab" QL_PRIMARY_PORT=$PRIMARY_PORT QL_REPLICA_PORT=$REPLICA_PORT)
CHILD_PIDS=()
LAB_STARTED=0

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_children
  if [[ $LAB_STARTED == 1 ]]; then
    env "${LAB_ENV[@]}" bash "$ROOT/deploy/lab/lab.sh" stop >/dev/null 2>&1 ||
      log "lab stop failed; its servers' pid files are under $WORK/lab"
  fi
  if [[ $KEEP == 1 || $rc != 0 ]]; then
    log "kept $WORK (logs, raw results)"
  else
    rm -rf "$WORK"
  fi
  exit $rc
}
trap_cleanup

# ---- lab ----------------------------------------------------------------------
ncells=${#CELLS[@]}
ntargets=$((2 + SPLIT + $(wc -w <<<"$WORKERS")))
est=$(( ncells * ROUNDS * ntargets * (TIME + 2) ))
log "work dir $WORK; ${ncells} cells x ${ROUNDS} round(s) x ${ntargets} targets at ${TIME}s: about $((est / 60))m$((est % 60))s of runs"
log "starting lab on $PRIMARY_PORT/$REPLICA_PORT"
LAB_STARTED=1
env "${LAB_ENV[@]}" bash "$ROOT/deploy/lab/lab.sh" start 2>"$WORK/lab-start.log" ||
  { cat "$WORK/lab-start.log" >&2; die "lab start failed"; }
if [[ $SPLIT == 0 ]]; then
  env "${LAB_ENV[@]}" bash "$ROOT/deploy/lab/lab.sh" stop-replica 2>>"$WORK/lab-start.log" || true
fi
SERVER_PID=$(cat "$WORK/lab/primary/mysqld.pid")

# ---- querylens and HAProxy ----------------------------------------------------
# Run a copy, so that a rebuild during the run changes nothing.
cp "$QUERYLENS" "$WORK/querylens"
QL_BUILT=$(date -u -r "$QUERYLENS" +%FT%TZ)
QL_HEAD=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
PROXY_PIDS=()
i=0
for w in $WORKERS; do
  port=${PROXY_PORTS[$i]}
  "$WORK/querylens" --listen 127.0.0.1:$port --primary 127.0.0.1:$PRIMARY_PORT \
    --user app:app_pass --workers "$w" --admin-listen 127.0.0.1:${ADMIN_PORTS[$i]} \
    --log-level warn </dev/null >"$WORK/querylens-w$w.log" 2>&1 &
  CHILD_PIDS+=($!)
  PROXY_PIDS+=($!)
  log "querylens --workers $w: pid $! on 127.0.0.1:$port"
  i=$((i + 1))
done
if [[ $SPLIT == 1 ]]; then
  "$WORK/querylens" --listen 127.0.0.1:$SPLIT_PORT --primary 127.0.0.1:$PRIMARY_PORT \
    --replica 127.0.0.1:$REPLICA_PORT --user app:app_pass --workers "$SPLIT_WORKERS" \
    --admin-listen 127.0.0.1:$SPLIT_ADMIN --log-level warn \
    </dev/null >"$WORK/querylens-split-w$SPLIT_WORKERS.log" 2>&1 &
  SPLIT_PID=$!
  CHILD_PIDS+=($SPLIT_PID)
  log "querylens --workers $SPLIT_WORKERS with the replica (read/write split): pid $SPLIT_PID on 127.0.0.1:$SPLIT_PORT"
fi

{
  echo "global"
  echo "  maxconn 4096"
  [[ -n $HAPROXY_THREADS ]] && echo "  nbthread $HAPROXY_THREADS"
  echo "defaults"
  echo "  mode tcp"
  echo "  timeout connect 5s"
  echo "  timeout client 1h"
  echo "  timeout server 1h"
  echo "listen mysql"
  echo "  bind 127.0.0.1:$HAPROXY_PORT"
  echo "  server primary 127.0.0.1:$PRIMARY_PORT"
} >"$WORK/haproxy.cfg"
haproxy -f "$WORK/haproxy.cfg" -db </dev/null >"$WORK/haproxy.log" 2>&1 &
HAPROXY_PID=$!
CHILD_PIDS+=($HAPROXY_PID)
log "haproxy: pid $HAPROXY_PID on 127.0.0.1:$HAPROXY_PORT"

wait_sql() {
  local port=$1 pid=$2 what=$3 i
  for i in $(seq 1 100); do
    if mariadb --no-defaults -h127.0.0.1 -P"$port" -uapp -papp_pass app -Nse 'SELECT 1' \
         >/dev/null 2>&1; then
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || die "$what (pid $pid) exited; see $WORK"
    sleep 0.1
  done
  die "$what on port $port did not answer in 10 s; see $WORK"
}
i=0
for w in $WORKERS; do
  wait_sql "${PROXY_PORTS[$i]}" "${PROXY_PIDS[$i]}" "querylens --workers $w"
  i=$((i + 1))
done
wait_sql $HAPROXY_PORT $HAPROXY_PID haproxy
if [[ $SPLIT == 1 ]]; then
  wait_sql $SPLIT_PORT $SPLIT_PID "querylens (split)"
  # Reads go to the replica only once the monitor found it usable.
  "$PY" - "$SPLIT_ADMIN" <<'PYEOF' || die "the replica never became usable for reads in querylens (split); see $WORK"
import json, sys, time, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/api/backends"
for _ in range(300):
    try:
        body = json.load(urllib.request.urlopen(url, timeout=2))
        reps = [b for b in body["backends"] if b.get("role") == "replica"]
        if reps and all(b.get("usable_for_reads") for b in reps):
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.1)
sys.exit(1)
PYEOF
fi

# ---- sysbench -----------------------------------------------------------------
SB_COMMON=(--db-driver=mysql --mysql-host=127.0.0.1 --mysql-user=app --mysql-password=app_pass
           --mysql-db=app --tables=$TABLES --table-size=$TABLE_SIZE)
log "sysbench prepare: $TABLES tables of $TABLE_SIZE rows"
sysbench oltp_common "${SB_COMMON[@]}" --mysql-port=$PRIMARY_PORT prepare \
  >"$WORK/prepare.log" 2>&1 || { tail -20 "$WORK/prepare.log" >&2; die "sysbench prepare failed"; }

# utime + stime of a process (all its threads), in clock ticks.

RAW=$WORK/raw.tsv
printf 'test\tthreads\tround\ttarget\tport\ttime_s\tqueries\tevents\terrors\thop_ticks\tserver_ticks\tclk_tck\tsysbench_out\n' >"$RAW"

TARGETS=("direct $PRIMARY_PORT 0" "haproxy $HAPROXY_PORT $HAPROXY_PID")
i=0
for w in $WORKERS; do
  TARGETS+=("querylens-w$w ${PROXY_PORTS[$i]} ${PROXY_PIDS[$i]}")
  i=$((i + 1))
done
[[ $SPLIT == 1 ]] && TARGETS+=("querylens-split-w$SPLIT_WORKERS $SPLIT_PORT $SPLIT_PID")

run_cell() {
  local test=$1 threads=$2 round=$3 target=$4 port=$5 hop_pid=$6
  local out="$WORK/sb-$test-$threads-r$round-$target.txt" extra=()
  [[ $test == oltp_read_only ]] && extra+=(--skip-trx=on)
  for pid in $hop_pid $SERVER_PID; do
    [[ $pid == 0 ]] || kill -0 "$pid" 2>/dev/null || die "process $pid ($target / server) is gone; see $WORK"
  done
  local hop0=0 srv0 hop1=0 srv1
  [[ $hop_pid == 0 ]] || hop0=$(cpu_ticks "$hop_pid")
  srv0=$(cpu_ticks "$SERVER_PID")
  if ! sysbench "$test" "${SB_COMMON[@]}" "${extra[@]}" --mysql-port="$port" \
         --threads="$threads" --time="$TIME" --db-ps-mode="$PS_MODE" \
         --histogram=on --percentile=95 --report-interval=0 run >"$out" 2>&1; then
    tail -20 "$out" >&2
    die "sysbench $test $threads threads against $target failed"
  fi
  [[ $hop_pid == 0 ]] || hop1=$(cpu_ticks "$hop_pid")
  srv1=$(cpu_ticks "$SERVER_PID")
  local queries events errors total_time
  queries=$(awk '/^ *total:/ {print $2; exit}' "$out")
  events=$(awk '/^ *transactions:/ {print $2; exit}' "$out")
  errors=$(awk '/^ *ignored errors:/ {print $3; exit}' "$out")
  total_time=$(awk '/^ *total time:/ {sub("s","",$3); print $3; exit}' "$out")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$test" "$threads" "$round" \
    "$target" "$port" "$total_time" "$queries" "$events" "${errors:-0}" \
    $((hop1 - hop0)) $((srv1 - srv0)) "$CLK_TCK" "$out" >>"$RAW"
  log "$(printf '%-18s %3s thr r%s %-13s %8.0f q/s' "$test" "$threads" "$round" "$target" \
        "$(awk -v q="$queries" -v t="$total_time" 'BEGIN {print (t > 0 ? q / t : 0)}')")"
}

# Each round starts one target later than the last, so no target always
# runs first (on a cold cache) or right after another's burst.
for cell in "${CELLS[@]}"; do
  read -r test threads <<<"$cell"
  for round in $(seq 1 "$ROUNDS"); do
    for k in $(seq 0 $((${#TARGETS[@]} - 1))); do
      read -r name port pid <<<"${TARGETS[$(((k + round - 1) % ${#TARGETS[@]}))]}"
      run_cell "$test" "$threads" "$round" "$name" "$port" "$pid"
    done
  done
done

# ---- report -------------------------------------------------------------------
# (|| true: a pipe cut short by head must not end the run under pipefail.)
CPU_MODEL=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || true)
HAPROXY_VERSION=$(haproxy -v 2>/dev/null | awk 'NR == 1 {print $3}' || true)
MARIADB_VERSION=$(mariadb --version 2>/dev/null | grep -o '[0-9]*\.[0-9]*\.[0-9]*-MariaDB' || true)
HEADER="$(date -u +%FT%TZ); $(nproc) CPUs, ${CPU_MODEL:-unknown CPU}; "
HEADER+="sysbench $(sysbench --version | awk '{print $2}'), HAProxy ${HAPROXY_VERSION:-?}"
HEADER+=" (nbthread ${HAPROXY_THREADS:-default}), ${MARIADB_VERSION:-MariaDB ?}; "
HEADER+="querylens built $QL_BUILT (tree at $QL_HEAD); "
HEADER+="--time $TIME, --rounds $ROUNDS, --db-ps-mode=$PS_MODE, --tables=$TABLES --table-size=$TABLE_SIZE; load average before the run: $LOAD_BEFORE"
"$PY" "$ROOT/bench/macro_report.py" --raw "$RAW" --header "$HEADER" ${OUT:+--out "$OUT"}
