#!/usr/bin/env bash
# Shell functions shared by bench/macro.sh and bench/per_query.sh (sourced,
# not run): port checks, stopping what a script started by its PID, exit
# traps, and a process's CPU time from /proc. Nothing here starts or kills
# anything by name: other people's servers run on the same machine.

# True when something listens on TCP port $1.
port_in_use() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

# SIGTERM, up to 10 s for a clean exit, then SIGKILL; reaps the child.
stop_pid() {
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  wait "$pid" 2>/dev/null || true
}

# utime + stime of process $1 in clock ticks (0 when it is gone).
cpu_ticks() {
  local stat rest
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
  # After "comm)" the state is field 3; utime and stime are fields 14 and 15.
  rest=${stat##*) }
  awk '{print $12 + $13}' <<<"$rest"
}

# Stops every PID in the caller's CHILD_PIDS array.
stop_children() {
  local pid
  for pid in "${CHILD_PIDS[@]}"; do stop_pid "$pid"; done
}

# Runs the caller's cleanup function on exit, Ctrl-C and SIGTERM alike.
trap_cleanup() {
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}
