#!/usr/bin/python3
"""Writes tests/fixtures/external/: fuzz/corpus/onnx/pytorch_mlp_matmul.onnx with its weights
moved to external data in weights.npz (a name chosen so that `nndl_convert mlp.onnx
weights.npz` would overwrite the model's own weights if it did not check them).
Usage: tools/make_external_fixture.py   (needs python3-onnx)"""
import os
import onnx
from onnx import external_data_helper

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
model = onnx.load(os.path.join(root, "fuzz/corpus/onnx/pytorch_mlp_matmul.onnx"))
external_data_helper.convert_model_to_external_data(model, all_tensors_to_one_file=True, location="weights.npz",
                                                    size_threshold=0)
out = os.path.join(root, "tests/fixtures/external")
os.makedirs(out, exist_ok=True)
onnx.save_model(model, os.path.join(out, "mlp.onnx"))
