#!/usr/bin/env python3
"""PyTorch's side of char_model: the same character-level language model (nn.Embedding,
nn.LSTM, nn.Linear), trained with the same data split, pieces, batch order (NumPy's
permutation from the same seed), loss (cross-entropy summed over the steps, averaged over the
pieces of a batch), Adam and global-norm clipping, for the same epochs. It prints the
training and validation perplexity after each epoch as char_model does.

With --initial MODEL.npz (written by `char_model --epochs 0 --save MODEL.npz`) it starts from
char_model's initial weights, so the two runs differ only in arithmetic.

With --compare OUTPUT (what char_model printed for the same settings) it prints both
validation perplexities per epoch and their ratio, and exits 1 when the last epoch's differ
by more than --tolerance (a fraction, 0.05 by default).

Usage: tools/char_model_reference.py [--data FILE] [--epochs N] [--initial MODEL.npz] ...
(the defaults are char_model's).
"""
import argparse
import math
import re
import sys
import time

import numpy as np
import torch


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="/usr/share/games/fortunes/cookie")
    parser.add_argument("--validation", type=float, default=0.1)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--embedding", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=0.002)
    parser.add_argument("--clip-norm", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: PyTorch's default)")
    parser.add_argument("--initial", help="start from the weights of an nndl model file (char_model --epochs 0 --save)")
    parser.add_argument("--compare", help="char_model's output for the same settings: compare the perplexities")
    parser.add_argument("--tolerance", type=float, default=0.05)
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    text = open(args.data, "rb").read()
    characters = sorted(set(text))
    index = {b: i for i, b in enumerate(characters)}
    codes = np.array([index[b] for b in text], dtype=np.int64)
    held = int(args.validation * len(text))
    training = len(text) - held

    def cut(begin, end):
        count = (end - begin - 1) // args.steps
        starts = begin + np.arange(count) * args.steps
        x = np.stack([codes[s:s + args.steps] for s in starts]) if count else np.zeros((0, args.steps), np.int64)
        y = np.stack([codes[s + 1:s + args.steps + 1] for s in starts]) if count else x
        return torch.from_numpy(x), torch.from_numpy(y)

    train_x, train_y = cut(0, training)
    valid_x, valid_y = cut(training, len(text))
    if held > 0 and valid_x.shape[0] == 0:
        raise SystemExit(f"{args.data}: {held} bytes to validate, expected at least {args.steps + 1}")
    vocabulary = len(characters)
    embedding = torch.nn.Embedding(vocabulary, args.embedding)
    lstm = torch.nn.LSTM(args.embedding, args.hidden, batch_first=True)
    output = torch.nn.Linear(args.hidden, vocabulary)
    if args.initial:
        weights = np.load(args.initial)
        h = args.hidden
        with torch.no_grad():
            embedding.weight.copy_(torch.from_numpy(weights["layer1.E"].T.copy()))
            w = weights["layer2.W"]  # nndl: rows f, i, c, o; columns [a; x]
            b = weights["layer2.b"][:, 0]
            order = np.concatenate([np.arange(h, 2 * h), np.arange(0, h), np.arange(2 * h, 3 * h),
                                    np.arange(3 * h, 4 * h)])  # PyTorch: i, f, g, o
            lstm.weight_hh_l0.copy_(torch.from_numpy(w[order, :h].copy()))
            lstm.weight_ih_l0.copy_(torch.from_numpy(w[order, h:].copy()))
            lstm.bias_ih_l0.copy_(torch.from_numpy(b[order].copy()))
            output.weight.copy_(torch.from_numpy(weights["layer3.W"]))
            output.bias.copy_(torch.from_numpy(weights["layer3.b"][:, 0]))
    # nndl's LSTM has one bias: PyTorch's second one stays zero and out of training.
    with torch.no_grad():
        lstm.bias_hh_l0.zero_()
    lstm.bias_hh_l0.requires_grad_(False)
    parameters = [p for module in (embedding, lstm, output) for p in module.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(parameters, lr=args.learning_rate, betas=(0.9, 0.999), eps=1e-8)

    def loss_of(x, y):
        hidden, _ = lstm(embedding(x))
        logits = output(hidden)
        return torch.nn.functional.cross_entropy(logits.reshape(-1, vocabulary), y.reshape(-1), reduction="sum")

    nndl_validation = []
    if args.compare:
        pattern = re.compile(r"^epoch (\d+)/\d+: training perplexity \S+, validation perplexity (\S+) ")
        for line in open(args.compare):
            match = pattern.match(line)
            if match:
                nndl_validation.append(float(match.group(2)))
        if len(nndl_validation) != args.epochs:
            raise SystemExit(f"{args.compare}: {len(nndl_validation)} epochs with a validation perplexity, "
                             f"expected {args.epochs}")
    torch_validation = []
    random = np.random.RandomState(args.seed)  # train()'s NumpyRandom(seed): one stream for every epoch
    m = train_x.shape[0]
    for epoch in range(args.epochs):
        started = time.time()
        order = torch.from_numpy(random.permutation(m))
        total = 0.0
        for first in range(0, m, args.batch):
            batch = order[first:first + args.batch]
            optimizer.zero_grad()
            loss = loss_of(train_x[batch], train_y[batch]) / len(batch)
            loss.backward()
            if args.clip_norm > 0:
                torch.nn.utils.clip_grad_norm_(parameters, args.clip_norm)
            optimizer.step()
            total += loss.item() * len(batch)
        line = f"epoch {epoch + 1}/{args.epochs}: training perplexity {math.exp(total / m / args.steps):.6g}"
        if valid_x.shape[0]:
            with torch.no_grad():
                valid = loss_of(valid_x, valid_y).item() / valid_x.shape[0]
            torch_validation.append(math.exp(valid / args.steps))
            line += f", validation perplexity {torch_validation[-1]:.6g}"
        print(f"{line} ({time.time() - started:.1f} s)", flush=True)
    if args.compare:
        for epoch, (ours, theirs) in enumerate(zip(nndl_validation, torch_validation)):
            print(f"epoch {epoch + 1}: validation perplexity nndl {ours:.6g}, PyTorch {theirs:.6g}, "
                  f"ratio {ours / theirs:.4f}")
        ratio = nndl_validation[-1] / torch_validation[-1]
        if abs(ratio - 1) > args.tolerance:
            print(f"the last validation perplexities differ by {abs(ratio - 1):.2%}, more than {args.tolerance:.1%}")
            sys.exit(1)
        print(f"the last validation perplexities agree within {args.tolerance:.1%}")


if __name__ == "__main__":
    main()
