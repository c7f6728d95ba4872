#!/usr/bin/env python3
"""Writes tests/fixtures/conv_reference.npz: convolution, pooling and batch normalization
computed by PyTorch (Debian's python3-torch, float64), for tests/test_conv.cpp.

Every case stores its inputs and PyTorch's results in nndl's layout: a batch is a
(height * width * channels) x m matrix, one example per column, channels fastest; a
convolution's weights are filters x (kernel_height * kernel_width * in_channels) in
(row, column, channel) order. Asymmetric padding goes through F.pad (zeros for
convolution, -inf for max pooling); symmetric padding through the layers' own argument.

Usage: /usr/bin/python3 tools/conv_reference.py [OUTPUT.npz]
"""
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
out = {}


def to_nndl(t):
    """(m, C, H, W) tensor to a (H*W*C) x m array."""
    m = t.shape[0]
    return np.ascontiguousarray(t.detach().permute(0, 2, 3, 1).reshape(m, -1).numpy().T)


def from_seed(seed, m, c, h, w):
    """randn(m, h, w, c) after np.random.seed(seed), as NCHW for PyTorch."""
    rng = np.random.RandomState(seed)
    x = rng.randn(m, h, w, c)
    return torch.tensor(x).permute(0, 3, 1, 2).contiguous(), rng


def conv_case(name, seed, m, c, h, w, filters, kernel, stride, pad):
    """pad = (top, bottom, left, right)."""
    x, rng = from_seed(seed, m, c, h, w)
    weight = torch.tensor(rng.randn(filters, c, kernel[0], kernel[1]) * 0.5)
    bias = torch.tensor(rng.randn(filters))
    x.requires_grad_(True)
    weight.requires_grad_(True)
    bias.requires_grad_(True)
    padded = F.pad(x, (pad[2], pad[3], pad[0], pad[1]))
    y = F.conv2d(padded, weight, bias, stride=stride)
    dy = torch.tensor(rng.randn(*y.shape))
    y.backward(dy)
    out[f"{name}.x"] = to_nndl(x)
    out[f"{name}.W"] = np.ascontiguousarray(weight.detach().permute(0, 2, 3, 1).reshape(filters, -1).numpy())
    out[f"{name}.b"] = bias.detach().numpy().reshape(filters, 1)
    out[f"{name}.y"] = to_nndl(y)
    out[f"{name}.dy"] = to_nndl(dy)
    out[f"{name}.dx"] = to_nndl(x.grad)
    out[f"{name}.dW"] = np.ascontiguousarray(weight.grad.permute(0, 2, 3, 1).reshape(filters, -1).numpy())
    out[f"{name}.db"] = bias.grad.numpy().reshape(filters, 1)


def pool_case(name, seed, m, c, h, w, mode, kernel, stride, pad):
    x, rng = from_seed(seed, m, c, h, w)
    x.requires_grad_(True)
    if mode == "max":
        y = F.max_pool2d(x, kernel, stride=stride, padding=pad)
    else:
        y = F.avg_pool2d(x, kernel, stride=stride, padding=pad, count_include_pad=True)
    dy = torch.tensor(rng.randn(*y.shape))
    y.backward(dy)
    out[f"{name}.x"] = to_nndl(x)
    out[f"{name}.y"] = to_nndl(y)
    out[f"{name}.dy"] = to_nndl(dy)
    out[f"{name}.dx"] = to_nndl(x.grad)


def global_pool_case(name, seed, m, c, h, w):
    x, rng = from_seed(seed, m, c, h, w)
    x.requires_grad_(True)
    y = x.mean(dim=(2, 3), keepdim=True)
    dy = torch.tensor(rng.randn(*y.shape))
    y.backward(dy)
    out[f"{name}.x"] = to_nndl(x)
    out[f"{name}.y"] = to_nndl(y)
    out[f"{name}.dy"] = to_nndl(dy)
    out[f"{name}.dx"] = to_nndl(x.grad)


def batch_norm_case(name, seed, m, c, h, w):
    x, rng = from_seed(seed, m, c, h, w)
    x = x * 2.0 + 0.5
    x.requires_grad_(True)
    bn = torch.nn.BatchNorm2d(c, momentum=0.1, eps=1e-5)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(rng.randn(c)))
        bn.bias.copy_(torch.tensor(rng.randn(c)))
        bn.running_mean.copy_(torch.tensor(rng.randn(c) * 0.1))
        bn.running_var.copy_(torch.tensor(rng.rand(c) + 0.5))
    out[f"{name}.gamma"] = bn.weight.detach().numpy().reshape(c, 1).copy()
    out[f"{name}.beta"] = bn.bias.detach().numpy().reshape(c, 1).copy()
    out[f"{name}.running_mean0"] = bn.running_mean.numpy().reshape(c, 1).copy()
    out[f"{name}.running_var0"] = bn.running_var.numpy().reshape(c, 1).copy()
    bn.eval()
    out[f"{name}.y_eval"] = to_nndl(bn(x))
    bn.train()
    y = bn(x)
    dy = torch.tensor(rng.randn(*y.shape))
    y.backward(dy)
    out[f"{name}.x"] = to_nndl(x)
    out[f"{name}.y"] = to_nndl(y)
    out[f"{name}.dy"] = to_nndl(dy)
    out[f"{name}.dx"] = to_nndl(x.grad)
    out[f"{name}.dgamma"] = bn.weight.grad.numpy().reshape(c, 1).copy()
    out[f"{name}.dbeta"] = bn.bias.grad.numpy().reshape(c, 1).copy()
    out[f"{name}.running_mean"] = bn.running_mean.numpy().reshape(c, 1).copy()
    out[f"{name}.running_var"] = bn.running_var.numpy().reshape(c, 1).copy()


conv_case("conv_valid", 1, 2, 3, 5, 6, 4, (3, 3), (1, 1), (0, 0, 0, 0))
conv_case("conv_stride2_same", 2, 3, 2, 7, 7, 3, (3, 3), (2, 2), (1, 1, 1, 1))
conv_case("conv_rect", 3, 2, 1, 6, 5, 2, (2, 3), (2, 1), (1, 0, 2, 1))
conv_case("conv_same_even", 4, 2, 3, 5, 5, 5, (4, 4), (1, 1), (1, 2, 1, 2))
pool_case("max_2x2", 5, 2, 3, 6, 6, "max", 2, 2, 0)
pool_case("max_3x3_pad", 6, 2, 2, 5, 7, "max", 3, 2, 1)
pool_case("avg_2x2", 7, 2, 3, 6, 6, "avg", 2, 2, 0)
pool_case("avg_3x3_pad", 8, 2, 2, 5, 7, "avg", 3, 1, 1)
global_pool_case("global", 9, 3, 4, 3, 5)
batch_norm_case("bn_image", 10, 4, 3, 4, 5)
batch_norm_case("bn_flat", 11, 6, 4, 1, 1)

path = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/conv_reference.npz"
np.savez(path, **out)
print(f"{path}: {len(out)} arrays (PyTorch {torch.__version__}, NumPy {np.__version__})")
