#!/usr/bin/env python3
"""Write src/base/rng_ziggurat.inc: the 256-layer ziggurat of the fast
generator's normal sampler (standard library only).

The base r is found by bisection so that, with the layer area
v = r f(r) + sqrt(pi/2) erfc(r/sqrt(2)) of f(x) = exp(-x^2/2), the recursion
x[i+1] = sqrt(-2 log(v / x[i] + f(x[i]))) closes at f = 1 after 255 layers.

usage: tools/gen_ziggurat.py > src/base/rng_ziggurat.inc
"""
import math

N = 256


def f(x):
    return math.exp(-0.5 * x * x)


def layers(r):
    v = r * f(r) + math.sqrt(math.pi / 2) * math.erfc(r / math.sqrt(2))
    x = [0.0] * (N + 1)
    x[0], x[1] = v / f(r), r
    for i in range(1, N - 1):
        t = v / x[i] + f(x[i])
        if t >= 1.0:
            return v, x, t, i
        x[i + 1] = math.sqrt(-2.0 * math.log(t))
    return v, x, v / x[N - 1] + f(x[N - 1]), N - 1


def table(decl, values, fmt):
    out = [decl + " = {"]
    for j in range(0, len(values), 3):
        out.append("    " + " ".join(fmt(q) + "," for q in values[j:j + 3]))
    out.append("};")
    return out


def main():
    lo, hi = 3.6, 3.7
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        _, _, t, i = layers(mid)
        if i < N - 1 or t > 1.0:  # r too small: the layers overshoot the top
            lo = mid
        else:
            hi = mid
    r = hi
    v, x, _, _ = layers(r)
    x[N] = 0.0
    fx = [f(q) for q in x]
    fx[0], fx[N] = 0.0, 1.0
    k = [int(x[i + 1] / x[i] * 2.0**53) for i in range(N)]
    w = [x[i] * 2.0**-53 for i in range(N)] + [-x[i] * 2.0**-53 for i in range(N)]
    lines = [
        "/* rng_ziggurat.inc - tables of the fast kind's normal sampler (written by",
        " * tools/gen_ziggurat.py; included by rng.c only). */",
        "/* Ziggurat for exp(-x^2 / 2) with 256 layers of equal area v: x[0] = v / f(r),",
        " * x[1] = r, x[i+1] = sqrt(-2 log(v / x[i] + f(x[i]))), x[256] = 0, f(x) = exp(-x^2 / 2),",
        " * r = %r chosen so that the top layer closes at f = 1," % r,
        " * v = r f(r) + sqrt(pi / 2) erfc(r / sqrt(2)) = %r." % v,
        " * zig_f[i] = f(zig_x[i]) (zig_f[0] unused). */",
    ]
    lines += table("static const double zig_x[257]", x, float.hex)
    lines += table("static const double zig_f[257]", fx, float.hex)
    lines += [
        "/* zig_k[i] = floor(2^53 x[i+1] / x[i]): a 53-bit u below it lies inside the",
        " * curve (the rectangle part of layer i); zig_w[i] = x[i] / 2^53 and",
        " * zig_w[256 + i] = -x[i] / 2^53 (bit 8 of a word is the sign). Shared with",
        " * rng.h's inline first step, hence external. */",
    ]
    lines += table("const uint64_t sa__zig_k[256]", k, lambda q: "0x%016xull" % q)
    lines += table("const double sa__zig_w[512]", w, float.hex)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
