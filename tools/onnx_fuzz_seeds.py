#!/usr/bin/python3
"""Writes the small PyTorch-exported seeds of the ONNX fuzzer into fuzz/corpus/onnx/:
an MLP with batch norm, dropout and a bias-free Linear (MatMul), and a CNN with average
pooling, LeakyReLU, Flatten and Sigmoid. (nndl_*.onnx come from tests/onnx_export_models,
pytorch_cnn*.onnx from tools/onnx_pytorch_models.py.) Usage: tools/onnx_fuzz_seeds.py"""
import os

import torch
from torch import nn

folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fuzz", "corpus", "onnx")
torch.manual_seed(0)
mlp = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.Tanh(), nn.Dropout(0.5), nn.Linear(6, 3, bias=False),
                    nn.Softmax(dim=1)).eval()
cnn = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, stride=2), nn.LeakyReLU(), nn.AvgPool2d(2), nn.Flatten(),
                    nn.Linear(3 * 2 * 2, 1), nn.Sigmoid()).eval()
torch.onnx.export(mlp, torch.zeros(1, 4), os.path.join(folder, "pytorch_mlp_matmul.onnx"), opset_version=13,
                  input_names=["input"], output_names=["output"], dynamic_axes={"input": {0: "batch"}})
torch.onnx.export(cnn, torch.zeros(1, 2, 8, 8), os.path.join(folder, "pytorch_cnn_avgpool.onnx"), opset_version=11,
                  input_names=["input"], output_names=["output"])
