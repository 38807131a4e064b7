#!/usr/bin/env python3
"""Train the shipped source model: a CIFAR-style ResNet-20 on Fashion-MNIST.

The model sees 32x32 RGB images in [0, 1] (28x28 grey padded by 2 pixels and
replicated to 3 channels, exactly what selfadapt's IDX source yields) and
normalises internally, so callers feed plain [0, 1] pixels.

Usage (Debian's python3-torch, CPU):
    /usr/bin/python3 tools/train_source.py --out models/fmnist_resnet20.pt

Deterministic for a given --seed and thread count.
"""
import argparse
import gzip
import os
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN = 0.2860 * 28 * 28 / (32 * 32)  # mean of the padded images, approximately
STD = 0.3530


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    t = torch.frombuffer(bytearray(data[4 + 4 * ndim:]), dtype=torch.uint8)
    return t.reshape(dims)


def load_split(data_dir, prefix):
    x = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz")).long()
    x = F.pad(x, (2, 2, 2, 2))  # 28x28 -> 32x32, zeros
    return x, y


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet20(nn.Module):
    """He et al. (2016) CIFAR ResNet: 3 stages of 3 basic blocks, widths 16/32/64."""

    def __init__(self, num_classes=10, mean=MEAN, std=STD):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, 1, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, 1, 1, 1))
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        layers = []
        cin = 16
        for width, stride in ((16, 1), (32, 2), (64, 2)):
            for i in range(3):
                layers.append(Block(cin, width, stride if i == 0 else 1))
                cin = width
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        x = (x - self.mean) / self.std
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layers(x)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


def to_input(xb):
    return xb.float().div_(255.0).unsqueeze(1).expand(-1, 3, -1, -1).contiguous()


def augment(xb, gen):
    """Random crop (pad 2) and horizontal flip on uint8 NxHxW batches."""
    n = xb.shape[0]
    padded = F.pad(xb, (2, 2, 2, 2))
    dx = torch.randint(0, 5, (n,), generator=gen)
    dy = torch.randint(0, 5, (n,), generator=gen)
    flip = torch.rand(n, generator=gen) < 0.5
    out = torch.empty_like(xb)
    for i in range(n):
        img = padded[i, dy[i]:dy[i] + 32, dx[i]:dx[i] + 32]
        out[i] = img.flip(1) if flip[i] else img
    return out


def evaluate(model, x, y, bs=1000):
    model.eval()
    wrong = 0
    with torch.no_grad():
        for i in range(0, x.shape[0], bs):
            logits = model(to_input(x[i:i + bs]))
            wrong += (logits.argmax(1) != y[i:i + bs]).sum().item()
    return 100.0 * wrong / x.shape[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--out", default="models/fmnist_resnet20.pt")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(args.seed)
    xtr, ytr = load_split(args.data_dir, "train")
    xte, yte = load_split(args.data_dir, "t10k")
    model = ResNet20()
    steps_per_epoch = (xtr.shape[0] + args.batch_size - 1) // args.batch_size
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9,
                          nesterov=True, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=args.lr, total_steps=args.epochs * steps_per_epoch,
        pct_start=0.25)
    t0 = time.time()
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(xtr.shape[0], generator=gen)
        total, correct, loss_sum = 0, 0, 0.0
        for b in range(steps_per_epoch):
            idx = perm[b * args.batch_size:(b + 1) * args.batch_size]
            xb = to_input(augment(xtr[idx], gen))
            yb = ytr[idx]
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item() * yb.shape[0]
            correct += (logits.argmax(1) == yb).sum().item()
            total += yb.shape[0]
            if b % 100 == 0:
                print(f"epoch {epoch + 1} step {b}/{steps_per_epoch} "
                      f"loss {loss_sum / total:.4f} {time.time() - t0:.0f}s",
                      file=sys.stderr, flush=True)
        err = evaluate(model, xte, yte)
        print(f"epoch {epoch + 1}: train loss {loss_sum / total:.4f} "
              f"train acc {100.0 * correct / total:.2f}% test error {err:.2f}% "
              f"({time.time() - t0:.0f}s)", flush=True)
    model.eval()
    scripted = torch.jit.script(model)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = args.out + ".tmp"
    scripted.save(tmp)
    os.replace(tmp, args.out)
    print(f"saved {args.out}: clean test error {evaluate(model, xte, yte):.2f}%, "
          f"{sum(p.numel() for p in model.parameters())} parameters, "
          f"{time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
