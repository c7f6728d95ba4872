#!/usr/bin/python3
"""Reference values for tests/test_gru.cpp from PyTorch's nn.GRU (float64), with weights
drawn by NumPy's legacy generator in the order the test draws them with nndl::NumpyRandom:
np.random.seed(2); Wx = randn(3u, n); Wh = randn(3u, u); bx = randn(3u, 1); bh = randn(3u, 1);
x = randn(n, m, T) (the course's layout); h0 = randn(u, m); P = randn(u, m, T).
The loss is sum(h * P) over every step; its gradients are printed.
Run: /usr/bin/python3 tools/recurrent_reference.py"""
import numpy as np
import torch

n, u, m, T = 3, 4, 2, 5
np.random.seed(2)
Wx = np.random.randn(3 * u, n)
Wh = np.random.randn(3 * u, u)
bx = np.random.randn(3 * u, 1)
bh = np.random.randn(3 * u, 1)
x = np.random.randn(n, m, T)
h0 = np.random.randn(u, m)
P = np.random.randn(u, m, T)

gru = torch.nn.GRU(n, u).double()
with torch.no_grad():
    gru.weight_ih_l0.copy_(torch.from_numpy(Wx))
    gru.weight_hh_l0.copy_(torch.from_numpy(Wh))
    gru.bias_ih_l0.copy_(torch.from_numpy(bx[:, 0]))
    gru.bias_hh_l0.copy_(torch.from_numpy(bh[:, 0]))
xs = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 1, 0))).requires_grad_()  # (T, m, n)
h_start = torch.from_numpy(np.ascontiguousarray(h0.T[None])).requires_grad_()       # (1, m, u)
out, h_last = gru(xs, h_start)                                                       # out (T, m, u)
loss = (out * torch.from_numpy(np.ascontiguousarray(P.transpose(2, 1, 0)))).sum()
loss.backward()
r = lambda v: repr(float(v))
print("h[k=1][i=0][t=4] =", r(out[4, 0, 1]), " h[k=3][i=1][t=2] =", r(out[2, 1, 3]), " h[k=0][i=1][t=0] =", r(out[0, 1, 0]))
print("loss =", r(loss))
print("dWx[5][2] =", r(gru.weight_ih_l0.grad[5, 2]), " dWh[10][1] =", r(gru.weight_hh_l0.grad[10, 1]))
print("dbx[9] =", r(gru.bias_ih_l0.grad[9]), " dbh[9] =", r(gru.bias_hh_l0.grad[9]))
print("dx[f=2][i=1][t=3] =", r(xs.grad[3, 1, 2]), " dh0[k=2][i=0] =", r(h_start.grad[0, 0, 2]))
