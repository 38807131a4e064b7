/* Colour corruptions: brightness (weather family) and saturate (extra).
 *
 * Both follow scikit-image's rgb2hsv -> edit -> hsv2rgb path pixel by pixel
 * in double precision, without an HSV image: the closed forms
 * (c' = c * V'/V, c' = V - (S'/S)(V - c)) are mathematically equal but land
 * on the other side of an integer often enough (about 0.5 % of values) to
 * change the truncated 8-bit result.
 *
 * One-channel images are treated as grey RGB pixels (R = G = B); the result
 * is stored as its luma 0.2989 R + 0.5870 G + 0.1140 B. For brightness, and
 * for saturate with b = 0, grey stays grey so this is just the value.
 *
 * RGB images go through the same double operations on whole vectors of
 * pixels (color_lanes.h), which give the scalar code's bytes.
 */
#include <math.h>

#include "color.h"
#include "internal.h"
#include "simd.h"

const double sa__brightness_c[2][5] = {
    {0.1, 0.2, 0.3, 0.4, 0.5},     /* ImageNet-C (also the size-generic table) */
    {0.05, 0.1, 0.15, 0.2, 0.3},   /* CIFAR-10-C */
};

const double sa__saturate_ab[2][5][2] = {
    {{0.3, 0}, {0.1, 0}, {2, 0}, {5, 0.1}, {20, 0.2}},
    {{0.3, 0}, {0.1, 0}, {1.5, 0}, {2, 0.1}, {2.5, 0.2}},
};

/* v / 255 for every 8-bit level: the same doubles as the division. */
static void unit_table(double t[256])
{
    for (int i = 0; i < 256; i++)
        t[i] = i / 255.0;
}

/* numpy's float remainder a % 1.0 (result in [0, 1), sign of the divisor). */
static inline double mod1(double a)
{
    double m = fmod(a, 1.0);
    if (m != 0.0) {
        if (m < 0.0)
            m += 1.0;
    } else {
        m = 0.0;
    }
    return m;
}

/* rgb2hsv for one pixel (values in [0,1]). */
static inline void rgb_to_hsv(double r, double g, double b, double *h, double *s, double *v)
{
    double mx = r > g ? r : g;
    mx = mx > b ? mx : b;
    double mn = r < g ? r : g;
    mn = mn < b ? mn : b;
    double d = mx - mn;
    *v = mx;
    if (d == 0.0) {
        *s = 0.0;
        *h = 0.0;
        return;
    }
    *s = d / mx;
    double hh = 0.0;
    /* Later cases overwrite earlier ones on ties, as the reference's
     * successive masked assignments do. */
    if (r == mx)
        hh = (g - b) / d;
    if (g == mx)
        hh = 2.0 + (b - r) / d;
    if (b == mx)
        hh = 4.0 + (r - g) / d;
    *h = mod1(hh / 6.0);
}

/* hsv2rgb for one pixel. */
static inline void hsv_to_rgb(double h, double s, double v, double *r, double *g, double *b)
{
    double hi = floor(h * 6.0);
    double f = h * 6.0 - hi;
    double p = v * (1.0 - s);
    double q = v * (1.0 - f * s);
    double t = v * (1.0 - (1.0 - f) * s);
    int i = (int)hi % 6;
    switch (i) {
    case 0: *r = v; *g = t; *b = p; break;
    case 1: *r = q; *g = v; *b = p; break;
    case 2: *r = p; *g = v; *b = t; break;
    case 3: *r = p; *g = q; *b = v; break;
    case 4: *r = t; *g = p; *b = v; break;
    default: *r = v; *g = p; *b = q; break;
    }
}

static inline double clip01(double v)
{
    return v < 0.0 ? 0.0 : (v > 1.0 ? 1.0 : v);
}

/* One pixel's edit (saturate 0: V += a, 1: S = S * a + b), in place. */
static inline void hsv_pixel(double *r, double *g, double *bl, int saturate, double a, double b)
{
    double h, s, v;
    rgb_to_hsv(*r, *g, *bl, &h, &s, &v);
    if (!saturate)
        v = clip01(v + a);
    else
        s = clip01(s * a + b);
    hsv_to_rgb(h, s, v, r, g, bl);
}

static void hsv_rgb_scalar(uint8_t *dst, const uint8_t *src, size_t n, int saturate, double a,
        double b, const double unit[256])
{
    for (size_t p = 0; p < n; p++) {
        double r = unit[src[3 * p]], g = unit[src[3 * p + 1]], bl = unit[src[3 * p + 2]];
        hsv_pixel(&r, &g, &bl, saturate, a, b);
        dst[3 * p] = sa__to_u8(r);
        dst[3 * p + 1] = sa__to_u8(g);
        dst[3 * p + 2] = sa__to_u8(bl);
    }
}

