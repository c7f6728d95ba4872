#!/usr/bin/python3
"""Recurrent PyTorch models with random weights, exported with torch.onnx.export, for nndl's
import test (tests/test_onnx_pytorch_recurrent.cpp, ctest onnx_pytorch_recurrent_import).

Writes into OUT_DIR, each exported at opset 13 with free batch and steps dimensions:
  lstm.onnx        nn.LSTM(10, 32, num_layers=2, batch_first=True), then nn.Linear(32, 5) at
                   every step
  gru.onnx         nn.GRU(10, 24, batch_first=True); nn.Linear(24, 3) of the last state, h_n[-1]
  rnn.onnx         nn.RNN(10, 16, batch_first=True) (tanh), then nn.Linear(16, 4) and a softmax
                   at every step
  characters.onnx  nn.Embedding(30, 8), nn.LSTM(8, 20, batch_first=True), nn.Linear(20, 30);
                   int64 tokens in
  reference.npz    100 random sequences of 15 steps for each model (float32 or int64,
                   [100, 15, features] or [100, 15]) and PyTorch's outputs on them

Usage: tools/onnx_pytorch_recurrent.py OUT_DIR
Exit code 77 (a visible skip in ctest) when PyTorch or the onnx package is missing.
"""
import os
import sys

SKIP = 77
STEPS = 15
EXAMPLES = 100


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = sys.argv[1]
    if os.path.exists(os.path.join(out, "reference.npz")):  # no stale reference after a failed run
        os.remove(os.path.join(out, "reference.npz"))
    try:
        import numpy as np
        import onnx
        import torch
        from torch import nn
    except ImportError as e:
        print(f"onnx_pytorch_recurrent: skipped, {e} (tools/setup.sh installs python3-torch and python3-onnx)")
        return SKIP
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    torch.set_num_threads(1)

    class EveryStep(nn.Module):
        def __init__(self, recurrent, head, softmax=False):
            super().__init__()
            self.recurrent, self.head, self.softmax = recurrent, head, softmax

        def forward(self, x):
            y, _ = self.recurrent(x)
            y = self.head(y)
            return torch.softmax(y, dim=-1) if self.softmax else y

    class LastState(nn.Module):
        def __init__(self, recurrent, head):
            super().__init__()
            self.recurrent, self.head = recurrent, head

        def forward(self, x):
            _, h = self.recurrent(x)
            return self.head(h[-1])

    class Characters(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(30, 8)
            self.recurrent = nn.LSTM(8, 20, batch_first=True)
            self.head = nn.Linear(20, 30)

        def forward(self, tokens):
            y, _ = self.recurrent(self.embedding(tokens))
            return self.head(y)

    models = {
        "lstm": EveryStep(nn.LSTM(10, 32, num_layers=2, batch_first=True), nn.Linear(32, 5)),
        "gru": LastState(nn.GRU(10, 24, batch_first=True), nn.Linear(24, 3)),
        "rnn": EveryStep(nn.RNN(10, 16, batch_first=True), nn.Linear(16, 4), softmax=True),
        "characters": Characters(),
    }
    arrays = {}
    axes = {"input": {0: "batch", 1: "steps"}, "output": {0: "batch"}}
    for name, model in models.items():
        model.eval()
        if name == "characters":
            x = torch.randint(0, 30, (EXAMPLES, STEPS), dtype=torch.int64)
        else:
            x = torch.randn(EXAMPLES, STEPS, 10)
        path = os.path.join(out, name + ".onnx")
        output_axes = dict(axes, output={0: "batch"} if name == "gru" else {0: "batch", 1: "steps"})
        torch.onnx.export(model, x[:2], path, opset_version=13, input_names=["input"], output_names=["output"],
                          dynamic_axes=output_axes)
        onnx.checker.check_model(path)
        with torch.no_grad():
            y = model(x)
        arrays[name + "_x"] = x.numpy()
        arrays[name + "_y"] = y.numpy()
        print(f"{name}.onnx: input {tuple(x.shape)}, output {tuple(y.shape)}")
    np.savez(os.path.join(out, "reference.npz"), **arrays)
    print(f"PyTorch {torch.__version__}: models and reference outputs in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
