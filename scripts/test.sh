#!/usr/bin/env bash
# The whole test suite, as the README and CI run it:
#   1. scripts/setup.sh  (Debian packages; quick when all are installed)
#   2. scripts/build.sh  (CMake + Ninja into ./build)
#   3. unit tests:        ctest --test-dir "$BUILD_DIR" --output-on-failure
#   4. integration tests: /usr/bin/python3 -m pytest tests/integration
#      (starts its own lab on ports 33161/33162 and the proxy on 16033...)
# Ends with one line "N passed, N failed" (unit + integration) and exits
# non-zero if anything failed, including setup or the build.
#
# Environment: QL_SKIP_SETUP=1 skips step 1; QL_SKIP_UNIT=1 / QL_SKIP_INTEGRATION=1
# skip steps 3 / 4; BUILD_DIR (default build) is where build.sh builds and where
# the tests find the binaries (QUERYLENS_BIN defaults to $BUILD_DIR/proxy/querylens).
# Arguments are passed on to pytest (e.g. -k cli, -x).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export DEBIAN_FRONTEND=noninteractive

PYTHON=/usr/bin/python3
export BUILD_DIR=${BUILD_DIR:-build}
if [[ -z ${QUERYLENS_BIN:-} ]]; then
  case $BUILD_DIR in
    /*) QUERYLENS_BIN=$BUILD_DIR/proxy/querylens ;;
    *)  QUERYLENS_BIN=$PWD/$BUILD_DIR/proxy/querylens ;;
  esac
fi
export QUERYLENS_BIN
LOG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/querylens-test.XXXXXX")
trap 'rm -rf "$LOG_DIR"' EXIT

passed=0
failed=0
status=0

say() { printf '\n==> %s\n' "$*"; }

summary_and_exit() {
  echo
  echo "unit: ${unit_summary:-not run}; integration: ${integ_summary:-not run}"
  echo "${passed} passed, ${failed} failed"
  exit "$status"
}

if [[ ${QL_SKIP_SETUP:-0} != 1 ]]; then
  say "setup (scripts/setup.sh)"
  if ! bash scripts/setup.sh </dev/null; then
    echo "setup failed"
    failed=$((failed + 1)); status=1
    summary_and_exit
  fi
fi

say "build (scripts/build.sh)"
if ! bash scripts/build.sh </dev/null; then
  echo "build failed"
  failed=$((failed + 1)); status=1
  summary_and_exit
fi

# ---- unit tests ---------------------------------------------------------------
if [[ ${QL_SKIP_UNIT:-0} != 1 ]]; then
  say "unit tests (ctest)"
  ctest --test-dir "$BUILD_DIR" --output-on-failure </dev/null 2>&1 | tee "$LOG_DIR/ctest.log"
  ctest_rc=${PIPESTATUS[0]}
  # "100% tests passed, 0 tests failed out of 42"  /  "No tests were found!!!"
  line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$LOG_DIR/ctest.log" | tail -n 1)
  if [[ $line =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then
    u_failed=${BASH_REMATCH[1]}
    u_total=${BASH_REMATCH[2]}
    u_passed=$((u_total - u_failed))
  else
    u_failed=0
    u_passed=0
  fi
  if [[ $ctest_rc -ne 0 && $u_failed -eq 0 ]]; then
    u_failed=1   # ctest itself failed (no summary): count it
  fi
  if [[ $ctest_rc -ne 0 ]]; then status=1; fi
  passed=$((passed + u_passed)); failed=$((failed + u_failed))
  unit_summary="${u_passed} passed, ${u_failed} failed"
fi

# ---- integration tests -----------------------------------------------------------
if [[ ${QL_SKIP_INTEGRATION:-0} != 1 ]]; then
  say "integration tests (pytest tests/integration)"
  "$PYTHON" -m pytest tests/integration -q "$@" </dev/null 2>&1 | tee "$LOG_DIR/pytest.log"
  pytest_rc=${PIPESTATUS[0]}
  # Last line, e.g. "3 failed, 120 passed, 12 skipped, 1 error in 301.2s (0:05:01)"
  line=$(grep -E '^=*\s*[0-9]+ (passed|failed|errors?|skipped|deselected|xfailed|xpassed)' \
           "$LOG_DIR/pytest.log" | tail -n 1)
  count() {
    local re="([0-9]+) ($1)"
    if [[ $line =~ $re ]]; then echo "${BASH_REMATCH[1]}"; else echo 0; fi
  }
  i_passed=$(( $(count passed) + $(count xpassed) ))
  i_failed=$(( $(count failed) + $(count 'errors?') ))
  if [[ $pytest_rc -ne 0 ]]; then
    status=1
    # No tests collected (5), interrupted (2), internal error (3), usage (4):
    # count as one failure if pytest reported none.
    [[ $i_failed -gt 0 ]] || i_failed=1
  fi
  passed=$((passed + i_passed)); failed=$((failed + i_failed))
  integ_summary="${i_passed} passed, ${i_failed} failed, $(count skipped) skipped"
fi

summary_and_exit
