#!/usr/bin/env python3
"""Checks an nndl model file from NumPy's side.

Usage: check_npz_with_numpy.py MODEL.npz INPUTS.npz
Loads the model with numpy.load (no pickle), runs the forward pass in NumPy on
INPUTS.npz["X"] and compares with INPUTS.npz["expected"] (what nndl computed).
Prints the largest difference; exits 1 when it exceeds 1e-12 (float64) or 1e-5 (float32).
"""
import json
import sys

import numpy as np

ACTIVATIONS = {
    "identity": lambda z: z,
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(0, z),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "softmax": lambda z: np.exp(z - z.max(0)) / np.exp(z - z.max(0)).sum(0),
}

model = np.load(sys.argv[1], allow_pickle=False)
inputs = np.load(sys.argv[2], allow_pickle=False)
arch = json.loads(str(model["architecture"]))
A = inputs["X"].astype(np.float64)
for layer, name in enumerate(arch["activations"], start=1):
    W, b = model[f"W{layer}"], model[f"b{layer}"]
    assert W.shape == (arch["sizes"][layer], arch["sizes"][layer - 1]), W.shape
    assert b.shape == (arch["sizes"][layer], 1), b.shape
    A = ACTIVATIONS[name](W.astype(np.float64) @ A + b.astype(np.float64))
difference = float(np.abs(A - inputs["expected"]).max())
tolerance = 1e-12 if arch["scalar"] == "float64" else 1e-5
print(f"{sys.argv[1]}: {arch['sizes']} {arch['activations']} {arch['scalar']}: "
      f"max |NumPy - nndl| = {difference:.3g} (tolerance {tolerance:g})")
sys.exit(0 if difference <= tolerance else 1)
