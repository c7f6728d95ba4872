#!/usr/bin/env python3
"""PyTorch (CPU) reference for nndl's benchmark: the same work as reference_numpy.py.

Prints "RESULT name seconds work" lines: cat_float64, cat_float32, fashion_epoch_float32,
fashion_cnn_epoch_float32 (the fashion_cnn example's network: two stages of 3x3 convolution
with 16 and 32 filters, ReLU, batch norm and 2x2 max pooling, dense 128, dropout 0.3, softmax),
fashion_resnet_epoch_float32 (the fashion_resnet example's default network), lstm_float32 and lstm_float64 (one LSTM layer, forward and backward), char_epoch_float32 (one epoch
of the char_model example's default training; --text FILE [--text-limit N]).
Usage: reference_torch.py --cat DATA.npz --iterations N [--fashion DIR] [--epoch-limit N] [--threads N]
"""
import time

import numpy as np
import torch

from reference_numpy import argument_parser, read_idx


def cat_model(X, Y, iterations, dtype):
    X = torch.from_numpy(X).to(dtype)
    Y = torch.from_numpy(Y).to(dtype)
    dims = [X.shape[0], 20, 7, 5, 1]
    np.random.seed(1)
    layers = []
    for l in range(1, 5):
        W = torch.from_numpy(np.random.randn(dims[l], dims[l - 1]) / np.sqrt(dims[l - 1])).to(dtype)
        layers += [W.requires_grad_(), torch.zeros(dims[l], 1, dtype=dtype, requires_grad=True)]
    optimizer = torch.optim.SGD(layers, lr=0.0075)
    start = time.perf_counter()
    for i in range(iterations):
        A = X
        for l in range(4):
            Z = layers[2 * l] @ A + layers[2 * l + 1]
            A = torch.relu(Z) if l < 3 else Z
        cost = torch.nn.functional.binary_cross_entropy_with_logits(A, Y)
        optimizer.zero_grad()
        cost.backward()
        optimizer.step()
    return time.perf_counter() - start, float(cost)


def fashion_data(directory, limit, image):
    """The training images (N x 784, or N x 1 x 28 x 28 where `image`) and labels, the first `limit`."""
    X = read_idx(directory + "/train-images-idx3-ubyte.gz").astype(np.float32) / 255
    X = torch.from_numpy(X).unsqueeze(1) if image else torch.from_numpy(X.reshape(-1, 784))
    labels = torch.from_numpy(read_idx(directory + "/train-labels-idx1-ubyte.gz").astype(np.int64))
    if limit:
        X, labels = X[:limit], labels[:limit]
    return X, labels


def train_epoch(model, X, labels, rate):
    """One epoch in training mode: shuffled batches of 128, cross-entropy, Adam at `rate`."""
    optimizer = torch.optim.Adam(model.parameters(), lr=rate)
    loss_fn = torch.nn.CrossEntropyLoss()
    order = torch.randperm(X.shape[0])
    model.train()
    start = time.perf_counter()
    for first in range(0, X.shape[0], 128):
        idx = order[first:first + 128]
        loss = loss_fn(model(X[idx]), labels[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start, X.shape[0]


def fashion_epoch(directory, limit):
    X, labels = fashion_data(directory, limit, False)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128), torch.nn.ReLU(),
                                torch.nn.Linear(128, 10))
    return train_epoch(model, X, labels, 1e-3)


def fashion_cnn_epoch(directory, limit):
    X, labels = fashion_data(directory, limit, True)
    torch.manual_seed(0)
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(16), nn.MaxPool2d(2),
                          nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(32), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10))
    return train_epoch(model, X, labels, 2e-3)


class ResidualBlock(torch.nn.Module):
    """fashion_resnet's block: conv 3x3 (stride s), BN, ReLU, conv 3x3, BN, plus the shortcut
    (the input, or a strided 1x1 convolution and BN where the shape changes), ReLU."""

    def __init__(self, channels_in, channels, stride):
        super().__init__()
        nn = torch.nn
        self.body = nn.Sequential(nn.Conv2d(channels_in, channels, 3, stride, 1), nn.BatchNorm2d(channels), nn.ReLU(),
                                  nn.Conv2d(channels, channels, 3, 1, 1), nn.BatchNorm2d(channels))
        self.shortcut = nn.Identity()
        if stride != 1 or channels_in != channels:
            self.shortcut = nn.Sequential(nn.Conv2d(channels_in, channels, 1, stride), nn.BatchNorm2d(channels))

    def forward(self, x):
        return torch.relu(self.body(x) + self.shortcut(x))


def fashion_resnet():
    """fashion_resnet's default network without its augmentation: a stem convolution of 32 at
    28x28, one block per stage of 32, 64 and 128 channels, each halving the image, global average
    pooling, dense 10 (scores)."""
    nn = torch.nn
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), ResidualBlock(32, 32, 2),
                         ResidualBlock(32, 64, 2), ResidualBlock(64, 128, 2), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(128, 10))


def fashion_resnet_epoch(directory, limit):
    """One epoch of fashion_resnet(), Adam 0.002, batches of 128."""
    X, labels = fashion_data(directory, limit, True)
    torch.manual_seed(0)
    return train_epoch(fashion_resnet(), X, labels, 2e-3)


def lstm_layer(iterations, dtype):
    """One nn.LSTM layer over 64 sequences of 100 steps of 128 inputs, 256 units, every step's
    state out: forward and backward (the parameter gradients; the input needs none)."""
    torch.manual_seed(3)
    lstm = torch.nn.LSTM(128, 256).to(dtype)
    x = torch.randn(100, 64, 128, dtype=dtype)
    dy = torch.randn(100, 64, 256, dtype=dtype)
    out, _ = lstm(x)  # warm-up
    out.backward(dy)
    start = time.perf_counter()
    for _ in range(iterations):
        lstm.zero_grad()
        out, _ = lstm(x)
        out.backward(dy)
    return time.perf_counter() - start


