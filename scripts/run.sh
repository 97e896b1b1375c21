#!/usr/bin/env bash
# Runs querylens for a person to try: installs and builds what is missing,
# starts the lab (MariaDB primary 127.0.0.1:33061, GTID replica :33062) and
# the proxy on 127.0.0.1:6033 in the foreground. Ctrl-C stops the proxy and
# the lab. Extra arguments are passed to querylens.
#
# Environment: QL_LAB_DIR (default /tmp/querylens-lab), QL_SKIP_SETUP=1,
# QL_SKIP_BUILD=1.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ ${QL_SKIP_SETUP:-0} != 1 ]]; then bash scripts/setup.sh; fi
if [[ ${QL_SKIP_BUILD:-0} != 1 ]]; then bash scripts/build.sh; fi

BIN=build/proxy/querylens
[[ -x $BIN ]] || { echo "run: $BIN was not built" >&2; exit 1; }

export QL_LAB_DIR=${QL_LAB_DIR:-/tmp/querylens-lab}
export QL_PRIMARY_PORT=33061 QL_REPLICA_PORT=33062

stop_lab() {
  trap - EXIT INT TERM
  echo
  echo "run: stopping the lab"
  bash deploy/lab/lab.sh stop || true
}
trap stop_lab EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bash deploy/lab/lab.sh start

cat <<'MSG'

querylens is starting on 127.0.0.1:6033 (admin endpoint 127.0.0.1:9033).
Connect with:

    mariadb -h127.0.0.1 -P6033 -uapp -papp_pass app

Press Ctrl-C to stop the proxy and the lab.

MSG

# Not exec: the EXIT trap must stop the lab when the proxy ends.
"$BIN" --listen 127.0.0.1:6033 \
  --primary 127.0.0.1:33061 --replica 127.0.0.1:33062 \
  --user app:app_pass --admin-listen 127.0.0.1:9033 "$@"
