#!/usr/bin/env python3
"""Adaptation-step benchmark: selfadapt (C engine over libtorch) beside the
same loop written in Python PyTorch, on the same machine, in one run.

For each model: images/s of a forward pass (source model, no gradients) and
of one adaptation step (rpl: test-batch BatchNorm statistics, GCE q = 0.8 on
the argmax of the same forward, SGD on the BatchNorm affine parameters), and
each process's peak resident memory. Every measurement runs in a fresh
process, the implementations alternate, and the table gives the ratios.

usage: bench_step.py BENCH_STEP_EXE [--iters N] [--threads N] [--quick]
Models: the shipped Fashion-MNIST ResNet-20 (batch 128, 32x32) and ResNet-50
(batch 32, 224x224, random weights from tools/export_model.py).
"""
import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
PY = "/usr/bin/python3"


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def python_loop(path, mode, batch, size, iters, threads):
    import torch
    torch.set_num_threads(threads)
    model = torch.jit.load(path, map_location="cpu")
    for p in model.parameters():
        p.requires_grad_(False)
    model.eval()
    bns = [m for m in model.modules() if "BatchNorm" in m.original_name]
    params = []
    if mode == "step":
        for bn in bns:
            bn.train()
            for name in ("weight", "bias"):
                p = getattr(bn, name)
                p.requires_grad_(True)
                params.append(p)
        opt = torch.optim.SGD(params, lr=0.001, momentum=0.9)
    g = torch.Generator().manual_seed(1)
    x = torch.rand(batch, 3, size, size, generator=g)
    t0 = c0 = 0.0
    for i in range(iters + 2):
        if i == 2:
            t0, c0 = time.perf_counter(), cpu_seconds()
        if mode == "forward":
            with torch.no_grad():
                model(x).argmax(1)
        else:
            logits = model(x)
            logits.argmax(1)
            y = logits.argmax(1)
            py = logits.softmax(1).gather(1, y[:, None])
            loss = ((1 - py.pow(0.8)) / 0.8).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    dt, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"images_per_s={batch * iters / dt:.3f} cpu_ms_per_image={1e3 * cpu / (batch * iters):.3f} "
          f"peak_rss_mib={rss:.1f}")


def measure(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    fields = dict(kv.split("=") for kv in out.split())
    cpu = float(fields.get("cpu_ms_per_image", "nan"))
    return float(fields["images_per_s"]), float(fields["peak_rss_mib"]), cpu


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("exe", nargs="?")
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--quick", action="store_true", help="the small model only")
    ap.add_argument("--python-loop", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.python_loop:
        path, mode, batch, size, iters = args.python_loop
        python_loop(path, mode, int(batch), int(size), int(iters), args.threads)
        return
    with tempfile.TemporaryDirectory() as tmp:
        models = [("ResNet-20 (shipped)", os.path.join(ROOT, "models/fmnist_resnet20.pt"), 128, 32,
                   args.iters * 5)]
        if not args.quick:
            r50 = os.path.join(tmp, "resnet50.pt")
            subprocess.run([PY, os.path.join(ROOT, "tools/export_model.py"), "resnet50", r50],
                           check=True, capture_output=True)
            models.append(("ResNet-50", r50, 32, 224, args.iters))
        print(f"{args.threads} thread(s); images/s (higher is better), peak RSS in MiB")
        print("CPU ms/img: user + system time of all threads per image, steadier than images/s "
              "when other work shares the machine")
        print(f"{'model':<20} {'pass':<8} {'selfadapt':>10} {'python':>10} {'ratio':>7} "
              f"{'C MiB':>8} {'py MiB':>8} {'C CPU ms/img':>13} {'py CPU ms/img':>14}")
        results = {}
        for name, path, batch, size, iters in models:
            for mode in ("forward", "step"):
                c = measure([args.exe, path, mode, str(batch), str(size), str(iters),
                             str(args.threads)])
                p = measure([PY, __file__, "--threads", str(args.threads), "--python-loop", path,
                             mode, str(batch), str(size), str(iters)])
                results[(name, mode)] = (c, p)
                print(f"{name:<20} {mode:<8} {c[0]:>10.1f} {p[0]:>10.1f} {c[0] / p[0]:>6.2f}x "
                      f"{c[1]:>8.0f} {p[1]:>8.0f} {c[2]:>13.1f} {p[2]:>14.1f}", flush=True)
        for name, *_ in models:
            (cf, pf), (cs, ps) = results[(name, "forward")], results[(name, "step")]
            print(f"{name}: step/forward time ratio selfadapt {cf[0] / cs[0]:.2f}, "
                  f"python {pf[0] / ps[0]:.2f}; CPU time ratio selfadapt {cs[2] / cf[2]:.2f}, "
                  f"python {ps[2] / pf[2]:.2f}")


if __name__ == "__main__":
    main()
