#!/usr/bin/env bash
# Installs what is missing, builds nndl's tests and runs them with ctest.
# Usage: tools/test.sh [extra cmake arguments]   (build folder: $NNDL_BUILD_DIR, default build/)
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
build_dir=${NNDL_BUILD_DIR:-build}
launcher=()
if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" "$@" >/dev/null
cmake --build "$build_dir" -j2
ctest --test-dir "$build_dir" --output-on-failure -j2
