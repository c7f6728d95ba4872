#!/usr/bin/env bash
# Installs what the benchmark needs (NumPy, PyTorch), builds it with -march=native
# and runs it. Arguments go to nndl_benchmark (e.g. --iterations 500).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh --bench
NNDL_BUILD_DIR=build-bench tools/configure.sh -DNNDL_NATIVE=ON -DNNDL_BUILD_BENCHMARKS=ON \
    -DNNDL_BUILD_TESTS=OFF -DNNDL_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build-bench -j2 --target nndl_benchmark >&2
exec build-bench/benchmarks/nndl_benchmark "$@"
