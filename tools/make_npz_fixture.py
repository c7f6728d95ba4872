#!/usr/bin/env python3
"""Writes tests/fixtures/numpy_params.npz and numpy_forward.npz with NumPy itself.

numpy_params.npz is a course-style parameters dict (W1, b1, W2, b2; relu then
sigmoid) saved with np.savez, the way a course student would save it.
numpy_forward.npz holds an input X and NumPy's forward pass AL of that network,
so the C++ test can check that a NumPy-written file loads and predicts the same.
"""
import pathlib

import numpy as np

out = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures"
np.random.seed(7)
parameters = {
    "W1": np.random.randn(3, 4) / np.sqrt(4),
    "b1": np.random.randn(3, 1) * 0.1,
    "W2": np.random.randn(1, 3) / np.sqrt(3),
    "b2": np.random.randn(1, 1) * 0.1,
}
X = np.random.randn(4, 5)
A1 = np.maximum(0, parameters["W1"] @ X + parameters["b1"])
AL = 1 / (1 + np.exp(-(parameters["W2"] @ A1 + parameters["b2"])))
np.savez(out / "numpy_params.npz", **parameters)
np.savez(out / "numpy_forward.npz", X=X, AL=AL)
