#!/usr/bin/python3
"""Checks the ONNX files nndl wrote (tests/onnx_export_models.cpp) with real consumers:
onnx's checker (with shape inference) accepts each file, and a serving engine runs it on
the same inputs with outputs within 1e-5 of nndl's.

Usage: tools/onnx_check_exports.py [--engine opencv|onnxruntime] DIR
  opencv       OpenCV's DNN module (cv2.dnn.readNetFromONNX), the default
  onnxruntime  ONNX Runtime from the npm package onnxruntime-node (tools/setup.sh installs it
               in tools/onnxruntime), run by tools/onnxruntime/run_model.js
Exit code 77 (a visible skip in ctest) when the engine or python3-onnx is missing.
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
LIMIT = 1e-5
HERE = os.path.dirname(os.path.abspath(__file__))
RUNTIME = os.path.join(HERE, "onnxruntime")

# What OpenCV 4.6 (Debian 12) cannot read, with the reason; ONNX Runtime runs these.
OPENCV_CANNOT = {
    "gru_last_step": "its ONNX reader takes a GRU only with all six inputs",
    "rnn_last_step": "it has no layer for ONNX's RNN",
    "embedding_lstm": "its ONNX reader takes Gather only of constant indices",
}


def run_opencv(path, x, work):
    import cv2
    import numpy as np
    import onnx
    model = onnx.load(path)
    if len(model.graph.input[0].type.tensor_type.shape.dim) == 3:
        # OpenCV 4.6 sizes a recurrent layer from the file's input shape: give it this batch.
        model.graph.input[0].type.tensor_type.shape.dim[0].dim_value = x.shape[0]
        path = os.path.join(work, "fixed_batch.onnx")
        onnx.save(model, path)
    net = cv2.dnn.readNetFromONNX(path)
    net.setInput(np.ascontiguousarray(x, dtype=np.float32))
    return net.forward()


def run_onnxruntime(path, x, work):
    import numpy as np
    inputs = os.path.join(work, "input.bin")
    outputs = os.path.join(work, "output.bin")
    np.ascontiguousarray(x, dtype=np.float32).tofile(inputs)
    result = subprocess.run(["node", os.path.join(RUNTIME, "run_model.js"), path, inputs, outputs,
                             ",".join(str(d) for d in x.shape), "float32"], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"ONNX Runtime failed: {result.stderr.strip()}")
    return np.fromfile(outputs, dtype=np.float32)


def main():
    args = sys.argv[1:]
    engine = "opencv"
    if len(args) == 3 and args[0] == "--engine" and args[1] in ("opencv", "onnxruntime"):
        engine, args = args[1], args[2:]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        import numpy as np
        import onnx
        if engine == "opencv":
            import cv2
            version = f"OpenCV {cv2.__version__}"
    except ImportError as e:
        print(f"onnx_check_exports: skipped, {e} (tools/setup.sh installs python3-onnx and python3-opencv)")
        return SKIP
    if engine == "onnxruntime":
        if shutil.which("node") is None or not os.path.isdir(os.path.join(RUNTIME, "node_modules", "onnxruntime-node")):
            print("onnx_check_exports: skipped, ONNX Runtime is not installed (tools/setup.sh installs node and "
                  "the npm package onnxruntime-node in tools/onnxruntime)")
            return SKIP
        version = "ONNX Runtime " + subprocess.run(
            ["node", "-e", "console.log(require('onnxruntime-node/package.json').version)"], cwd=RUNTIME,
            capture_output=True, text=True).stdout.strip()
    models = sorted(glob.glob(os.path.join(args[0], "*.onnx")))
    if not models:
        print(f"onnx_check_exports: no .onnx files in {args[0]}")
        return 1
    failed = 0
    ran = 0
    with tempfile.TemporaryDirectory() as work:
        for path in models:
            name = os.path.basename(path)[:-len(".onnx")]
            model = onnx.load(path)
            onnx.checker.check_model(model, full_check=True)
            if engine == "opencv" and name in OPENCV_CANNOT:
                print(f"{name:24s} onnx checker: ok; {version}: not run, {OPENCV_CANNOT[name]}")
                continue
            dims = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim[1:]]
            arrays = np.load(os.path.join(args[0], name + ".npz"))
            x, y = arrays["x"].T, arrays["y"].T  # nndl's columns: examples in rows now
            if len(dims) == 3:  # nndl's (height, width, channels) columns to NCHW
                channels, height, width = dims
                x = x.reshape(-1, height, width, channels).transpose(0, 3, 1, 2)
            elif len(dims) == 2:  # a sequence: [batch, steps, features], nndl's own order
                x = x.reshape(-1, dims[0], dims[1])
            out = (run_opencv if engine == "opencv" else run_onnxruntime)(path, x, work).reshape(y.shape)
            difference = float(np.abs(out - y).max())
            ok = difference <= LIMIT
            failed += not ok
            ran += 1
            print(f"{name:24s} onnx checker: ok; {version} vs nndl: largest difference {difference:.3g} "
                  f"(limit {LIMIT}) {'ok' if ok else 'FAILED'}")
    print(f"{ran} of {len(models)} models run in {version}, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
