#!/usr/bin/env python3
"""Reference numbers for nndl's tests, computed with NumPy the way the course does.

Runs the course's models in plain NumPy on the original .h5 files and prints the
costs and accuracies. Needs python3-numpy and python3-h5py (apt-get install).

Usage: course_reference.py [--iterations N] [--model lr|two|deep|all]
"""
import argparse
import pathlib

import h5py
import numpy as np

DATA = pathlib.Path(__file__).resolve().parent.parent / "data" / "catvnoncat"


def load():
    with h5py.File(DATA / "train_catvnoncat.h5", "r") as f:
        train_x, train_y = np.array(f["train_set_x"]), np.array(f["train_set_y"])
    with h5py.File(DATA / "test_catvnoncat.h5", "r") as f:
        test_x, test_y = np.array(f["test_set_x"]), np.array(f["test_set_y"])
    flat = lambda x: x.reshape(x.shape[0], -1).T / 255.0
    return flat(train_x), train_y.reshape(1, -1), flat(test_x), test_y.reshape(1, -1)


def forward(params, X, L):
    caches, A = [], X
    for l in range(1, L + 1):
        Z = params["W%d" % l] @ A + params["b%d" % l]
        caches.append((A, Z))
        A = 1 / (1 + np.exp(-Z)) if l == L else np.maximum(0, Z)
    return A, caches


def train_deep(layer_dims, iterations, rate, X, Y, init, report):
    np.random.seed(1)
    L = len(layer_dims) - 1
    params = {}
    for l in range(1, L + 1):
        W = np.random.randn(layer_dims[l], layer_dims[l - 1])
        if init == "zeros":  # logistic regression
            params["W%d" % l] = np.zeros_like(W)
        else:
            params["W%d" % l] = W * 0.01 if init == "small" else W / np.sqrt(layer_dims[l - 1])
        params["b%d" % l] = np.zeros((layer_dims[l], 1))
    m = X.shape[1]
    for i in range(iterations):
        AL, caches = forward(params, X, L)
        cost = float(np.squeeze(-np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)) / m))
        if i % 100 == 0 or i == iterations - 1:
            report(i, cost)
        dA = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
        grads = {}
        for l in reversed(range(1, L + 1)):
            A_prev, Z = caches[l - 1]
            if l == L:
                s = 1 / (1 + np.exp(-Z))
                dZ = dA * s * (1 - s)
            else:
                dZ = np.array(dA, copy=True)
                dZ[Z <= 0] = 0
            grads["dW%d" % l] = dZ @ A_prev.T / m
            grads["db%d" % l] = np.sum(dZ, axis=1, keepdims=True) / m
            dA = params["W%d" % l].T @ dZ
        for l in range(1, L + 1):
            params["W%d" % l] = params["W%d" % l] - rate * grads["dW%d" % l]
            params["b%d" % l] = params["b%d" % l] - rate * grads["db%d" % l]
    return params, L


def accuracy(params, L, X, Y):
    AL, _ = forward(params, X, L)
    return float(np.sum((AL > 0.5) == Y) / X.shape[1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--model", default="all")
    args = parser.parse_args()
    train_x, train_y, test_x, test_y = load()
    report = lambda i, c: print("Cost after iteration %d: %r" % (i, c))
    models = {"lr": ([12288, 1], 0.005, "zeros"), "two": ([12288, 7, 1], 0.0075, "small"),
              "deep": ([12288, 20, 7, 5, 1], 0.0075, "sqrt")}
    for name, (dims, rate, init) in models.items():
        if args.model not in (name, "all"):
            continue
        print("== %s %s, learning rate %g, %d iterations" % (name, dims, rate, args.iterations))
        params, L = train_deep(dims, args.iterations, rate, train_x, train_y, init, report)
        print("Train accuracy: %r" % accuracy(params, L, train_x, train_y))
        print("Test accuracy: %r" % accuracy(params, L, test_x, test_y))


if __name__ == "__main__":
    main()
