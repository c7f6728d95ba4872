#!/usr/bin/env bash
# Installs what is missing, builds the example programs and runs one of them.
# Usage: tools/run-example.sh [PROGRAM [ARGS...]]   (default: cat_classifier)
#   PROGRAM: basics, logistic_regression, planar_classification, cat_classifier, predict
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
build_dir=${NNDL_BUILD_DIR:-build}
launcher=()
if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
program=${1:-cat_classifier}
shift || true
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
cmake --build "$build_dir" -j2 --target "$program" >&2
exec "$build_dir/examples/$program" "$@"
