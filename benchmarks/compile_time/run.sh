#!/usr/bin/env bash
# Compile time and peak memory of translation units, each built as a user builds it
# (g++ -O2) and then against nndl::compiled and nndl::compiled_image (the same file with
# NNDL_COMPILED, NNDL_COMPILED_IMAGE and NNDL_KERNEL_DISPATCH, as their CMake targets define
# them, whose templates come from the libraries instead):
#   tour.cpp                   the README's tour (cat images, training, summary, save, load)
#   user_program.cpp           a typical program (CSV, scaler, training, save, load, predict)
#   user_program.cpp (+float)  the same, also training a float network
#   examples/*.cpp             every example program
# Peak memory is the compiler's largest resident size (GNU time's %M).
# Usage: benchmarks/compile_time/run.sh   (run it on a quiet machine; takes a few minutes)
set -euo pipefail
cd "$(dirname "$0")/../.."
tools/setup.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
flags=(-std=c++17 -O2 -Iinclude -isystem /usr/include/eigen3 -isystem /usr/include/stb "-DNNDL_SOURCE_DIR=\"$PWD\""
       -DONNX_ML=1 -DONNX_NAMESPACE=onnx)  # Debian's ONNX schema, as the nndl::onnx target

measure() {  # label, extra flags..., file
    local label=$1
    shift
    /usr/bin/time -f "%e %M" -o "$out/time" g++ "${flags[@]}" "$@" -c -o "$out/unit.o"
    read -r seconds kilobytes < "$out/time"
    printf '%s\t%s\t%d\n' "$label" "$seconds" "$((kilobytes / 1024))"
}

echo "the libraries themselves (once; nndl::compiled's two sources build in parallel):"
measure "src/compiled_float.cpp" -DNNDL_KERNEL_DISPATCH src/compiled_float.cpp
measure "src/compiled_double.cpp" -DNNDL_KERNEL_DISPATCH src/compiled_double.cpp
measure "src/compiled_image.cpp" -DNNDL_KERNEL_DISPATCH src/compiled_image.cpp
examples=()
for file in examples/*.cpp; do
    examples+=("$(basename "$file" .cpp)")
done
printf '\n%-32s %14s %14s %16s %16s\n' "translation unit" "headers (s)" "compiled (s)" "headers (MiB)" "compiled (MiB)"
for unit in "tour" "user_program" "user_program +float" "${examples[@]}"; do
    case "$unit" in
        "tour") args=(benchmarks/compile_time/tour.cpp) ;;
        "user_program") args=(benchmarks/compile_time/user_program.cpp) ;;
        "user_program +float") args=(-DNNDL_TWO_SCALARS benchmarks/compile_time/user_program.cpp) ;;
        *) args=("examples/$unit.cpp") ;;
    esac
    read -r _ plain_s plain_m < <(measure x "${args[@]}" | tr '\t' ' ')
    read -r _ lib_s lib_m < <(measure x -DNNDL_COMPILED -DNNDL_COMPILED_IMAGE -DNNDL_KERNEL_DISPATCH "${args[@]}" | tr '\t' ' ')
    printf '%-32s %14s %14s %16s %16s\n' "$unit" "$plain_s" "$lib_s" "$plain_m" "$lib_m"
done
