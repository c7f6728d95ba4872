#!/usr/bin/env bash
# Installs what nndl needs to build, test and run its examples on Debian 12.
# A no-op when everything is already there.
# Usage: tools/setup.sh [--bench] [--fuzz]
#   --bench  also NumPy's and PyTorch's benchmark needs (PyTorch, OpenBLAS)
#   --fuzz   also clang and its libFuzzer runtime
set -euo pipefail

packages=(cmake g++ make pkg-config libeigen3-dev doctest-dev libstb-dev libhdf5-dev zlib1g-dev
          gnuplot-nox python3-numpy dataset-fashion-mnist
          libonnx-dev libprotobuf-dev python3-onnx python3-opencv python3-torch libcli11-dev
          doxygen fortunes ccache)
# fortunes: the text char_model learns from by default; ccache: a rebuild after a change
# compiles only what changed.
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
if ((${#missing[@]} == 0)); then
    exit 0
fi

echo "setup: installing ${missing[*]}" >&2
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
    sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
