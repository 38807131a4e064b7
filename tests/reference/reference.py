#!/usr/bin/env python3
"""Independent PyTorch implementation of selfadapt's methods, checked against
the C engine on fixed batches.

It rebuilds the shipped model as an eager PyTorch module (the ResNet-20 of
tools/train_source.py, with the TorchScript file's weights), implements each
method with plain PyTorch (BatchNorm momentum set to 0 for test-batch
statistics, explicit batch statistics for the mixed variant, deep-copied
teachers, torch.optim optimisers) and compares with what tests/reference/dump.c
recorded: every prediction must agree exactly, every adapted parameter within
1e-4 of its tensor's scale.

usage: reference.py DUMP_EXE MODEL.pt FMNIST_DIR
"""
import copy
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
from train_source import ResNet20  # noqa: E402  (the architecture, not the training)

TOL = 1e-4
FIELDS = ("name", "method", "optimizer", "lr", "momentum", "nesterov", "weight_decay", "q",
          "temperature", "alpha", "steps", "teacher", "teacher_every", "teacher_momentum",
          "epochs")


def read_cases():
    text = open(os.path.join(HERE, "cases.h")).read()
    cases = []
    for m in re.finditer(r"^\s*CASE\((.*)\),\s*$", text, re.M):
        values = [v.strip().strip('"') for v in m.group(1).split(",")]
        case = dict(zip(FIELDS, values))
        for k in ("lr", "momentum", "weight_decay", "q", "temperature", "alpha", "teacher_momentum"):
            case[k] = float(case[k])
        for k in ("nesterov", "steps", "teacher_every", "epochs"):
            case[k] = int(case[k])
        cases.append(case)
    return cases


def read_batches(path):
    with open(path, "rb") as f:
        count, n, c, h, w = np.frombuffer(f.read(20), dtype=np.int32)
        batches = []
        for _ in range(count):
            x = np.frombuffer(f.read(4 * n * c * h * w), dtype=np.float32).reshape(n, c, h, w)
            y = np.frombuffer(f.read(8 * n), dtype=np.int64)
            batches.append((torch.from_numpy(x.copy()), torch.from_numpy(y.copy())))
    return batches


def eager_model(path):
    scripted = torch.jit.load(path, map_location="cpu")
    model = ResNet20()
    model.load_state_dict(scripted.state_dict())
    return model.eval()


def batchnorms(model):
    return [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]


def batch_statistics(model, x):
    """Mean and unbiased variance of every BatchNorm layer's input while the
    network normalises with test-batch statistics, captured with hooks."""
    stats = {}
    hooks = []
    for bn in batchnorms(model):
        def capture(mod, inp, _out):
            t = inp[0].detach()
            stats[mod] = (t.mean(dim=(0, 2, 3)), t.var(dim=(0, 2, 3), unbiased=True))
        hooks.append(bn.register_forward_hook(capture))
    saved = [(bn.training, bn.momentum) for bn in batchnorms(model)]
    with torch.no_grad():
        for bn in batchnorms(model):
            bn.train()
            bn.momentum = 0.0
        model(x)
    for bn, (training, momentum) in zip(batchnorms(model), saved):
        bn.train(training)
        bn.momentum = momentum
    for h in hooks:
        h.remove()
    return stats


def mixed_forward(alpha, stats):
    """BatchNorm forward normalising with alpha * running + (1 - alpha) * the
    layer's test-batch statistics (unbiased variance, as BatchNorm's running
    update uses)."""
    def forward(self, x):
        mean, var = stats[self]
        m = alpha * self.running_mean + (1 - alpha) * mean
        v = alpha * self.running_var + (1 - alpha) * var
        return F.batch_norm(x, m, v, self.weight, self.bias, False, 0.0, self.eps)
    return forward


