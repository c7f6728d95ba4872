#!/usr/bin/python3
"""Random small chains of the operators nndl's ONNX importer reads, built in PyTorch (random
weights, eval mode) and exported with torch.onnx.export, with PyTorch's outputs, for nndl's
differential import test (tests/onnx_differential.cpp, ctest onnx_differential_import).

Each model is a chain of 2 to 9 steps drawn from: Conv (1x1 and 3x3, stride 1 and 2,
padding 0 and 1), a zero Pad before a Conv or AveragePool (with ReLU, Tanh or Sigmoid between
them sometimes), BatchNormalization of images and of features, Relu, LeakyRelu, Sigmoid,
Tanh, MaxPool, AveragePool (with and without count_include_pad), GlobalAveragePool, Flatten,
a Transpose to NHWC and Reshape, a Reshape of features back to an image [-1, n, 1, 1], Gemm,
MatMul + Add, Sub and Div by constants (a normalization), Dropout, Softmax at the end.
Some chains are ones nndl must refuse (an activation that changes the padded zeros, features
of a channel-major Flatten reshaped back to an image); the test accepts a clear refusal and
nothing else: a model that loads must match.

OpenCV's DNN module (python3-opencv) runs each model too, as a consumer independent of
PyTorch: where it reads the model its output is stored beside PyTorch's and the test
compares nndl with both; where it refuses or disagrees with PyTorch, models.txt says so.

Writes into OUT_DIR: model_K.onnx and model_K.npz (x: the input, one example per column in
nndl's height x width x channels order; expected: PyTorch's output, the same layout; opencv: OpenCV's, where it read the model; float32)
for K = 0 .. COUNT-1, and a list models.txt (one line per model: its file and its steps).

Usage: tools/onnx_random_models.py OUT_DIR [COUNT] [SEED]   (defaults 80 and 1)
Exit code 77 (a visible skip in ctest) when PyTorch or NumPy is missing.
"""
import os
import random
import sys

SKIP = 77


