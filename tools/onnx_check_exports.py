#!/usr/bin/python3
"""Checks the ONNX files nndl wrote (tests/onnx_export_models.cpp) with real consumers:
onnx's checker (with shape inference) accepts each file, and OpenCV's DNN module
(cv2.dnn.readNetFromONNX) runs it on the same inputs with outputs within 1e-5 of nndl's.

Usage: tools/onnx_check_exports.py DIR
Exit code 77 (a visible skip in ctest) when python3-onnx or python3-opencv is missing.
"""
import glob
import os
import sys

SKIP = 77
LIMIT = 1e-5


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        import cv2
        import numpy as np
        import onnx
    except ImportError as e:
        print(f"onnx_check_exports: skipped, {e} (tools/setup.sh installs python3-onnx and python3-opencv)")
        return SKIP
    models = sorted(glob.glob(os.path.join(sys.argv[1], "*.onnx")))
    if not models:
        print(f"onnx_check_exports: no .onnx files in {sys.argv[1]}")
        return 1
    failed = 0
    for path in models:
        name = os.path.basename(path)
        model = onnx.load(path)
        onnx.checker.check_model(model, full_check=True)
        dims = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim[1:]]
        arrays = np.load(path[:-len(".onnx")] + ".npz")
        x, y = arrays["x"].T, arrays["y"].T  # nndl's columns: examples in rows now
        if len(dims) == 3:  # nndl's (height, width, channels) columns to NCHW
            channels, height, width = dims
            x = x.reshape(-1, height, width, channels).transpose(0, 3, 1, 2)
        net = cv2.dnn.readNetFromONNX(path)
        net.setInput(np.ascontiguousarray(x, dtype=np.float32))
        out = net.forward().reshape(y.shape)
        difference = float(np.abs(out - y).max())
        ok = difference <= LIMIT
        failed += not ok
        print(f"{name:24s} onnx checker: ok; OpenCV {cv2.__version__} vs nndl: largest difference "
              f"{difference:.3g} (limit {LIMIT}) {'ok' if ok else 'FAILED'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
