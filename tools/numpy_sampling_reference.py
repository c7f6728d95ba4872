#!/usr/bin/python3
"""Reference values for tests/test_random.cpp's sampling cases, from NumPy's legacy
generator: np.random.choice with probabilities, and probabilities raised to 1/temperature
and renormalized. Run: /usr/bin/python3 tools/numpy_sampling_reference.py"""
import numpy as np

np.random.seed(7)
p = np.array([0.1, 0.0, 0.25, 0.05, 0.6])
print("choice seed 7, p =", p.tolist(), "20 draws:", [int(np.random.choice(range(5), p=p)) for _ in range(20)])

# Probabilities that sum to 1 only within NumPy's tolerance; the cumulative sum is rescaled.
np.random.seed(3)
q = np.array([0.3, 0.3, 0.4 + 1e-9])
print("choice seed 3, p =", q.tolist(), "10 draws:", [int(np.random.choice(3, p=q)) for _ in range(10)])

# The course's sampling loop: np.random.seed(counter + seed) before each draw.
np.random.seed(1)
y = np.random.rand(27)
y = y / y.sum()
print("seeded draws, seeds 0, 2, 4, 6:", [int((np.random.seed(s), np.random.choice(range(27), p=y))[1]) for s in (0, 2, 4, 6)])

for t in (0.5, 2.0):
    w = p ** (1.0 / t)
    print("temperature", t, ":", [float(repr_) for repr_ in (w / w.sum())])
