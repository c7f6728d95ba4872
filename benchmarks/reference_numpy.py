#!/usr/bin/env python3
"""NumPy reference for nndl's benchmark: the same work, written directly in NumPy.

Prints lines "RESULT name seconds work" for the driver (benchmarks/benchmark.cpp):
  cat_float64   the course's L-layer cat model (12288-20-7-5-1), full batch, gradient descent
  fashion_epoch_float32  one epoch of a 784-256-128-10 MLP, batch 128, Adam (NumPy float32)
Usage: reference_numpy.py --cat DATA.npz --iterations N [--fashion DIR] [--epoch-limit N]
"""
import argparse
import ctypes
import gzip
import pathlib
import time

import numpy as np


def blas_info():
    """Which OpenBLAS kernel and thread count NumPy runs with."""
    for line in open("/proc/self/maps"):
        if "openblas" in line and line.strip().endswith(".so") or ("openblas" in line and ".so." in line):
            path = line.split()[-1]
            try:
                lib = ctypes.CDLL(path)
                lib.openblas_get_corename.restype = ctypes.c_char_p
                lib.openblas_get_config.restype = ctypes.c_char_p
                return "%s, %s, %d threads" % (lib.openblas_get_corename().decode(),
                                               lib.openblas_get_config().decode(), lib.openblas_get_num_threads())
            except (OSError, AttributeError):
                continue
    return "unknown BLAS"


def cat_model(X, Y, iterations, dtype):
    X, Y = X.astype(dtype), Y.astype(dtype)
    dims = [X.shape[0], 20, 7, 5, 1]
    np.random.seed(1)
    W = [None] + [(np.random.randn(dims[l], dims[l - 1]) / np.sqrt(dims[l - 1])).astype(dtype) for l in range(1, 5)]
    b = [None] + [np.zeros((dims[l], 1), dtype) for l in range(1, 5)]
    m = X.shape[1]
    start = time.perf_counter()
    for i in range(iterations):
        A, caches = X, []
        for l in range(1, 5):
            Z = W[l] @ A + b[l]
            caches.append((A, Z))
            A = 1 / (1 + np.exp(-Z)) if l == 4 else np.maximum(0, Z)
        cost = -np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m
        dZ = A - Y
        for l in range(4, 0, -1):
            A_prev, Z = caches[l - 1]
            dW = dZ @ A_prev.T / m
            db = np.sum(dZ, axis=1, keepdims=True) / m
            if l > 1:
                dA = W[l].T @ dZ
                dZ = dA * (caches[l - 2][1] > 0)
            W[l] -= 0.0075 * dW
            b[l] -= 0.0075 * db
    return time.perf_counter() - start, float(cost)


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * rank).reshape(dims)


def fashion_epoch(directory, limit):
    d = pathlib.Path(directory)
    X = read_idx(d / "train-images-idx3-ubyte.gz").reshape(-1, 784).T.astype(np.float32) / 255
    labels = read_idx(d / "train-labels-idx1-ubyte.gz")
    if limit:
        X, labels = X[:, :limit], labels[:limit]
    Y = np.eye(10, dtype=np.float32)[:, labels]
    rng = np.random.RandomState(0)
    sizes = [784, 256, 128, 10]
    W = [rng.randn(sizes[i + 1], sizes[i]).astype(np.float32) * np.float32(np.sqrt(2 / sizes[i])) for i in range(3)]
    b = [np.zeros((sizes[i + 1], 1), np.float32) for i in range(3)]
    params = W + b
    v = [np.zeros_like(p) for p in params]
    s = [np.zeros_like(p) for p in params]
    lr, b1, b2, eps, t = 1e-3, 0.9, 0.999, 1e-8, 0
    m = X.shape[1]
    order = rng.permutation(m)
    start = time.perf_counter()
    for first in range(0, m, 128):
        idx = order[first:first + 128]
        x, y = X[:, idx], Y[:, idx]
        n = x.shape[1]
        A1 = np.maximum(0, W[0] @ x + b[0])
        A2 = np.maximum(0, W[1] @ A1 + b[1])
        Z3 = W[2] @ A2 + b[2]
        P = np.exp(Z3 - Z3.max(0))
        P /= P.sum(0)
        dZ3 = (P - y) / n
        dZ2 = (W[2].T @ dZ3) * (A2 > 0)
        dZ1 = (W[1].T @ dZ2) * (A1 > 0)
        grads = [dZ1 @ x.T, dZ2 @ A1.T, dZ3 @ A2.T, dZ1.sum(1, keepdims=True), dZ2.sum(1, keepdims=True),
                 dZ3.sum(1, keepdims=True)]
        t += 1
        for k, g in enumerate(grads):
            v[k] = b1 * v[k] + (1 - b1) * g
            s[k] = b2 * s[k] + (1 - b2) * g * g
            params[k] -= lr * (v[k] / (1 - b1 ** t)) / (np.sqrt(s[k] / (1 - b2 ** t)) + eps)
    return time.perf_counter() - start, m


def argument_parser():
    """The options both reference scripts take (the benchmark passes the same ones to each)."""
    p = argparse.ArgumentParser()
    p.add_argument("--cat", required=True)
    p.add_argument("--iterations", type=int, default=2500)
    p.add_argument("--fashion")
    p.add_argument("--epoch-limit", type=int, default=0)
    p.add_argument("--skip-cnn", action="store_true", help="leave out the CNN epoch (PyTorch's script only has one)")
    p.add_argument("--lstm-iterations", type=int, default=10,
                   help="forward and backward passes of the LSTM rows, 0: none (PyTorch's script only has them)")
    p.add_argument("--text", help="the text of the char_model epoch row (PyTorch's script only has it)")
    p.add_argument("--text-limit", type=int, default=0, help="pieces of 100 characters in that epoch (0: all)")
    p.add_argument("--inference-images", type=int, default=0,
                   help="images of each batch-256 inference row, a tenth at batch 1 (PyTorch's script only has them)")
    return p


def main():
    a = argument_parser().parse_args()
    data = np.load(a.cat)
    print("INFO numpy %s, %s" % (np.__version__, blas_info()), flush=True)
    seconds, cost = cat_model(data["X"], data["Y"], a.iterations, np.float64)
    print("RESULT cat_float64 %.6f %d cost=%.12g" % (seconds, a.iterations, cost), flush=True)
    if a.fashion:
        seconds, examples = fashion_epoch(a.fashion, a.epoch_limit)
        print("RESULT fashion_epoch_float32 %.6f %d" % (seconds, examples), flush=True)


if __name__ == "__main__":
    main()
