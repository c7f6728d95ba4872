#!/usr/bin/env bash
# Installs what is missing and configures a Release build in $NNDL_BUILD_DIR (default
# build/), with ccache when it is installed. Used by tools/test.sh and tools/run-example.sh.
# Usage: tools/configure.sh [extra cmake arguments]; prints the build folder.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
build_dir=${NNDL_BUILD_DIR:-build}
launcher=()
if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" "$@" >/dev/null
echo "$build_dir"
