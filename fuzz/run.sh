#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang (address + undefined-behaviour
# sanitizers, leak detection) and runs each on its seed corpus.
# Usage: fuzz/run.sh [SECONDS_PER_TARGET]
#   with SECONDS: each target runs that long (exploration; results vary from run to run);
#   without: each target runs a fixed number of inputs from a fixed seed, the same every time (CI).
# A crash stops with a non-zero exit; its input is written to fuzz/crashes/, to be added to
# fuzz/regressions/<target>/ once fixed (tests/test_fuzz_replay.cpp replays them).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-}
clang=$(command -v clang++ || command -v clang++-14)
out=${NNDL_FUZZ_BUILD_DIR:-build-fuzz}
mkdir -p "$out" fuzz/crashes
flags=(-std=c++17 -O1 -g1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
       -Iinclude -isystem /usr/include/eigen3 -isystem /usr/include/stb)
# Counts that keep the whole run near 3 minutes on 2 cores: image inputs are the slowest (a few
# bytes can claim an image of max_image_pixels, which the decoder allocates: about 10 ms each
# under AddressSanitizer); longer exploration is fuzz/run.sh SECONDS.
declare -A runs=([npz]=150000 [idx]=30000 [csv]=100000 [image]=5000 [onnx]=100000 [image_folder]=5000)
targets=(npz idx csv image onnx image_folder)
if [[ -n "$seconds" ]]; then
    # The HDF5 library itself crashes on some crafted files (fuzz/known_crashes/README.md),
    # so fuzz_hdf5 explores but is not part of the fixed run.
    targets+=(hdf5)
else
    echo "== fuzz_hdf5: not in the fixed run: libhdf5 crashes on crafted files (fuzz/known_crashes/README.md)"
fi
# The compiler runs through ccache where it is installed (compiled apart from linking, so the
# object can be cached; CCACHE_BASEDIR makes clones in other folders share it).
compile=("$clang")
if command -v ccache >/dev/null; then
    compile=(ccache "$clang")
    export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-true}
fi
# The six readers are one program (fuzz_readers.cpp, NNDL_FUZZ_READER picks the reader): it
# is built once. fuzz_hdf5 links libhdf5 and is a program of its own, built beside it.
echo "== fuzz_readers: building (npz idx csv image image_folder onnx)"
build() {  # build <source> <program> [libraries...]
    local source=$1 program=$2
    shift 2
    "${compile[@]}" "${flags[@]}" -DONNX_ML=1 -DONNX_NAMESPACE=onnx -c "$source" -o "$program.o"
    "$clang" "${flags[@]}" "$program.o" -o "$program" "$@"
}
build fuzz/fuzz_readers.cpp "$out/fuzz_readers" -lonnx_proto -lprotobuf -lstb -lz &
building=$!
if [[ -n "$seconds" ]]; then
    echo "== fuzz_hdf5: building"
    read -r -a hdf5_flags <<<"$(pkg-config --cflags --libs hdf5)"
    build fuzz/fuzz_hdf5.cpp "$out/fuzz_hdf5" -lstb -lz "${hdf5_flags[@]}"
fi
wait "$building"

# Runs one target; on a finding prints its report and returns 1.
fuzz_one() {
    local target=$1
    local work="$out/corpus_$target"
    local limit
    if [[ -n "$seconds" ]]; then
        limit=(-max_total_time="$seconds")
    else
        # A fresh scratch corpus and a fixed seed make the run repeatable.
        rm -rf "$work"
        limit=(-seed=1 -runs="${runs[$target]}")
    fi
    mkdir -p "$work"
    local dict=()
    if [[ -f "fuzz/$target.dict" ]]; then
        dict=(-dict="fuzz/$target.dict")
    fi
    # New inputs go to the scratch corpus; the committed seeds are only read.
    # The whole output goes to a log; on a finding its report (with the stack) is printed in full.
    local log="$out/fuzz_$target.log"
    local regressions=()
    if [[ -d "fuzz/regressions/$target" ]]; then  # libFuzzer stops at a folder that is not there
        regressions=("fuzz/regressions/$target")
    fi
    local extra=()
    local program=("$out/fuzz_readers")
    if [[ $target == hdf5 ]]; then
        # libhdf5 leaks on malformed files and asks malloc for petabytes: not nndl's findings.
        extra=(-detect_leaks=0)
        export ASAN_OPTIONS=allocator_may_return_null=1
        program=("$out/fuzz_hdf5")
    fi
    if ! NNDL_FUZZ_READER=$target "${program[@]}" "${limit[@]}" "${dict[@]}" "${extra[@]}" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -artifact_prefix="fuzz/crashes/${target}-" -print_final_stats=1 \
        "$work" "fuzz/corpus/$target" "${regressions[@]}" >"$log" 2>&1; then
        tail -n 100 "$log"
        echo "fuzz_$target: a finding (full output: $log)" >&2
        return 1
    fi
}

# Two lanes, one per core, each running its targets one after the other; the reports are
# printed in the targets' order when both lanes are done.
lanes=("" "")
for k in "${!targets[@]}"; do
    lanes[k % 2]+="${targets[k]} "
done
rm -f "$out"/fuzz_*.log
lane_status=()
for lane in 0 1; do
    (for target in ${lanes[lane]}; do fuzz_one "$target" || exit 1; done) &
    lane_status+=($!)
done
found=0
for pid in "${lane_status[@]}"; do
    wait "$pid" || found=1
done
for target in "${targets[@]}"; do
    if [[ -n "$seconds" ]]; then
        echo "== fuzz_$target: ${seconds} s"
    else
        echo "== fuzz_$target: ${runs[$target]} inputs, seed 1"
    fi
    [[ -f "$out/fuzz_$target.log" ]] && tail -n 12 "$out/fuzz_$target.log"
done
if [[ $found -ne 0 ]]; then
    echo "fuzzing: a finding (above)" >&2
    exit 1
fi
echo "fuzzing: no crash, leak or sanitizer report"
