#!/usr/bin/env python3
"""Checks an nndl model file from NumPy's side.

Usage: check_npz_with_numpy.py MODEL.npz INPUTS.npz
Loads the model (format 2, or format 1) with numpy.load (no pickle), runs the
forward pass of its dense, activation and dropout layers in NumPy on
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
if arch["version"] == 1:  # nndl 0.1: W1, b1, ... with sizes and activations
    layers = [{"type": "dense", "settings": {"activation": name}, "prefix": f"{l}"}
              for l, name in enumerate(arch["activations"], start=1)]
    names = lambda layer, p: f"{p}{layer['prefix']}"
else:  # format 2: layer<k>.<name>
    layers = arch["layers"]
    for k, layer in enumerate(layers, start=1):
        layer["prefix"] = f"layer{k}."
    names = lambda layer, p: f"{layer['prefix']}{p}"
shape = []
for layer in layers:
    kind, settings = layer["type"], layer["settings"]
    if kind == "dense":
        W, b = model[names(layer, "W")], model[names(layer, "b")]
        assert W.shape[1] == A.shape[0] and b.shape == (W.shape[0], 1), (W.shape, b.shape, A.shape)
        A = ACTIVATIONS[settings["activation"]](W.astype(np.float64) @ A + b.astype(np.float64))
    elif kind == "activation":
        A = ACTIVATIONS[settings["activation"]](A)
    elif kind == "dropout":
        pass  # inactive in inference
    else:
        sys.exit(f"{sys.argv[1]}: layer type {kind!r} is not known to this checker")
    shape.append(f"{kind}({settings.get('activation', '')})")
difference = float(np.abs(A - inputs["expected"]).max())
tolerance = 1e-12 if arch["scalar"] == "float64" else 1e-5
print(f"{sys.argv[1]}: {' '.join(shape)} {arch['scalar']}: "
      f"max |NumPy - nndl| = {difference:.3g} (tolerance {tolerance:g})")
sys.exit(0 if difference <= tolerance else 1)