class Adapter:
    def __init__(self, model, case):
        self.model, self.case = model, case
        method = case["method"]
        self.norm = {"source": "source", "bn_alpha": "mix", "bn_ema": "ema"}.get(method, "batch")
        self.learns = method in ("ent", "hard_pl", "soft_pl", "rpl")
        self.uses_teacher = method in ("hard_pl", "soft_pl", "rpl")
        for p in model.parameters():
            p.requires_grad_(False)
        self.params = []
        if self.learns:
            for bn in batchnorms(model):
                for p in (bn.weight, bn.bias):
                    p.requires_grad_(True)
                    self.params.append(p)
        self.configure_norm(model)
        self.opt = None
        if self.learns:
            kind, lr, wd = case["optimizer"], case["lr"], case["weight_decay"]
            if kind == "sgd":
                self.opt = torch.optim.SGD(self.params, lr=lr, momentum=case["momentum"],
                                           nesterov=bool(case["nesterov"]), weight_decay=wd)
            elif kind == "adam":
                self.opt = torch.optim.Adam(self.params, lr=lr, weight_decay=wd)
            else:
                self.opt = torch.optim.AdamW(self.params, lr=lr, weight_decay=wd)
        self.teacher = None
        if self.uses_teacher and case["teacher"] != "step":
            self.teacher = copy.deepcopy(model)
            for p in self.teacher.parameters():
                p.requires_grad_(False)
        self.steps = 0

    def configure_norm(self, model):
        for bn in batchnorms(model):
            if self.norm == "batch":
                bn.momentum = 0.0  # batch statistics, stored ones unchanged

    def forward(self, model, x, grad):
        with torch.set_grad_enabled(grad):
            if self.norm == "batch":
                model.eval()
                for bn in batchnorms(model):
                    bn.train()
                return model(x)
            if self.norm == "mix":
                stats = batch_statistics(model, x)
                model.eval()
                originals = {bn: bn.forward for bn in batchnorms(model)}
                for bn in batchnorms(model):
                    bn.forward = mixed_forward(self.case["alpha"], stats).__get__(bn)
                try:
                    return model(x)
                finally:
                    for bn, f in originals.items():
                        bn.forward = f
            if self.norm == "ema":
                with torch.no_grad():
                    model.train()
                    model(x)
                model.eval()
                return model(x)
            model.eval()
            return model(x)

    def loss(self, logits, targets):
        method, case = self.case["method"], self.case
        if method == "ent":
            p = logits.softmax(1)
            return -(p * logits.log_softmax(1)).sum(1).mean()
        if method == "hard_pl":
            return F.cross_entropy(logits, targets.argmax(1))
        if method == "soft_pl":
            q = (targets / case["temperature"]).softmax(1)
            return -(q * logits.log_softmax(1)).sum(1).mean()
        y = targets.argmax(1)
        py = logits.softmax(1).gather(1, y[:, None]).squeeze(1)
        return ((1 - py.pow(case["q"])) / case["q"]).mean()

    def step(self, x):
        pred = None
        for s in range(self.case["steps"]):
            logits = self.forward(self.model, x, self.learns)
            if s == 0:
                pred = logits.argmax(1)
            if not self.learns:
                break
            if self.teacher is not None:
                with torch.no_grad():
                    targets = self.forward(self.teacher, x, False)
            else:
                targets = logits.detach()
            loss = self.loss(logits, targets)
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
            self.steps += 1
            self.refresh_after_step()
        return pred

    def refresh_after_step(self):
        if self.teacher is None:
            return
        mode = self.case["teacher"]
        if mode == "every" and self.steps % self.case["teacher_every"] == 0:
            self.teacher.load_state_dict(self.model.state_dict())
        elif mode == "ema":
            m = self.case["teacher_momentum"]
            with torch.no_grad():
                for t, s in zip(self.teacher.parameters(), self.model.parameters()):
                    t.mul_(m).add_(s, alpha=1 - m)
                for t, s in zip(self.teacher.buffers(), self.model.buffers()):
                    t.copy_(s)

    def epoch_end(self):
        if self.teacher is not None and self.case["teacher"] == "epoch":
            self.teacher.load_state_dict(self.model.state_dict())

    def predict(self, x):
        with torch.no_grad():
            if self.norm == "ema":  # use the updated statistics, do not update them
                self.model.eval()
                return self.model(x).argmax(1)
            return self.forward(self.model, x, False).argmax(1)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    dump_exe, model_path, fmnist = sys.argv[1:]
    torch.set_num_threads(1)
    failures = 0
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([dump_exe, model_path, fmnist, out], check=True)
        batches = read_batches(os.path.join(out, "batches.bin"))
        print(f"{'case':<15} {'predictions':>12} {'max param diff':>15}  result")
        for case in read_cases():
            model = eager_model(model_path)
            ad = Adapter(model, case)
            preds = []
            for _ in range(case["epochs"]):
                for x, _y in batches:
                    preds.append(ad.step(x))
                ad.epoch_end()
            for x, _y in batches:
                preds.append(ad.predict(x))
            ours = torch.cat(preds).numpy()
            theirs = np.fromfile(os.path.join(out, case["name"] + ".preds"), dtype=np.int64)
            agree = int((ours == theirs).sum()) if ours.shape == theirs.shape else -1
            adapted = torch.jit.load(os.path.join(out, case["name"] + ".pt"), map_location="cpu")
            c_state = adapted.state_dict()
            worst = 0.0
            for name, p in model.named_parameters():
                a, b = p.detach(), c_state[name]
                scale = max(float(b.abs().max()), 1e-12)
                worst = max(worst, float((a - b).abs().max()) / scale)
            ok = agree == theirs.size and worst <= TOL
            failures += not ok
            print(f"{case['name']:<15} {agree:>5}/{theirs.size:<6} {worst:>15.2e}  "
                  f"{'ok' if ok else 'FAIL'}")
    total = len(read_cases())
    print(f"reference: {total - failures} passed, {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
