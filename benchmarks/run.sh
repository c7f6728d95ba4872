#!/usr/bin/env bash
# Installs what the benchmark needs (NumPy, PyTorch), builds it with -march=native
# and runs it. Arguments go to nndl_benchmark (e.g. --iterations 500).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh --bench
launcher=()
if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DNNDL_NATIVE=ON -DNNDL_BUILD_BENCHMARKS=ON \
      -DNNDL_BUILD_TESTS=OFF -DNNDL_BUILD_EXAMPLES=OFF "${launcher[@]}" >/dev/null
cmake --build build-bench -j2 --target nndl_benchmark >&2
exec build-bench/benchmarks/nndl_benchmark "$@"
