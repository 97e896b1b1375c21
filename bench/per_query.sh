#!/usr/bin/env bash
# Per-query cost of querylens and of HAProxy (TCP mode) in front of the same
# MariaDB, measured in steady state: heap allocations, syscalls (by kind, and
# how many failed with EAGAIN) and CPU time per query; with --callgrind,
# user-space instructions per query instead. Counts, unlike QPS, hardly
# move with the load of a shared machine, so before/after comparisons of
# the relay path are made with this script (bench/macro.sh measures QPS and
# latency).
#
#   bash bench/per_query.sh                        point selects and read/write,
#                                                  1 and 8 threads, text and prepared
#   bash bench/per_query.sh --tests oltp_point_select --threads 1 --ps-modes disable
#   bash bench/per_query.sh --callgrind            instructions per query (slow)
#   bash bench/per_query.sh --help
#
# How: each cell is one sysbench run (--time = warm-up + window + 1 s). After
# the warm-up (connections made, buffers grown) it reads, at the start and
# end of a window: the heap allocations of the proxy's worker threads
# (querylens_heap_allocations_total{threads="workers"} in /metrics; only the
# allocation-counting build, bench/CMakeLists.txt, has it; what an idle
# window allocates, e.g. for the two /metrics reads, is subtracted), the
# commands the lab's servers received (Questions, primary plus replica: the
# queries of the window, the same for every target), and the hop's CPU
# ticks; `perf stat` counts the syscalls of the hop's worker threads
# (querylens's ql-worker-N, all of HAProxy's) over the window (tracepoints:
# works in VMs without hardware counters). With --callgrind
# the hops run under valgrind instead and the window's instructions (Ir)
# are read with callgrind_control.
#
# Targets: querylens with routing on (--replica given, reads go to it) and
# off (--read-write-split off), both with every statement fingerprinted,
# recorded and seen by the N+1 detector (the defaults), and HAProxy.
# Everything it starts is stopped by PID on exit. The lab is its own
# (temporary dir) unless --lab-dir names one, which is reused if running
# and left running with --keep-lab.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

TESTS="oltp_point_select oltp_read_write"
THREADS="1 8"
PS_MODES="disable auto"
TARGETS="ql-split ql-nosplit haproxy"
WARMUP=3
WINDOW=8
TABLES=4
TABLE_SIZE=10000
LAB_PORT=33271
PORT_BASE=16250
LAB_DIR=""
KEEP_LAB=0
CALLGRIND=0
QUERYLENS=""
WORKERS=1
EXTRA_ARGS=""
OUT=""

usage() {
  cat <<EOF
Usage: bash bench/per_query.sh [options]

  --tests "A B"       sysbench tests (default: $TESTS)
  --threads "1 8"     sysbench threads (default: $THREADS)
  --ps-modes "A B"    sysbench --db-ps-mode values (default: $PS_MODES)
  --targets "A B"     of ql-split ql-nosplit haproxy (default: all)
  --warmup S          seconds before the window (default $WARMUP)
  --window S          seconds measured (default $WINDOW)
  --querylens BIN     proxy binary (default: build/bench/querylens_alloc_counting,
                      else build/proxy/querylens; allocations need the former)
  --workers N         querylens --workers (default $WORKERS)
  --proxy-args "..."  extra querylens arguments
  --callgrind         instructions per query under valgrind, instead of the rest
  --lab-port P        lab primary port; the replica is P+1 (default $LAB_PORT)
  --port-base B       querylens B and B+2 (admin B+1, B+3), HAProxy B+4 (default $PORT_BASE)
  --lab-dir DIR       reuse (or start) the lab in DIR instead of a temporary one
  --keep-lab          leave the lab running at the end (with --lab-dir)
  --out FILE          also write the report to FILE
  -h, --help          this text
EOF
}

