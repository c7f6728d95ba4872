#!/usr/bin/env python3
"""Reference indices for nndl::train_test_split (tests/test_data_tools.cpp).

scikit-learn's train_test_split(X, y, test_size=f, random_state=seed) draws
np.random.RandomState(seed).permutation(m), takes the first ceil(f * m) indices for the
test set and the next m - ceil(f * m) for training. This prints those lists with NumPy
alone, for the cases the test checks."""
import math

import numpy as np

for m, fraction, seed in [(10, 0.25, 42), (7, 0.5, 0)]:
    order = np.random.RandomState(seed).permutation(m)
    tests = math.ceil(fraction * m)
    print(f"m={m} test_fraction={fraction} seed={seed}: test {order[:tests].tolist()} train {order[tests:].tolist()}")
