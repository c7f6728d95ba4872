#!/usr/bin/env bash
# Installs what the benchmark needs (NumPy, PyTorch), builds it (with this machine's
# instruction set, the default) and runs it. Arguments go to nndl_benchmark, e.g.
#   benchmarks/run.sh --iterations 500 --threads 1,2,8,16 --load
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh --bench
NNDL_BUILD_DIR=build-bench tools/configure.sh -DNNDL_BUILD_BENCHMARKS=ON \
    -DNNDL_BUILD_TESTS=OFF -DNNDL_BUILD_EXAMPLES=OFF -DNNDL_BUILD_COMPILED=OFF >/dev/null
cmake --build build-bench -j2 --target nndl_benchmark >&2
exec build-bench/benchmarks/nndl_benchmark "$@"