while [[ $# -gt 0 ]]; do
  case $1 in
    --tests) TESTS=$2; shift ;;
    --threads) THREADS=$2; shift ;;
    --ps-modes) PS_MODES=$2; shift ;;
    --targets) TARGETS=$2; shift ;;
    --warmup) WARMUP=$2; shift ;;
    --window) WINDOW=$2; shift ;;
    --querylens) QUERYLENS=$2; shift ;;
    --workers) WORKERS=$2; shift ;;
    --proxy-args) EXTRA_ARGS=$2; shift ;;
    --callgrind) CALLGRIND=1 ;;
    --lab-port) LAB_PORT=$2; shift ;;
    --port-base) PORT_BASE=$2; shift ;;
    --lab-dir) LAB_DIR=$2; shift ;;
    --keep-lab) KEEP_LAB=1 ;;
    --out) OUT=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "per_query.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

log() { printf '[per_query %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { printf 'per_query.sh: error: %s\n' "$*" >&2; exit 1; }

if [[ -z $QUERYLENS ]]; then
  QUERYLENS=$ROOT/build/bench/querylens_alloc_counting
  [[ -x $QUERYLENS ]] || QUERYLENS=$ROOT/build/proxy/querylens
fi
[[ -x $QUERYLENS ]] || die "no querylens binary at $QUERYLENS (see --querylens)"
for bin in sysbench haproxy mariadb curl perf; do
  command -v "$bin" >/dev/null 2>&1 || die "$bin not found"
done
[[ $CALLGRIND == 0 ]] || command -v valgrind >/dev/null 2>&1 || die "valgrind not found"

PRIMARY_PORT=$LAB_PORT
REPLICA_PORT=$((LAB_PORT + 1))
SPLIT_PORT=$PORT_BASE
SPLIT_ADMIN=$((PORT_BASE + 1))
NOSPLIT_PORT=$((PORT_BASE + 2))
NOSPLIT_ADMIN=$((PORT_BASE + 3))
HAPROXY_PORT=$((PORT_BASE + 4))
for p in $SPLIT_PORT $SPLIT_ADMIN $NOSPLIT_PORT $NOSPLIT_ADMIN $HAPROXY_PORT; do
  port_in_use "$p" && die "port $p is in use; choose another --port-base"
done

WORK=$(mktemp -d /tmp/qlperq.XXXXXX)
OWN_LAB=0
if [[ -z $LAB_DIR ]]; then
  LAB_DIR=$WORK/lab
  OWN_LAB=1
fi
LAB_ENV=(QL_LAB_DIR="$LAB_DIR" QL_PRIMARY_PORT=$PRIMARY_PORT QL_REPLICA_PORT=$REPLICA_PORT)
lab() { env "${LAB_ENV[@]}" bash "$ROOT/deploy/lab/lab.sh" "$@"; }
CHILD_PIDS=()
LAB_STARTED=0

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_children
  if [[ $LAB_STARTED == 1 && ( $OWN_LAB == 1 || $KEEP_LAB == 0 ) ]]; then
    lab stop >/dev/null 2>&1 || log "lab stop failed; pid files are under $LAB_DIR"
  fi
  if [[ $rc != 0 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
  exit $rc
}
trap_cleanup

log "lab in $LAB_DIR on $PRIMARY_PORT/$REPLICA_PORT"
LAB_STARTED=1
lab start 2>"$WORK/lab-start.log" || { cat "$WORK/lab-start.log" >&2; die "lab start failed"; }

SB_COMMON=(--db-driver=mysql --mysql-host=127.0.0.1 --mysql-user=app --mysql-password=app_pass
           --mysql-db=app --tables=$TABLES --table-size=$TABLE_SIZE)
rows=$(lab sql primary -Nse "SELECT COUNT(*) FROM app.sbtest$TABLES" 2>/dev/null || echo 0)
if [[ $rows != "$TABLE_SIZE" ]]; then
  log "sysbench prepare: $TABLES tables of $TABLE_SIZE rows"
  sysbench oltp_common "${SB_COMMON[@]}" --mysql-port=$PRIMARY_PORT cleanup >/dev/null 2>&1 || true
  sysbench oltp_common "${SB_COMMON[@]}" --mysql-port=$PRIMARY_PORT prepare \
    >"$WORK/prepare.log" 2>&1 || { tail -20 "$WORK/prepare.log" >&2; die "prepare failed"; }
fi
for i in $(seq 1 300); do
  r=$(lab sql replica -Nse "SELECT COUNT(*) FROM app.sbtest$TABLES" 2>/dev/null || echo 0)
  [[ $r == "$TABLE_SIZE" ]] && break
  sleep 0.2
done

# ---- the hops ------------------------------------------------------------------
VG=()
if [[ $CALLGRIND == 1 ]]; then
  VG=(valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.%p" --dump-instr=no)
fi
declare -A PORT PID ADMIN
start_querylens() {
  local name=$1 port=$2 admin=$3
  shift 3
  # shellcheck disable=SC2086
  "${VG[@]}" "$QUERYLENS" --listen 127.0.0.1:$port --primary 127.0.0.1:$PRIMARY_PORT \
    --replica 127.0.0.1:$REPLICA_PORT --user app:app_pass --workers "$WORKERS" \
    --admin-listen 127.0.0.1:$admin --log-level warn "$@" $EXTRA_ARGS \
    </dev/null >"$WORK/$name.log" 2>&1 &
  CHILD_PIDS+=($!)
  PORT[$name]=$port PID[$name]=$! ADMIN[$name]=$admin
  log "$name: pid $! on $port"
}
for t in $TARGETS; do
  case $t in
    ql-split) start_querylens ql-split $SPLIT_PORT $SPLIT_ADMIN ;;
    ql-nosplit) start_querylens ql-nosplit $NOSPLIT_PORT $NOSPLIT_ADMIN --read-write-split off ;;
    haproxy)
      printf '%s\n' global "  maxconn 4096" defaults "  mode tcp" "  timeout connect 5s" \
        "  timeout client 1h" "  timeout server 1h" "listen mysql" \
        "  bind 127.0.0.1:$HAPROXY_PORT" "  server primary 127.0.0.1:$PRIMARY_PORT" \
        >"$WORK/haproxy.cfg"
      "${VG[@]}" haproxy -f "$WORK/haproxy.cfg" -db </dev/null >"$WORK/haproxy.log" 2>&1 &
      CHILD_PIDS+=($!)
      PORT[haproxy]=$HAPROXY_PORT PID[haproxy]=$! ADMIN[haproxy]=""
      log "haproxy: pid $! on $HAPROXY_PORT"
      ;;
    *) die "unknown target $t" ;;
  esac
