#!/usr/bin/env python3
"""Input-pipeline benchmark: selfadapt's C loader beside torchvision's
ImageFolder + DataLoader (Resize(256), CenterCrop(224), ToTensor, Normalize)
on the same JPEG files, in one run, with the ratio per core.

usage: bench_decode.py BENCH_DECODE_EXE [--images N] [--dir DIR] [--repeat R]
Without --dir it writes N ImageNet-sized JPEGs (500x375, quality 90, smooth
content with texture) into a temporary image-folder tree.

Each side runs R times, the two alternating, and the best run of each
counts, so that other work on the machine disturbs the comparison less.
Two rates are shown: images per second of wall time, and images per
second of processor time (all threads and DataLoader worker processes
together), the throughput per core. Last, the pixels: the first batch of
both pipelines before normalisation, as grey levels 0..255, their mean and
largest absolute difference.
"""
import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

PY = "/usr/bin/python3"


def make_tree(root, n):
    import numpy as np
    from PIL import Image
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:375, 0:500]
    for i in range(n):
        d = os.path.join(root, f"n{1440764 + i % 10:08d}")
        os.makedirs(d, exist_ok=True)
        a, b, c = rng.uniform(0.01, 0.05, 3)
        img = np.stack([np.sin(xx * a) * 80 + 128, np.cos(yy * b) * 80 + 128,
                        np.sin((xx + yy) * c) * 80 + 128], axis=2)
        img += rng.normal(0, 12, img.shape)
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(
            os.path.join(d, f"img{i:05d}.JPEG"), quality=90)


def torchvision_rate(root, workers, batch=32):
    """(images per wall second, processor seconds) of one pass."""
    import torch
    import torchvision.transforms as T
    from torchvision.datasets import ImageFolder
    torch.set_num_threads(1)
    tf = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(),
                    T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])
    ds = ImageFolder(root, transform=tf)
    dl = torch.utils.data.DataLoader(ds, batch_size=batch, shuffle=False, num_workers=workers)

    def cpu():
        ch = resource.getrusage(resource.RUSAGE_CHILDREN)  # workers, once joined
        return time.process_time() + ch.ru_utime + ch.ru_stime

    t0, c0 = time.perf_counter(), cpu()
    n = 0
    for x, _y in dl:
        n += x.shape[0]
    dt = time.perf_counter() - t0
    del dl  # joins the workers, so that their time is counted
    return n / dt, cpu() - c0, n


MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def compare_pixels(exe, root, tmp, batch=32):
    """(images, mean and largest absolute difference in grey levels) of the
    first batch of selfadapt's loader against torchvision's ToTensor()."""
    import numpy as np
    import torchvision.transforms as T
    from torchvision.datasets import ImageFolder
    dump = os.path.join(tmp, "first_batch.f32")
    subprocess.run([exe, root, "1", str(batch), dump], check=True, capture_output=True)
    ours = np.fromfile(dump, dtype=np.float32).reshape(-1, 3, 224, 224)
    mean = np.array(MEAN, dtype=np.float64).reshape(1, 3, 1, 1)
    std = np.array(STD, dtype=np.float64).reshape(1, 3, 1, 1)
    ours = (ours.astype(np.float64) * std + mean) * 255.0
    ds = ImageFolder(root, transform=T.Compose([T.Resize(256), T.CenterCrop(224),
                                                T.ToTensor()]))
    theirs = np.stack([ds[i][0].numpy() for i in range(len(ours))]).astype(np.float64) * 255.0
    d = np.abs(ours - theirs)
    return len(ours), float(d.mean()), float(d.max())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("exe")
    ap.add_argument("--images", type=int, default=320)
    ap.add_argument("--dir")
    ap.add_argument("--repeat", type=int, default=3, help="runs per side; the best counts")
    ap.add_argument("--torchvision-rate", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.torchvision_rate:
        rate, cpu_s, n = torchvision_rate(args.torchvision_rate[0], int(args.torchvision_rate[1]))
        print(f"images_per_s={rate:.2f} images={n} cpu_s={cpu_s:.4f}")
        return
    cores = os.cpu_count() or 1

    def run(cmd):
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        kv = dict(item.split("=") for item in out.split())
        return float(kv["images_per_s"]), int(kv["images"]) / float(kv["cpu_s"])

    with tempfile.TemporaryDirectory() as tmp:
        root = args.dir or tmp
        if not args.dir:
            make_tree(root, args.images)
        rows = []
        for threads in sorted({1, cores}):
            workers = 0 if threads == 1 else threads
            c_runs, p_runs = [], []
            for _ in range(max(1, args.repeat)):
                c_runs.append(run([args.exe, root, str(threads)]))
                p_runs.append(run([PY, __file__, args.exe, "--torchvision-rate", root,
                                   str(workers)]))
            best = lambda runs, i: max(r[i] for r in runs)
            rows.append((threads, workers, best(c_runs, 0), best(p_runs, 0), best(c_runs, 1),
                         best(p_runs, 1)))
        agreement = compare_pixels(args.exe, root, tmp)
        print("decode + resize 256 + crop 224 + normalise, images/s "
              f"(best of {max(1, args.repeat)})")
        print(f"{'threads':>7} {'selfadapt':>10} {'torchvision':>12} {'ratio':>7}"
              f"   {'per core:':>9} {'selfadapt':>10} {'torchvision':>12} {'ratio':>7}")
        for threads, workers, c, p, cc, pc in rows:
            print(f"{threads:>7} {c:>10.1f} {p:>12.1f} {c / p:>6.2f}x   {'':>9} {cc:>10.1f} "
                  f"{pc:>12.1f} {cc / pc:>6.2f}x   (DataLoader workers {workers})")
        n, mad, worst = agreement
        print(f"pixels of the first {n} images against torchvision, before normalisation: "
              f"mean |difference| {mad:.4f} grey levels, largest {worst:.3f}")


if __name__ == "__main__":
    main()
