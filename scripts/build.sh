#!/usr/bin/env bash
# Configures and builds querylens into ./build (Ninja, RelWithDebInfo).
# Extra arguments are passed to the cmake configure step, e.g.
#   bash scripts/build.sh -DQUERYLENS_BUILD_BENCH=OFF
# Environment: BUILD_DIR (default build), BUILD_TYPE (default RelWithDebInfo),
# JOBS (default 2: the machines this runs on have 2 cores).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUILD_DIR=${BUILD_DIR:-build}
BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo}
JOBS=${JOBS:-2}

cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" "$@"
cmake --build "$BUILD_DIR" --parallel "$JOBS"