done
for t in $TARGETS; do
  ok=0
  for i in $(seq 1 300); do
    if mariadb --no-defaults -h127.0.0.1 -P"${PORT[$t]}" -uapp -papp_pass app -Nse 'SELECT 1' \
         >/dev/null 2>&1; then ok=1; break; fi
    kill -0 "${PID[$t]}" 2>/dev/null || die "$t exited; see $WORK/$t.log"
    sleep 0.2
  done
  [[ $ok == 1 ]] || die "$t did not answer"
done

# ---- measurements ---------------------------------------------------------------
# Questions and Com_stmt_prepare, each summed over primary and replica: a
# proxy that prepared statements again on its pooled connections would show
# more prepares for the same queries than HAProxy.
questions() {
  local q="SHOW GLOBAL STATUS WHERE Variable_name IN ('Questions', 'Com_stmt_prepare')"
  { lab sql primary -Nse "$q"; lab sql replica -Nse "$q"; } |
    awk '$1 == "Questions" {n += $2} $1 == "Com_stmt_prepare" {p += $2} END {print n, p}'
}
allocations() {
  [[ -n $1 ]] || { echo -; return; }
  curl -fsS "http://127.0.0.1:$1/metrics" 2>/dev/null |
    awk '$1 == "querylens_heap_allocations_total{threads=\"workers\"}" {printf "%.0f\n", $2; f = 1}
         END {if (!f) print "-"}'
}
# The syscalls counted one by one; everything else only in the total.
SYSCALLS="sendto recvfrom read write readv writev sendmsg recvmsg epoll_wait epoll_ctl futex clock_gettime"
PERF_EVENTS=(-e raw_syscalls:sys_enter -e raw_syscalls:sys_exit --filter 'ret == -11')
for s in $SYSCALLS; do PERF_EVENTS+=(-e "syscalls:sys_enter_$s"); done
CLK_TCK=$(getconf CLK_TCK)

