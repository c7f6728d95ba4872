#!/usr/bin/env python3
"""Reference values for tests/test_optimizers.cpp, computed with NumPy.

Three steps of each optimizer on one 2x2 parameter with fixed gradients, using the
update rules of the course "Improving Deep Neural Networks" (see optimizers.hpp).
"""
import numpy as np

p0 = np.array([[1.0, -2.0], [0.5, 3.0]])
grads = [np.array([[0.1, -0.2], [0.3, 0.4]]), np.array([[-0.5, 0.25], [0.05, 1.0]]),
         np.array([[0.2, 0.2], [-0.3, -0.1]])]
lr, beta, b1, b2, eps = 0.1, 0.9, 0.9, 0.999, 1e-8


def run(step):
    p, state = p0.copy(), {}
    for t, g in enumerate(grads, start=1):
        p = step(p, g, t, state)
    return p


def momentum(p, g, t, s):
    s["v"] = beta * s.get("v", 0) + (1 - beta) * g
    return p - lr * s["v"]


def nesterov(p, g, t, s):
    s["v"] = beta * s.get("v", 0) + (1 - beta) * g
    return p - lr * (beta * s["v"] + (1 - beta) * g)


def rmsprop(p, g, t, s):
    s["s"] = beta * s.get("s", 0) + (1 - beta) * g * g
    return p - lr * g / (np.sqrt(s["s"]) + eps)


def adam(p, g, t, s):
    s["v"] = b1 * s.get("v", 0) + (1 - b1) * g
    s["s"] = b2 * s.get("s", 0) + (1 - b2) * g * g
    v_hat = s["v"] / (1 - b1 ** t)
    s_hat = s["s"] / (1 - b2 ** t)
    return p - lr * v_hat / (np.sqrt(s_hat) + eps)


def adagrad(p, g, t, s):
    s["s"] = s.get("s", 0) + g * g
    return p - lr * g / (np.sqrt(s["s"]) + eps)


for name, step in [("momentum", momentum), ("nesterov", nesterov), ("rmsprop", rmsprop), ("adam", adam),
                   ("adagrad", adagrad)]:
    p = run(step)
    print("%s: {%s}" % (name, ", ".join(repr(float(v)) for v in p.ravel())))