#ifdef SA_VEC
/* The same edit across 2, 4 or 8 pixels at once (color_lanes.h): 2 lanes
 * wherever GCC has vectors, 4 (AVX2) and 8 (AVX-512) where it builds
 * x86-64 variants (simd.h's conditions for SA_CLONES) and the CPU runs
 * them. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11 && defined(__x86_64__) &&        \
    defined(__linux__) && !defined(SA_NO_CPU_DISPATCH)
#define HSV_DISPATCH 1
#define HSV_AVX2 "avx2"
#define HSV_AVX512 "avx2,avx512f,avx512vl,avx512dq,avx512bw"
#endif

#define HSV_LANES 2
#define HSV_NAME hsv_rgb_lanes2
#define HSV_TARGET
#include "color_lanes.h"
#undef HSV_LANES
#undef HSV_NAME
#undef HSV_TARGET

#ifdef HSV_DISPATCH
#define HSV_LANES 4
#define HSV_NAME hsv_rgb_lanes4
#define HSV_TARGET __attribute__((target(HSV_AVX2)))
#include "color_lanes.h"
#undef HSV_LANES
#undef HSV_NAME
#undef HSV_TARGET

#define HSV_LANES 8
#define HSV_NAME hsv_rgb_lanes8
#define HSV_TARGET __attribute__((target(HSV_AVX512)))
#include "color_lanes.h"
#undef HSV_LANES
#undef HSV_NAME
#undef HSV_TARGET
#endif
#endif

/* Whether this CPU runs the kernel of `lanes` lanes. */
static int hsv_have(int lanes)
{
#ifdef SA_VEC
    if (lanes == 2)
        return 1;
#ifdef HSV_DISPATCH
    if (lanes == 4)
        return __builtin_cpu_supports("avx2");
#ifndef SA_CPU_MAX_AVX2
    if (lanes == 8)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("avx512f") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512bw");
#endif
#endif
#endif
    (void)lanes;
    return 0;
}

sa__hsv_path sa__hsv_edit_rgb(uint8_t *dst, const uint8_t *src, size_t n, int saturate,
        double a, double b, sa__hsv_path path)
{
    double unit[256];
    unit_table(unit);
    if (path == SA__HSV_BEST)
        path = hsv_have(8) ? SA__HSV_LANES8 : hsv_have(4) ? SA__HSV_LANES4 : SA__HSV_LANES2;
    if (path != SA__HSV_SCALAR && !hsv_have((int)path))
        path = SA__HSV_SCALAR;
    switch (path) {
#ifdef SA_VEC
#ifdef HSV_DISPATCH
    case SA__HSV_LANES8:
        hsv_rgb_lanes8(dst, src, n, saturate, a, b, unit);
        break;
    case SA__HSV_LANES4:
        hsv_rgb_lanes4(dst, src, n, saturate, a, b, unit);
        break;
#endif
    case SA__HSV_LANES2:
        hsv_rgb_lanes2(dst, src, n, saturate, a, b, unit);
        break;
#endif
    default:
        path = SA__HSV_SCALAR;
        hsv_rgb_scalar(dst, src, n, saturate, a, b, unit);
        break;
    }
    return path;
}

/* saturate 0: brightness (V += a), 1: saturate (S = S * a + b). */
static void hsv_edit(sa_image *out, const sa_image *in, int saturate, double a, double b)
{
    const size_t pixels = (size_t)in->w * (size_t)in->h;
    if (in->c == 3) {
        sa__hsv_edit_rgb(out->data, in->data, pixels, saturate, a, b, SA__HSV_BEST);
        return;
    }
    const uint8_t *src = in->data;
    uint8_t *dst = out->data;
    double unit[256];
    unit_table(unit);
    for (size_t p = 0; p < pixels; p++) {
        double r = unit[src[p]], g = r, bl = r;
        hsv_pixel(&r, &g, &bl, saturate, a, b);
        double y = 0.2989 * sa__to_u8(r) + 0.5870 * sa__to_u8(g) + 0.1140 * sa__to_u8(bl);
        dst[p] = (uint8_t)(y > 255.0 ? 255.0 : y);
    }
}

int sa__brightness(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err)
{
    (void)opt;
    (void)rng;
    (void)err;
    hsv_edit(out, in, 0, sa__brightness_c[table == SA_PARAMS_CIFAR][severity - 1], 0.0);
    return 0;
}

int sa__saturate(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err)
{
    (void)opt;
    (void)rng;
    (void)err;
    const double *ab = sa__saturate_ab[table == SA_PARAMS_CIFAR][severity - 1];
    hsv_edit(out, in, 1, ab[0], ab[1]);
    return 0;
}
