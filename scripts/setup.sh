#!/usr/bin/env bash
# Installs everything querylens needs to build, run its lab and run its tests,
# from Debian 12 packages. Idempotent: when every package is already installed
# it returns without touching apt.
#
# Must run as root (or with passwordless sudo). Never starts system services:
# the lab runs its own MariaDB processes (deploy/lab/lab.sh).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libboost1.81-dev libssl-dev prometheus-cpp-dev libabsl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libyaml-cpp-dev nlohmann-json3-dev
  mariadb-server mariadb-client libmariadb-dev
  python3-mysqldb python3-pymysql python3-django python3-pytest python3-pytest-timeout python3-nacl
  python3-cryptography python3-yaml
  sysbench haproxy percona-toolkit prometheus openssl
)

log() { printf 'setup: %s\n' "$*" >&2; }

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
  # "ii " = installed and configured.
  if [[ "$status" != ii* ]]; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  log "all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

log "missing packages: ${missing[*]}"

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo -n)
  else
    log "not root and no sudo: cannot install ${missing[*]}"
    exit 1
  fi
fi

# Keep package maintainer scripts from starting services (mariadb, haproxy,
# prometheus): nothing here runs an init system, and the lab starts its own
# servers. A policy-rc.d that exits 101 tells invoke-rc.d "not allowed".
POLICY=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $POLICY ]]; then
  "${SUDO[@]}" sh -c "printf '#!/bin/sh\nexit 101\n' > $POLICY && chmod 755 $POLICY"
  created_policy=1
fi
cleanup() {
  if [[ $created_policy -eq 1 ]]; then
    "${SUDO[@]}" rm -f "$POLICY"
  fi
}
trap cleanup EXIT

# Another apt/dpkg may hold the lock (e.g. an unattended install): wait for it,
# bounded, instead of failing at once.
wait_for_apt_lock() {
  local deadline=$((SECONDS + 900))
  while pgrep -x apt-get >/dev/null 2>&1 || pgrep -x dpkg >/dev/null 2>&1 || pgrep -x apt >/dev/null 2>&1; do
    if (( SECONDS > deadline )); then
      log "another apt-get/dpkg is still running after 900 s; giving up"
      exit 1
    fi
    log "waiting for another apt-get/dpkg to finish..."
    sleep 5
  done
}

export DEBIAN_FRONTEND=noninteractive
APT_OPTS=(-y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold
          -o DPkg::Lock::Timeout=600)

wait_for_apt_lock
log "apt-get update"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -q </dev/null
wait_for_apt_lock
log "apt-get install ${missing[*]}"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install "${APT_OPTS[@]}" -q --no-install-recommends \
  "${missing[@]}" </dev/null

# Verify.
still=()
for p in "${missing[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
  [[ "$status" == ii* ]] || still+=("$p")
done
if [[ ${#still[@]} -ne 0 ]]; then
  log "still not installed: ${still[*]}"
  exit 1
fi
log "done"
