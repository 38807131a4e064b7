#!/usr/bin/env python3
"""Time the reference Python corruptions on the benchmark's own images.

bench_corruptions writes its images as PNG files (img<i>_224.png,
img<i>_32.png) into a directory and runs this script on them, so that the
C timings and the reference timings come from the same machine, the same
images and the same session. The reference code is never part of selfadapt:
it is used only if the user has it.

  - imagecorruptions (bethgelab): the installed package, or a checkout given
    with --imagecorruptions DIR (the directory that contains the
    imagecorruptions/ package) or $SA_IMAGECORRUPTIONS.
  - hendrycks (hendrycks/robustness): a checkout given with --hendrycks DIR
    or $SA_HENDRYCKS; the corruption functions are read out of
    ImageNet-C/create_c/make_imagenet_c.py and make_cifar_c.py without
    running the scripts' data-loading code.

Each corruption: one warm-up call, then --reps calls, each after
np.random.seed(0); the median per image, then the median over the images, in
milliseconds, including the final uint8 cast. The clock is the process CPU
time (--clock cpu, the default: all of the process's threads, e.g. OpenCV's,
and unaffected by other processes on a shared machine) or wall time
(--clock wall). Output: JSON
{"format": "selfadapt-reference-timings/1", "source": ..., "tables":
{"imagecorruptions_224": {name: ms}, "imagecorruptions_32": ...,
"hendrycks_224": ..., "hendrycks_cifar_32": ...}}.
Exit status 3 when no reference implementation can be imported.
"""
import argparse
import ast
import glob
import json
import os
import statistics
import sys
import time

NAMES = ['gaussian_noise', 'shot_noise', 'impulse_noise', 'defocus_blur', 'glass_blur',
         'motion_blur', 'zoom_blur', 'snow', 'frost', 'fog', 'brightness', 'contrast',
         'elastic_transform', 'pixelate', 'jpeg_compression', 'speckle_noise', 'gaussian_blur',
         'spatter', 'saturate']


def load_images(d, size):
    import numpy as np
    from PIL import Image
    files = sorted(glob.glob(os.path.join(d, 'img*_%d.png' % size)))
    return [np.asarray(Image.open(f).convert('RGB')) for f in files]


def time_calls(fn, images, reps, clock=time.process_time):
    import numpy as np
    per_image = []
    for im in images:
        np.random.seed(0)
        fn(im)  # warm-up (numba compiles here)
        ts = []
        for _ in range(reps):
            np.random.seed(0)
            t0 = clock()
            fn(im)
            ts.append((clock() - t0) * 1e3)
        per_image.append(statistics.median(ts))
    return statistics.median(per_image)


def load_hendrycks(path, script):
    """The corruption functions of a hendrycks script, without its
    data-loading code (which needs torch and the data sets): its imports
    other than torch, its functions, the ImageMagick binding and MotionImage."""
    import numpy as np
    src_path = os.path.join(path, 'ImageNet-C', 'create_c', script)
    tree = ast.parse(open(src_path).read(), src_path)

    def wanted(n):
        if isinstance(n, (ast.Import, ast.ImportFrom)):
            mods = [n.module or ''] if isinstance(n, ast.ImportFrom) else [x.name for x in n.names]
            return not any(m.split('.')[0] in ('torch', 'torchvision') for m in mods)
        if isinstance(n, ast.FunctionDef):
            return True
        if isinstance(n, ast.ClassDef):
            return 'data' not in ast.dump(ast.Module(n.bases, []))
        return isinstance(n, ast.Assign) and 'wandlibrary' in ast.dump(n)

    ns = {'__name__': 'hendrycks_reference', 'np': np}
    exec(compile(ast.Module([n for n in tree.body if wanted(n)], []), src_path, 'exec'), ns)
    return ns


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--images', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--severity', type=int, default=3)
    ap.add_argument('--reps', type=int, default=3)
    ap.add_argument('--imagecorruptions', default=os.environ.get('SA_IMAGECORRUPTIONS'))
    ap.add_argument('--hendrycks', default=os.environ.get('SA_HENDRYCKS'))
    ap.add_argument('--only', default='', help='comma-separated corruption names')
    ap.add_argument('--clock', choices=('cpu', 'wall'), default='cpu')
    a = ap.parse_args()
    try:
        import numpy as np
        from PIL import Image
    except ImportError as e:
        print('bench_reference: %s' % e, file=sys.stderr)
        return 3
    names = [n for n in NAMES if not a.only or n in a.only.split(',')]
    clock = time.process_time if a.clock == 'cpu' else time.perf_counter
    imgs = {s: load_images(a.images, s) for s in (224, 32)}
    tables, sources = {}, []

    if a.imagecorruptions:
        sys.path.insert(0, a.imagecorruptions)
    try:
        import imagecorruptions as ic
        sources.append('imagecorruptions (%s)' % os.path.dirname(ic.__file__))
        for size in (224, 32):
            t = {}
            for n in names:
                try:
                    t[n] = round(time_calls(
                        lambda im: ic.corrupt(im, severity=a.severity, corruption_name=n),
                        imgs[size], a.reps, clock), 3)
                except Exception as e:  # a missing optional dependency
                    print('bench_reference: imagecorruptions %s: %s' % (n, e), file=sys.stderr)
            tables['imagecorruptions_%d' % size] = t
    except ImportError as e:
        print('bench_reference: imagecorruptions not importable: %s' % e, file=sys.stderr)

    if a.hendrycks:
        create_c = os.path.join(a.hendrycks, 'ImageNet-C', 'create_c')
        cwd = os.getcwd()
        for script, size, key in (('make_imagenet_c.py', 224, 'hendrycks_224'),
                                  ('make_cifar_c.py', 32, 'hendrycks_cifar_32')):
            try:
                ns = load_hendrycks(a.hendrycks, script)
            except Exception as e:
                print('bench_reference: hendrycks %s: %s' % (script, e), file=sys.stderr)
                continue
            os.chdir(create_c)  # frost textures are read relative to it
            t = {}
            for n in names:
                fn = ns.get(n)
                if fn is None:
                    continue
                try:
                    t[n] = round(time_calls(
                        lambda im: np.uint8(fn(Image.fromarray(im), a.severity)),
                        imgs[size], a.reps, clock), 3)
                except Exception as e:
                    print('bench_reference: hendrycks %s: %s' % (n, e), file=sys.stderr)
            os.chdir(cwd)
            if t:
                tables[key] = t
                sources.append('hendrycks %s (%s)' % (script, a.hendrycks))

    if not tables:
        return 3
    json.dump({'format': 'selfadapt-reference-timings/1',
               'source': 'measured in this run: ' + '; '.join(sources),
               'severity': a.severity, 'reps': a.reps, 'clock': a.clock, 'tables': tables},
              open(a.out, 'w'), indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