def char_epoch(path, limit):
    """One epoch of char_model's default training, as the benchmark's nndl_char_epoch: pieces of
    100 characters of the text, Embedding(32) -> LSTM(256) -> Linear at every step, the
    cross-entropy summed over the steps and averaged over the batch, Adam 0.002 on shuffled
    batches of 32, the gradients clipped to a global norm of 5, float32."""
    with open(path, "rb") as f:
        text = np.frombuffer(f.read(), dtype=np.uint8)
    characters, codes = np.unique(text, return_inverse=True)
    steps = 100
    pieces = (len(text) - 1) // steps
    if limit > 0:
        pieces = min(pieces, limit)
    x = torch.from_numpy(codes[:pieces * steps].reshape(pieces, steps).astype(np.int64))
    y = torch.from_numpy(codes[1:pieces * steps + 1].reshape(pieces, steps).astype(np.int64))
    torch.manual_seed(1)
    embedding = torch.nn.Embedding(len(characters), 32)
    lstm = torch.nn.LSTM(32, 256, batch_first=True)
    output = torch.nn.Linear(256, len(characters))
    parameters = list(embedding.parameters()) + list(lstm.parameters()) + list(output.parameters())
    optimizer = torch.optim.Adam(parameters, lr=0.002)
    loss_function = torch.nn.CrossEntropyLoss(reduction="sum")
    start = time.perf_counter()
    order = torch.randperm(pieces)
    for first in range(0, pieces, 32):
        batch = order[first:first + 32]
        optimizer.zero_grad()
        hidden, _ = lstm(embedding(x[batch]))
        loss = loss_function(output(hidden).reshape(-1, len(characters)), y[batch].reshape(-1)) / len(batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 5.0)
        optimizer.step()
    return time.perf_counter() - start, pieces


def inference(images):
    """The benchmark's inference rows: the MLP 784-256-128-10, fashion_cnn's CNN and fashion_resnet's
    ResNet in eval mode
    under no_grad, random weights and inputs, batches of 256 (`images` images) and of 1 (a
    tenth of them), after a warm-up batch. Yields (name, seconds, images)."""
    torch.manual_seed(5)
    mlp = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128), torch.nn.ReLU(),
                              torch.nn.Linear(128, 10), torch.nn.Softmax(dim=1)).eval()
    layers = []
    for c_in, c_out in ((1, 16), (16, 32)):
        layers += [torch.nn.Conv2d(c_in, c_out, 3, padding=1), torch.nn.ReLU(), torch.nn.BatchNorm2d(c_out),
                   torch.nn.MaxPool2d(2)]
    cnn = torch.nn.Sequential(*layers, torch.nn.Flatten(), torch.nn.Linear(32 * 7 * 7, 128), torch.nn.ReLU(),
                              torch.nn.Linear(128, 10), torch.nn.Softmax(dim=1)).eval()
    resnet = torch.nn.Sequential(fashion_resnet(), torch.nn.Softmax(dim=1)).eval()
    for name, model, shape in (("mlp", mlp, (784,)), ("cnn", cnn, (1, 28, 28)), ("resnet", resnet, (1, 28, 28))):
        for batch in (256, 1):
            wanted = images if batch > 1 else max(1, images // 10)
            runs = max(1, wanted // batch)
            x = torch.rand(batch, *shape)
            with torch.no_grad():
                model(x)
                start = time.perf_counter()
                for _ in range(runs):
                    model(x)
                seconds = time.perf_counter() - start
            yield "inference_%s_%d" % (name, batch), seconds, runs * batch


def main():
    p = argument_parser()
    p.add_argument("--threads", type=int, default=0)
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    print("INFO torch %s, %d threads" % (torch.__version__, torch.get_num_threads()), flush=True)
    data = np.load(a.cat)
    for name, dtype in (("cat_float64", torch.float64), ("cat_float32", torch.float32)):
        seconds, cost = cat_model(data["X"], data["Y"], a.iterations, dtype)
        print("RESULT %s %.6f %d cost=%.12g" % (name, seconds, a.iterations, cost), flush=True)
    if a.lstm_iterations > 0:
        for name, dtype in (("lstm_float32", torch.float32), ("lstm_float64", torch.float64)):
            seconds = lstm_layer(a.lstm_iterations, dtype)
            print("RESULT %s %.6f %d" % (name, seconds, a.lstm_iterations), flush=True)
    if a.inference_images > 0:
        for name, seconds, images in inference(a.inference_images):
            print("RESULT %s %.6f %d" % (name, seconds, images), flush=True)
    if a.text:
        seconds, pieces = char_epoch(a.text, a.text_limit)
        print("RESULT char_epoch_float32 %.6f %d" % (seconds, pieces), flush=True)
    if a.fashion:
        seconds, examples = fashion_epoch(a.fashion, a.epoch_limit)
        print("RESULT fashion_epoch_float32 %.6f %d" % (seconds, examples), flush=True)
        if not a.skip_cnn:
            seconds, examples = fashion_cnn_epoch(a.fashion, a.epoch_limit)
            print("RESULT fashion_cnn_epoch_float32 %.6f %d" % (seconds, examples), flush=True)
            seconds, examples = fashion_resnet_epoch(a.fashion, a.epoch_limit)
            print("RESULT fashion_resnet_epoch_float32 %.6f %d" % (seconds, examples), flush=True)


if __name__ == "__main__":
    main()
