#!/usr/bin/env bash
# Installs what is missing, builds the example programs and runs one of them.
# Usage: tools/run-example.sh [PROGRAM [ARGS...]]   (default: cat_classifier)
#   PROGRAM: any example program (README.md lists them), e.g. basics, cat_classifier, predict,
#   fashion_mnist, fashion_cnn, fashion_resnet, residual_blocks, dinosaurs, char_model
set -euo pipefail
cd "$(dirname "$0")/.."
program=${1:-cat_classifier}
shift || true
build_dir=$(tools/configure.sh)
cmake --build "$build_dir" -j2 --target "$program" >&2
exec "$build_dir/examples/$program" "$@"
