#!/usr/bin/env bash
# Installs what nndl needs to build, test and run its examples on Debian 12.
# A no-op when everything is already there.
# Usage: tools/setup.sh [--bench] [--fuzz]
#   --bench  also NumPy's and PyTorch's benchmark needs (PyTorch, OpenBLAS)
#   --fuzz   also clang and its libFuzzer runtime
set -euo pipefail

packages=(cmake g++ make pkg-config libeigen3-dev doctest-dev libstb-dev libhdf5-dev zlib1g-dev
          gnuplot-nox python3-numpy dataset-fashion-mnist
          libonnx-dev libprotobuf-dev python3-onnx python3-opencv python3-torch python3-torchvision libcli11-dev
          doxygen fortunes ccache nodejs)
# fortunes: the text char_model learns from by default; ccache: a rebuild after a change
# compiles only what changed; nodejs: ONNX Runtime (below) for the ONNX tests.
for option in "$@"; do
    case "$option" in
        --bench)
            # NumPy and PyTorch as users run them: on OpenBLAS, not the reference BLAS.
            packages+=(python3-torch libopenblas0-pthread) ;;
        --fuzz)
            packages+=(clang libclang-rt-14-dev) ;;
        *)
            echo "setup: unknown option '$option' (expected --bench or --fuzz)" >&2
            exit 2 ;;
    esac
done

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
    sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
if ((${#missing[@]} > 0)); then
    echo "setup: installing ${missing[*]}" >&2
    "${sudo_cmd[@]}" apt-get update -qq
    "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# ONNX Runtime, which runs nndl's exported models in the tests and the benchmark: the npm
# package onnxruntime-node carries the CPU runtime, at the version package-lock.json pins.
# Its install script only fetches GPU libraries from GitHub, so it is not run.
runtime="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/onnxruntime"
if [[ ! -f "$runtime/node_modules/onnxruntime-node/package.json" ]]; then
    if ! command -v npm >/dev/null; then  # Debian's nodejs leaves npm to a package of its own
        "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends npm >/dev/null
    fi
    echo "setup: installing onnxruntime-node (npm) in $runtime" >&2
    npm ci --prefix "$runtime" --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
fi
