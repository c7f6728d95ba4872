#!/usr/bin/env bash
# Installs what is missing, builds nndl's tests and runs them with ctest.
# Usage: tools/test.sh [extra cmake arguments]   (build folder: $NNDL_BUILD_DIR, default build/)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=$(tools/configure.sh "$@")
# ccache (where configure.sh found it) keys on paths relative to this tree, so clones and
# worktrees in other folders share what each compiled.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
start=$SECONDS
cmake --build "$build_dir" -j2
echo "== tools/test.sh: built in $((SECONDS - start)) s"
start=$SECONDS
ctest --test-dir "$build_dir" --output-on-failure -j2
echo "== tools/test.sh: tests ran in $((SECONDS - start)) s"
