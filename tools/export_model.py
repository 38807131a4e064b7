#!/usr/bin/env python3
"""Export a torchvision ImageNet classifier to TorchScript for selfadapt.

The exported model takes N x 3 x H x W floats in [0, 1] and applies the
ImageNet mean/std normalisation itself, so selfadapt feeds it plain pixels
(as it does the shipped Fashion-MNIST model).

    /usr/bin/python3 tools/export_model.py resnet50 models/resnet50.pt
    /usr/bin/python3 tools/export_model.py resnet50 models/resnet50.pt --weights ~/resnet50-0676ba61.pth
    /usr/bin/python3 tools/export_model.py resnet18 /tmp/r18.pt --random --seed 1

Weights: --weights FILE loads a torchvision state dict (e.g. the file
torchvision downloads into ~/.cache/torch/hub/checkpoints); --pretrained
asks torchvision for its default weights, which works only where they are
already cached (nothing is downloaded here); --random (the default when
neither is given) keeps torchvision's seeded random initialisation.
"""
import argparse
import os
import sys

import torch
import torch.nn as nn
import torchvision

ARCHS = ("resnet18", "resnet50", "resnext50_32x4d", "wide_resnet50_2",
         "efficientnet_b0", "mobilenet_v3_large", "resnet101", "resnext101_32x8d",
         "densenet121", "vgg16_bn")

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class Normalized(nn.Module):
    """(x - mean) / std in front of a classifier."""

    def __init__(self, net, mean=IMAGENET_MEAN, std=IMAGENET_STD):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1))
        self.net = net

    def forward(self, x):
        return self.net((x - self.mean) / self.std)


def build(arch, weights_file, pretrained):
    ctor = getattr(torchvision.models, arch)
    if pretrained:
        try:
            net = ctor(weights="DEFAULT")
        except Exception as exc:  # no network: only a cached file works
            sys.exit(f"export_model: torchvision's pretrained {arch} weights are not "
                     f"available locally ({exc}); pass --weights FILE instead")
    else:
        net = ctor(weights=None)
    if weights_file:
        state = torch.load(weights_file, map_location="cpu")
        if isinstance(state, dict) and "state_dict" in state:
            state = state["state_dict"]
        missing, unexpected = net.load_state_dict(state, strict=False)
        if missing or unexpected:
            sys.exit(f"export_model: {weights_file} does not fit {arch}: "
                     f"missing {list(missing)[:5]}, unexpected {list(unexpected)[:5]}")
    return net


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("arch", choices=ARCHS)
    ap.add_argument("out")
    group = ap.add_mutually_exclusive_group()
    group.add_argument("--weights", help="torchvision state dict file")
    group.add_argument("--pretrained", action="store_true",
                       help="torchvision's default weights, if cached locally")
    group.add_argument("--random", action="store_true", help="random weights (default)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the random initialisation")
    ap.add_argument("--size", type=int, default=224, help="input size of the check forward")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    net = build(args.arch, args.weights, args.pretrained)
    model = Normalized(net).eval()
    scripted = torch.jit.script(model)
    with torch.no_grad():
        y = scripted(torch.rand(2, 3, args.size, args.size))
    if y.dim() != 2 or y.shape[1] != 1000:
        sys.exit(f"export_model: {args.arch} outputs {tuple(y.shape)}, expected (N, 1000)")
    out_dir = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    tmp = args.out + ".tmp"
    scripted.save(tmp)
    os.replace(tmp, args.out)
    n_params = sum(p.numel() for p in model.parameters())
    n_bn = sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    source = args.weights or ("torchvision default" if args.pretrained else f"random (seed {args.seed})")
    print(f"{args.out}: {args.arch}, {n_params} parameters, {n_bn} BatchNorm layers, "
          f"weights: {source}")


if __name__ == "__main__":
    main()
