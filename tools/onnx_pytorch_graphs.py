#!/usr/bin/python3
"""Branching PyTorch models with random weights, exported with torch.onnx.export, for nndl's
graph import test (tests/test_onnx_pytorch_graphs.cpp, ctest onnx_pytorch_graphs_import).

Writes into OUT_DIR, each exported at opset 13 (eval mode, so PyTorch folds batch
normalization into the convolutions) with a free batch dimension:
  resnet18.onnx   torchvision's resnet18(num_classes=10) with its first convolution taking one
                  channel (28x28 gray images in); batch normalization statistics and affine
                  parameters drawn at random, so the folded weights are not the initial ones
  unet.onnx       a small U-Net of two levels (convolutions with batch normalization and ReLU, max
                  pooling down, nearest upsampling up, each level's features concatenated with
                  the upsampled ones), one sigmoid per pixel out
  reference.npz   the first 1,000 Fashion-MNIST test images ([1000, 1, 28, 28], value / 255, as
                  nndl's IDX loader gives them) and PyTorch's outputs on them

Usage: tools/onnx_pytorch_graphs.py OUT_DIR [FASHION_MNIST_DIR]
Exit code 77 (a visible skip in ctest) when PyTorch, torchvision, onnx or the data set is missing.
"""
import os
import sys

from onnx_pytorch_models import read_idx

SKIP = 77
IMAGES = 1000


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    out = sys.argv[1]
    data = sys.argv[2] if len(sys.argv) == 3 else "/usr/share/datasets/fashion-mnist"
    if os.path.exists(os.path.join(out, "reference.npz")):  # no stale reference after a failed run
        os.remove(os.path.join(out, "reference.npz"))
    try:
        import numpy as np
        import onnx
        import torch
        import torchvision
        from torch import nn
    except ImportError as e:
        print(f"onnx_pytorch_graphs: skipped, {e} (tools/setup.sh installs python3-torch, python3-torchvision "
              "and python3-onnx)")
        return SKIP
    images = os.path.join(data, "t10k-images-idx3-ubyte.gz")
    if not os.path.exists(images):
        print(f"onnx_pytorch_graphs: skipped, Fashion-MNIST is not in {data} (dataset-fashion-mnist)")
        return SKIP
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    torch.set_num_threads(1)  # ctest runs two tests at once on two cores
    x = torch.from_numpy(read_idx(images)[:IMAGES].astype(np.float32) / 255.0).unsqueeze(1)

    resnet = torchvision.models.resnet18(num_classes=10)
    resnet.conv1 = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()

            def block(inputs, outputs):
                return nn.Sequential(nn.Conv2d(inputs, outputs, 3, padding=1), nn.BatchNorm2d(outputs), nn.ReLU())

            self.enc1, self.enc2, self.bottom = block(1, 8), block(8, 16), block(16, 32)
            self.pool = nn.MaxPool2d(2)
            self.up = nn.Upsample(scale_factor=2, mode="nearest")
            self.dec2, self.dec1 = block(32 + 16, 16), block(16 + 8, 8)
            self.head = nn.Conv2d(8, 1, 1)

        def forward(self, x):
            e1 = self.enc1(x)  # 28x28x8
            e2 = self.enc2(self.pool(e1))  # 14x14x16
            bottom = self.bottom(self.pool(e2))  # 7x7x32
            d2 = self.dec2(torch.cat([self.up(bottom), e2], 1))  # 14x14x16
            d1 = self.dec1(torch.cat([self.up(d2), e1], 1))  # 28x28x8
            return torch.sigmoid(self.head(d1))

    unet = UNet()
    for model in (resnet, unet):
        with torch.no_grad():
            for module in model.modules():
                if isinstance(module, nn.BatchNorm2d):
                    module.running_mean.uniform_(-0.5, 0.5)
                    module.running_var.uniform_(0.5, 1.5)
                    module.weight.uniform_(0.5, 1.5)
                    module.bias.uniform_(-0.2, 0.2)
        model.eval()

    reference = {"images": x.numpy()}
    for name, model in (("resnet18", resnet), ("unet", unet)):
        path = os.path.join(out, name + ".onnx")
        torch.onnx.export(model, x[:2], path, opset_version=13, input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
        onnx.checker.check_model(onnx.load(path))
        with torch.no_grad():
            reference[name] = model(x).numpy()
    np.savez(os.path.join(out, "reference.npz"), **reference)
    print(f"onnx_pytorch_graphs: wrote resnet18.onnx, unet.onnx and reference.npz ({IMAGES} images) in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
