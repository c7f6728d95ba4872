#!/usr/bin/python3
"""Trains two Fashion-MNIST models with PyTorch and exports them with torch.onnx.export,
for nndl's import test (tests/test_onnx_pytorch.cpp, ctest onnx_pytorch_import).

Writes into OUT_DIR:
  mlp.onnx            nn.Sequential MLP 784-128-64-10 (batch norm, ReLU, dropout), logits out,
                      opset 13
  cnn.onnx            a small CNN (conv, batch norm, ReLU, max pool, x2; Flatten; Linear;
                      Softmax), opset 14 (the exporter folds each batch norm into its conv)
  cnn_external.onnx   the same CNN with every tensor in cnn_external.data (ONNX external data)
  reference.npz       PyTorch's outputs on the 10,000 test images (float32, 10000 x 10) and
                      its test accuracies

Usage: tools/onnx_pytorch_models.py OUT_DIR [FASHION_MNIST_DIR]
Exit code 77 (a visible skip in ctest) when PyTorch, the onnx package or the data set is
missing; any other failure is an error.
"""
import gzip
import os
import sys

SKIP = 77


def read_idx(path):
    import numpy as np
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    out = sys.argv[1]
    data = sys.argv[2] if len(sys.argv) == 3 else "/usr/share/datasets/fashion-mnist"
    # A skipped or failed run leaves no earlier reference behind for the import test.
    if os.path.exists(os.path.join(out, "reference.npz")):
        os.remove(os.path.join(out, "reference.npz"))
    try:
        import numpy as np
        import onnx
        import torch
        from torch import nn
    except ImportError as e:
        print(f"onnx_pytorch_models: skipped, {e} (tools/setup.sh installs python3-torch and python3-onnx)")
        return SKIP
    files = {name: os.path.join(data, name + "-ubyte.gz")
             for name in ("train-images-idx3", "train-labels-idx1", "t10k-images-idx3", "t10k-labels-idx1")}
    if not all(os.path.exists(p) for p in files.values()):
        print(f"onnx_pytorch_models: skipped, Fashion-MNIST is not in {data} (dataset-fashion-mnist)")
        return SKIP
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    torch.set_num_threads(1)  # ctest runs two tests at once on two cores

    # The pixels as nndl's IDX loader gives them: value / 255.
    x_train = torch.from_numpy(read_idx(files["train-images-idx3"]).astype(np.float32) / 255.0).unsqueeze(1)
    y_train = torch.from_numpy(read_idx(files["train-labels-idx1"]).astype(np.int64))
    x_test = torch.from_numpy(read_idx(files["t10k-images-idx3"]).astype(np.float32) / 255.0).unsqueeze(1)
    y_test = read_idx(files["t10k-labels-idx1"]).astype(np.int64)

    def train(model, flatten, examples, epochs):
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss = nn.CrossEntropyLoss()
        model.train()
        for _ in range(epochs):
            order = torch.randperm(examples)
            for start in range(0, examples, 128):
                batch = order[start:start + 128]
                x = x_train[batch]
                optimizer.zero_grad()
                loss(model(x.flatten(1) if flatten else x), y_train[batch]).backward()
                optimizer.step()
        model.eval()

    mlp = nn.Sequential(nn.Linear(784, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 64),
                        nn.ReLU(), nn.Linear(64, 10))
    train(mlp, True, 60000, 2)
    cnn = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(16 * 7 * 7, 10))
    train(cnn, False, 12000, 1)
    cnn_probabilities = nn.Sequential(cnn, nn.Softmax(dim=1)).eval()

    axes = {"input": {0: "batch"}, "output": {0: "batch"}}
    torch.onnx.export(mlp, torch.zeros(1, 784), os.path.join(out, "mlp.onnx"), opset_version=13,
                      input_names=["input"], output_names=["output"], dynamic_axes=axes)
    cnn_path = os.path.join(out, "cnn.onnx")
    torch.onnx.export(cnn_probabilities, torch.zeros(1, 1, 28, 28), cnn_path, opset_version=14,
                      input_names=["input"], output_names=["output"], dynamic_axes=axes)
    model = onnx.load(cnn_path)
    onnx.save_model(model, os.path.join(out, "cnn_external.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="cnn_external.data", size_threshold=0)
    for name in ("mlp.onnx", "cnn.onnx", "cnn_external.onnx"):
        onnx.checker.check_model(os.path.join(out, name))

    with torch.no_grad():
        mlp_out = mlp(x_test.flatten(1)).numpy()
        cnn_out = cnn_probabilities(x_test).numpy()
    mlp_accuracy = float((mlp_out.argmax(1) == y_test).mean())
    cnn_accuracy = float((cnn_out.argmax(1) == y_test).mean())
    np.savez(os.path.join(out, "reference.npz"), mlp_output=mlp_out, cnn_output=cnn_out,
             mlp_accuracy=np.array([mlp_accuracy]), cnn_accuracy=np.array([cnn_accuracy]))
    print(f"PyTorch {torch.__version__}: MLP test accuracy {mlp_accuracy:.4f}, CNN {cnn_accuracy:.4f}; "
          f"models in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
