#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang (address + undefined-behaviour
# sanitizers) and runs each for a fixed time on its seed corpus.
# Usage: fuzz/run.sh [SECONDS_PER_TARGET]   (default 20)
# A crash stops with a non-zero exit; its input is written to fuzz/crashes/, to be
# added to fuzz/regressions/<target>/ once fixed (tests/test_fuzz_replay.cpp replays them).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
clang=$(command -v clang++ || command -v clang++-14)
out=${NNDL_FUZZ_BUILD_DIR:-build-fuzz}
mkdir -p "$out" fuzz/crashes
flags=(-std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
       -Iinclude -isystem /usr/include/eigen3 -isystem /usr/include/stb -isystem /usr/include/hdf5/serial)
for target in npz idx csv image; do
    echo "== fuzz_$target: building"
    "$clang" "${flags[@]}" "fuzz/fuzz_$target.cpp" -o "$out/fuzz_$target" -lstb -lz
done
for target in npz idx csv image; do
    echo "== fuzz_$target: ${seconds} s"
    work="$out/corpus_$target"
    mkdir -p "$work"
    # New inputs go to the scratch corpus; the committed seeds are only read.
    "$out/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -artifact_prefix="fuzz/crashes/${target}-" -print_final_stats=1 \
        "$work" "fuzz/corpus/$target" "fuzz/regressions/$target" 2>&1 | tail -n 12
done
echo "fuzzing: no crash in ${seconds} s per target"