# The threads whose syscalls count: querylens's worker threads (named
# ql-worker-N; in an older build without names, the --workers threads that
# used the most CPU so far, i.e. in the warm-up), all of HAProxy's.
perf_scope() {
  local t=$1 pid=$2 tids=() task
  if [[ $t == haproxy ]]; then echo "-p $pid"; return; fi
  for task in /proc/"$pid"/task/*; do
    [[ $(cat "$task/comm" 2>/dev/null) == ql-worker* ]] && tids+=("${task##*/}")
  done
  if [[ ${#tids[@]} == 0 ]]; then
    mapfile -t tids < <(for task in /proc/"$pid"/task/*; do
        stat=$(cat "$task/stat") && echo "$(awk '{print $12 + $13}' <<<"${stat##*) }") ${task##*/}"
      done | sort -rn | head -n "$WORKERS" | awk '{print $2}')
  fi
  local IFS=,
  echo "-t ${tids[*]}"
}

# Heap allocations of the workers of an idle querylens over a window (the
# two /metrics reads, copied on the workers; the N+1 poll), subtracted from
# every window.
declare -A IDLE_ALLOCS
for t in $TARGETS; do
  [[ -n ${ADMIN[$t]} ]] || continue
  i0=$(allocations "${ADMIN[$t]}")
  sleep "$WINDOW"
  i1=$(allocations "${ADMIN[$t]}")
  if [[ $i0 != - && $i1 != - ]]; then IDLE_ALLOCS[$t]=$((i1 - i0)); fi
  log "$t: ${IDLE_ALLOCS[$t]:-no} heap allocations in an idle window of ${WINDOW}s"
done

RESULTS=$WORK/results.tsv
: >"$RESULTS"
run_cell() {
  local test=$1 threads=$2 ps=$3 t=$4
  local port=${PORT[$t]} pid=${PID[$t]} admin=${ADMIN[$t]}
  local sb_out=$WORK/sb-$test-$threads-$ps-$t.txt perf_out=$WORK/perf-$test-$threads-$ps-$t.txt
  sysbench "$test" "${SB_COMMON[@]}" --mysql-port="$port" --threads="$threads" \
    --time=$((WARMUP + WINDOW + 1)) --db-ps-mode="$ps" --report-interval=0 run >"$sb_out" 2>&1 &
  local sb=$!
  sleep "$WARMUP"
  local q0 q1 p0 p1 a0 a1 c0 c1 ir="-" marks=$WORK/marks
  if [[ $CALLGRIND == 1 ]]; then
    callgrind_control -z "$pid" >/dev/null
  fi
  # The window's counters are read inside the command perf stat runs, so that
  # the syscalls and the queries cover the same interval.
  local window=(bash -c "$(declare -p LAB_ENV ROOT; declare -f lab questions allocations cpu_ticks)
    echo \$(questions) \$(allocations '$admin') \$(cpu_ticks $pid) >'$marks.0'
    sleep $WINDOW
    echo \$(questions) \$(allocations '$admin') \$(cpu_ticks $pid) >'$marks.1'")
  if [[ $CALLGRIND == 1 ]]; then
    "${window[@]}"
  else
    # shellcheck disable=SC2046
    perf stat -x, -o "$perf_out" "${PERF_EVENTS[@]}" -e task-clock $(perf_scope "$t" "$pid") \
      -- "${window[@]}"
  fi
  read -r q0 p0 a0 c0 <"$marks.0"
  read -r q1 p1 a1 c1 <"$marks.1"
  if [[ $CALLGRIND == 1 ]]; then
    rm -f "$WORK"/callgrind."$pid".*
    callgrind_control -d "$pid" >/dev/null
    sleep 1
    ir=$(awk '/^(summary|totals):/ {print $2; exit}' "$WORK"/callgrind."$pid".* 2>/dev/null || true)
  fi
  wait "$sb" || { tail -20 "$sb_out" >&2; die "sysbench $test $threads $ps against $t failed"; }
  # Each questions() call adds one command per server, in the window.
  local queries=$((q1 - q0 - 2))
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$test" "$threads" "$ps" "$t" "$queries" \
    "$a0" "$a1" "$(( (c1 - c0) ))" "$ir" "${IDLE_ALLOCS[$t]:-0}" "$((p1 - p0))" >>"$RESULTS"
  if [[ $CALLGRIND == 0 ]]; then
    # perf -x, lines: value,unit,event,...
    awk -F, -v cell="$test	$threads	$ps	$t" 'NF > 3 && $1 ~ /^[0-9.]+$/ {print cell "\t" $3 "\t" $1}' \
      "$perf_out" >>"$WORK/perf.tsv"
  fi
  log "$(printf '%-18s %2s thr %-8s %-10s %7d queries in the window' "$test" "$threads" "$ps" "$t" "$queries")"
}

for test in $TESTS; do
  for ps in $PS_MODES; do
    for threads in $THREADS; do
      for t in $TARGETS; do run_cell "$test" "$threads" "$ps" "$t"; done
    done
  done
done

# ---- report ---------------------------------------------------------------------
touch "$WORK/perf.tsv"
/usr/bin/python3 - "$RESULTS" "$WORK/perf.tsv" "$CLK_TCK" "$CALLGRIND" "$SYSCALLS" <<'EOF' | tee ${OUT:+"$OUT"}
import collections, sys
results, perf, clk, callgrind, names = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1", sys.argv[5].split()
counts = collections.defaultdict(dict)
for line in open(perf):
    test, threads, ps, t, event, value = line.rstrip("\n").split("\t")
    counts[(test, threads, ps, t)][event] = float(value)
short = {"sendto": "send", "recvfrom": "recv", "epoll_wait": "epoll_wait"}
if callgrind:
    print("| test | threads | ps-mode | target | queries | instructions (Ir) per query |")
    print("|---|---:|---|---|---:|---:|")
else:
    cols = [n for n in names]
    print("| test | threads | ps-mode | target | queries | allocs/q | syscalls/q | EAGAIN/q | "
          + " | ".join(short.get(n, n) for n in cols)
          + " | process CPU µs/q | workers task-clock µs/q | server prepares/1k q |")
    print("|---|---:|---|---|---:|---:|---:|---:|" + "---:|" * len(cols) + "---:|---:|---:|")
for line in open(results):
    test, threads, ps, t, q, a0, a1, ticks, ir, idle, prepares = line.rstrip("\n").split("\t")
    q = int(q)
    if q <= 0:
        continue
    if callgrind:
        print(f"| {test} | {threads} | {ps} | {t} | {q} | {float(ir) / q:,.0f} |" if ir not in ("", "-") else
              f"| {test} | {threads} | {ps} | {t} | {q} | - |")
        continue
    c = counts[(test, threads, ps, t)]
    allocs = f"{(int(a1) - int(a0) - int(idle)) / q:.3f}" if a0 != "-" and a1 != "-" else "-"
    per = lambda e: f"{c.get(e, 0) / q:.2f}"
    row = [test, threads, ps, t, str(q), allocs, per("raw_syscalls:sys_enter"), per("raw_syscalls:sys_exit")]
    row += [per("syscalls:sys_enter_" + n) for n in cols]
    row.append(f"{int(ticks) / clk * 1e6 / q:.1f}")
    row.append(f"{c.get('task-clock', 0) * 1e3 / q:.1f}")
    row.append(f"{int(prepares) * 1000 / q:.2f}")
    print("| " + " | ".join(row) + " |")
EOF
