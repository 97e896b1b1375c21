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

# A build directory configured with another generator cannot be reused.
if [[ -f $BUILD_DIR/CMakeCache.txt ]] &&
   ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' "$BUILD_DIR/CMakeCache.txt"; then
  echo "build: $BUILD_DIR was configured with another generator; reconfiguring with Ninja" >&2
  rm -rf "$BUILD_DIR/CMakeCache.txt" "$BUILD_DIR/CMakeFiles"
fi

cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" "$@"
cmake --build "$BUILD_DIR" --parallel "$JOBS"