def main():
    if len(sys.argv) not in (2, 3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    out = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 80
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    os.makedirs(out, exist_ok=True)
    for name in os.listdir(out):  # no models of an earlier run left behind
        if name.startswith("model_") or name == "models.txt":
            os.remove(os.path.join(out, name))
    try:
        import numpy as np
        import torch
        from torch import nn
    except ImportError as e:
        print(f"onnx_random_models: skipped, {e.name} is not installed (apt-get install python3-torch)")
        return SKIP
    try:
        import cv2
    except ImportError:
        print("onnx_random_models: skipped, cv2 is not installed (apt-get install python3-opencv)")
        return SKIP

    class Normalize(nn.Module):  # (x - center) / spread: Sub and Div by constants
        def __init__(self, n, rng):
            super().__init__()
            self.center = nn.Parameter(torch.tensor(rng.uniform(-1, 1, n), dtype=torch.float32))
            self.spread = nn.Parameter(torch.tensor(rng.uniform(0.5, 2, n), dtype=torch.float32))

        def forward(self, x):
            return (x - self.center) / self.spread

    class ToImage(nn.Module):  # [batch, n] -> [batch, n, 1, 1]
        def __init__(self, n):
            super().__init__()
            self.n = n

        def forward(self, x):
            return x.reshape(-1, self.n, 1, 1)

    class ChannelsLastFlatten(nn.Module):  # Transpose to NHWC, then Reshape to [batch, n]
        def __init__(self, n):
            super().__init__()
            self.n = n

        def forward(self, x):
            return x.permute(0, 2, 3, 1).reshape(-1, self.n)

    class MatMulAdd(nn.Module):  # MatMul then Add, as a hand-written layer exports
        def __init__(self, n, m, rng):
            super().__init__()
            self.w = nn.Parameter(torch.tensor(rng.normal(0, 1 / np.sqrt(n), (n, m)), dtype=torch.float32))
            self.b = nn.Parameter(torch.tensor(rng.normal(0, 0.1, m), dtype=torch.float32))

        def forward(self, x):
            return torch.matmul(x, self.w) + self.b

    def batch_norm(module, channels, rng):
        module.running_mean.copy_(torch.tensor(rng.uniform(-0.5, 0.5, channels)))
        module.running_var.copy_(torch.tensor(rng.uniform(0.5, 2.0, channels)))
        module.weight.data.copy_(torch.tensor(rng.uniform(0.5, 1.5, channels)))
        module.bias.data.copy_(torch.tensor(rng.uniform(-0.5, 0.5, channels)))
        return module

    def activation(rng_py):
        return rng_py.choice([(nn.ReLU(), "Relu"), (nn.LeakyReLU(0.01), "LeakyRelu"), (nn.Sigmoid(), "Sigmoid"),
                              (nn.Tanh(), "Tanh")])

    listing = []
    for k in range(count):
        rng_py = random.Random(seed * 100003 + k)
        rng = np.random.RandomState(seed * 1009 + k)
        torch.manual_seed(seed * 7919 + k)
        channels, height, width = rng_py.choice([1, 2, 3]), rng_py.randint(4, 9), rng_py.randint(4, 9)
        in_channels, in_height, in_width = channels, height, width
        image = True
        features = 0
        layers, steps = [], []

        def add(module, step):
            layers.append(module)
            steps.append(step)
        for _ in range(rng_py.randint(2, 9)):
            if image:
                choice = rng_py.choice(["conv", "conv", "pad_conv", "batch_norm", "activation", "max_pool",
                                        "average_pool", "global_pool", "flatten", "flatten_nhwc"])
                if choice in ("conv", "pad_conv"):
                    kernel = rng_py.choice([1, 3])
                    stride = rng_py.choice([1, 1, 2])
                    padding = 0 if choice == "pad_conv" else rng_py.choice([0, 1])
                    pad = rng_py.choice([1, 2]) if choice == "pad_conv" else 0
                    if min(height, width) + 2 * (padding + pad) < kernel:
                        continue
                    filters = rng_py.randint(1, 6)
                    if pad:
                        layers.append(nn.ZeroPad2d(pad))
                        steps.append(f"Pad {pad}")
                        if rng_py.random() < 0.3:
                            add(*activation(rng_py))
                    layers.append(nn.Conv2d(channels, filters, kernel, stride=stride, padding=padding))
                    steps.append(f"Conv {kernel}x{kernel}/{stride} pad {padding} -> {filters}")
                    height = (height + 2 * (padding + pad) - kernel) // stride + 1
                    width = (width + 2 * (padding + pad) - kernel) // stride + 1
                    channels = filters
                elif choice == "batch_norm":
                    layers.append(batch_norm(nn.BatchNorm2d(channels), channels, rng))
                    steps.append("BatchNormalization (image)")
                elif choice == "activation":
                    add(*activation(rng_py))
                elif choice == "max_pool" and min(height, width) >= 2:
                    layers.append(nn.MaxPool2d(2))
                    steps.append("MaxPool 2")
                    height, width = height // 2, width // 2
                elif choice == "average_pool" and min(height, width) >= 3:
                    include = rng_py.random() < 0.8
                    layers.append(nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=include))
                    steps.append(f"AveragePool 3 pad 1 count_include_pad {int(include)}")
                elif choice == "global_pool":
                    layers.append(nn.AdaptiveAvgPool2d(1))
                    steps.append("GlobalAveragePool")
                    height = width = 1
                elif choice in ("flatten", "flatten_nhwc"):
                    features = channels * height * width
                    layers.append(nn.Flatten() if choice == "flatten" else ChannelsLastFlatten(features))
                    steps.append("Flatten" if choice == "flatten" else "Transpose NHWC + Reshape")
                    image = False
            else:
                choice = rng_py.choice(["linear", "linear", "matmul", "batch_norm", "activation", "normalize",
                                        "dropout", "to_image"])
                if choice in ("linear", "matmul"):
                    units = rng_py.randint(1, 12)
                    layers.append(nn.Linear(features, units) if choice == "linear" else MatMulAdd(features, units, rng))
                    steps.append(("Gemm" if choice == "linear" else "MatMul + Add") + f" -> {units}")
                    features = units
                elif choice == "batch_norm":
                    layers.append(batch_norm(nn.BatchNorm1d(features), features, rng))
                    steps.append("BatchNormalization (features)")
                elif choice == "activation":
                    add(*activation(rng_py))
                elif choice == "normalize":
                    layers.append(Normalize(features, rng))
                    steps.append("Sub + Div")
                elif choice == "dropout":
                    layers.append(nn.Dropout(0.3))
                    steps.append("Dropout")
                elif choice == "to_image":
                    layers.append(ToImage(features))
                    steps.append(f"Reshape [-1, {features}, 1, 1]")
                    channels, height, width, image = features, 1, 1, True
        if image:
            features = channels * height * width
            layers.append(nn.Flatten())
            steps.append("Flatten")
        if steps[-1] == "Flatten" and rng_py.random() < 0.8:  # most models end in a dense layer
            units = rng_py.randint(1, 10)
            layers.append(nn.Linear(features, units))
            steps.append(f"Gemm -> {units}")
        if rng_py.random() < 0.3:
            layers.append(nn.Softmax(dim=1))
            steps.append("Softmax")
        model = nn.Sequential(*layers).eval()
        x_nchw = torch.tensor(rng.normal(0, 1, (5, in_channels, in_height, in_width)), dtype=torch.float32)
        with torch.no_grad():
            y = model(x_nchw).numpy()
        path = os.path.join(out, f"model_{k}.onnx")
        # Opset 10 where there is a Pad: its pads are then an attribute (from opset 11 PyTorch
        # computes them in the graph); else opset 13.
        opset = 10 if any(step.startswith("Pad") for step in steps) else 13
        torch.onnx.export(model, x_nchw, path, opset_version=opset, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
        # nndl's layout: one example per column, an image in height x width x channels order.
        x_columns = x_nchw.numpy().transpose(0, 2, 3, 1).reshape(5, -1).T
        arrays = {"x": np.ascontiguousarray(x_columns, dtype=np.float32),
                  "expected": np.ascontiguousarray(y.T, dtype=np.float32)}
        opencv = opencv_output(cv2, path, x_nchw.numpy())
        if isinstance(opencv, str):
            verdict = f"OpenCV cannot run it ({opencv})"
        elif opencv.shape != y.shape:
            verdict = f"OpenCV's output is {opencv.shape}, PyTorch's {y.shape}"
        elif np.abs(opencv - y).max() > 1e-5 * max(1.0, np.abs(y).max()):
            verdict = f"OpenCV differs from PyTorch by {np.abs(opencv - y).max():.3g}"
        else:
            verdict = "OpenCV agrees"
            arrays["opencv"] = np.ascontiguousarray(opencv.T, dtype=np.float32)
        np.savez(os.path.join(out, f"model_{k}.npz"), **arrays)
        listing.append(f"model_{k}.onnx: opset {opset}: " + ", ".join(steps) + f"; {verdict}")
    with open(os.path.join(out, "models.txt"), "w") as f:
        f.write("\n".join(listing) + "\n")
    print(f"onnx_random_models: wrote {count} models to {out}")
    return 0


def opencv_output(cv2, path, x):
    """OpenCV's output for x, flattened to [batch, -1] as PyTorch's, or why it has none."""
    try:
        net = cv2.dnn.readNetFromONNX(path)
        net.setInput(x)
        y = net.forward()
    except cv2.error as e:
        lines = [line for line in str(e).splitlines() if line.strip()]
        return lines[-1].strip() if lines else "cv2.error"
    return y.reshape(y.shape[0], -1) if y.ndim > 2 else y


if __name__ == "__main__":
    sys.exit(main())
