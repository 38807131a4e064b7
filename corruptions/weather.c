/* Weather family: snow, frost and fog (brightness lives in color.c).
 *
 * Tables: SA_PARAMS_IMAGENET follows hendrycks' make_imagenet_c.py,
 * SA_PARAMS_CIFAR make_cifar_c.py, SA_PARAMS_ANY imagecorruptions' size-generic
 * rules (plasma of the next power of two, frost texture rescaled to cover the
 * image, per-axis zoom of the snow layer). When an image does not fit the
 * fixed-size rules of the ImageNet or CIFAR table (fog larger than the
 * plasma, frost larger than the texture), the size-generic rule is used for
 * that step.
 *
 * Frost textures: sa_corrupt_options.frost when given (RGB images, borrowed;
 * the index is drawn in [0, min(n_frost, 5)), so with the reference's six
 * files frost6 is never used, as in the reference); otherwise the built-in
 * procedural textures of frost_textures.c, evaluated only where needed.
 *
 * One-channel images follow imagecorruptions' grey branches: fog and snow
 * use the value itself as grey; frost blends the grey 0.2989, 0.5870, 0.1140
 * of the texture (weights applied in OpenCV's B, G, R order, as the
 * reference does).
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "filters.h"
#include "weather.h"
#include "internal.h"
#include "simd.h"

/* x86-64 GCC builds also compile the loops that use fmaf for AVX2 + FMA
 * (where fmaf is one instruction and the loops vectorise) and pick that
 * variant at run time; fmaf rounds once either way, and the build is ISO C
 * (no contraction), so both variants give the same bytes. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(SA_NO_CPU_DISPATCH)
#define SA__DISPATCH_FMA 1
static int sa__have_fma(void)
{
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#else
#define SA__DISPATCH_FMA 0
#endif

/* Loops without fmaf get an AVX2 clone picked at load time (simd.h). */
#define SA__CLONES SA_CLONES_AVX2

/* ------------------------------------------------------------------ fog */

static const double fog_params[2][5][2] = {
    {{1.5, 2}, {2, 2}, {2.5, 1.7}, {2.5, 1.5}, {3, 1.4}},
    {{0.2, 3}, {0.5, 3}, {0.75, 2.5}, {1, 2}, {1.5, 1.75}},
};

static int next_pow2(int x)
{
    int p = 1;
    while (p < x)
        p *= 2;
    return p;
}

/* Round to float32 storage when f32 is set (imagecorruptions stores the
 * plasma as float32; hendrycks as float64). */
static inline double st(double v, int f32)
{
    return f32 ? (double)(float)v : v;
}

/* Smallest and largest of m[0..n) (n >= 1), in independent lanes so the
 * loop vectorises; the values are the same whatever the order (m holds no
 * NaN; a zero's sign is lost later by the offset). */
SA__CLONES
static void min_max(const double *m, size_t n, double *lo, double *hi)
{
    double l[8], h[8];
    size_t i = 0;
    for (int k = 0; k < 8; k++)
        l[k] = h[k] = m[0];
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) {
            l[k] = m[i + k] < l[k] ? m[i + k] : l[k];
            h[k] = m[i + k] > h[k] ? m[i + k] : h[k];
        }
    for (; i < n; i++) {
        l[0] = m[i] < l[0] ? m[i] : l[0];
        h[0] = m[i] > h[0] ? m[i] : h[0];
    }
    for (int k = 1; k < 8; k++) {
        l[0] = l[k] < l[0] ? l[k] : l[0];
        h[0] = h[k] > h[0] ? h[k] : h[0];
    }
    *lo = l[0];
    *hi = h[0];
}

/* One row of the square step: centres out[j * s] (j < k) from the column
 * sums cs[j] = corner(i, j) + corner(i + 1, j), cs[k] = cs[0] (torus). */
static inline __attribute__((always_inline)) void
square_row(double *restrict out, const double *restrict cs, const double *restrict u, int k, int s,
           double wibble, const int f32)
{
    for (int j = 0; j < k; j++) {
        double sum = st(cs[j] + cs[j + 1], f32);
        out[(size_t)j * s] = st(sum / 4 + wibble * u[j], f32);
    }
}

/* The diamond-square body; inlined twice so that f32 is a constant. Each
 * row of each step draws its k uniforms first (the reference's order:
 * row-major within a step), then runs a loop without wrap-around: the
 * torus neighbours are copied next to the row (index k holds index 0, or
 * index -1 index k - 1). */
static inline __attribute__((always_inline)) int plasma_body(double *m, int size, double decay,
                                                             const int f32, sa_rng *rng)
{
    const int n = size;
    const size_t kmax = (size_t)(n / 2 > 1 ? n / 2 : 1);
    double *u = malloc(sizeof(double) * 3 * (kmax + 2));
    if (!u)
        return SA_ENOMEM;
    double *cs = u + kmax + 2, *cc = cs + kmax + 2;
    m[0] = 0.0;
    double wibble = 100.0;
    for (int s = n; s >= 2; s /= 2) {
        const int h = s / 2, k = n / s;
        /* Squares: centres from the four corners. */
        for (int i = 0; i < k; i++) {
            const int i1 = i + 1 == k ? 0 : i + 1;
            const double *r0 = m + (size_t)i * s * n, *r1 = m + (size_t)i1 * s * n;
            sa_rng_fill_uniform(rng, u, (size_t)k, -wibble, wibble);
            for (int j = 0; j < k; j++)
                cs[j] = st(r0[(size_t)j * s] + r1[(size_t)j * s], f32);
            cs[k] = cs[0];
            square_row(m + (size_t)(i * s + h) * n + h, cs, u, k, s, wibble, f32);
        }
        /* Diamonds on corner rows: centres above/below plus corners left/right. */
        for (int i = 0; i < k; i++) {
            const int im1 = i == 0 ? k - 1 : i - 1;
            double *cr = m + (size_t)i * s * n;
            const double *c0 = m + (size_t)(i * s + h) * n + h, *c1 = m + (size_t)(im1 * s + h) * n + h;
            sa_rng_fill_uniform(rng, u, (size_t)k, -wibble, wibble);
            for (int j = 0; j < k; j++)
                cc[j] = cr[(size_t)j * s];
            cc[k] = cc[0];
            for (int j = 0; j < k; j++) {
                double d = st(c0[(size_t)j * s] + c1[(size_t)j * s], f32);
                double c = st(cc[j] + cc[j + 1], f32);
                double sum = st(d + c, f32);
                cr[(size_t)j * s + h] = st(sum / 4 + wibble * u[j], f32);
            }
        }
        /* Diamonds on corner columns: centres left/right plus corners above/below. */
        for (int i = 0; i < k; i++) {
            const int i1 = i + 1 == k ? 0 : i + 1;
            double *row = m + (size_t)(i * s + h) * n;
            const double *r0 = m + (size_t)i * s * n, *r1 = m + (size_t)i1 * s * n;
            sa_rng_fill_uniform(rng, u, (size_t)k, -wibble, wibble);
            for (int j = 0; j < k; j++)
                cc[j + 1] = row[(size_t)j * s + h];
            cc[0] = cc[k];
            for (int j = 0; j < k; j++) {
                double d = st(cc[j + 1] + cc[j], f32);
                double c = st(r0[(size_t)j * s] + r1[(size_t)j * s], f32);
                double sum = st(d + c, f32);
                row[(size_t)j * s] = st(sum / 4 + wibble * u[j], f32);
            }
        }
        wibble /= decay;
    }
    free(u);
    return 0;
}

/* The map before normalisation, with its offset lo (the minimum) and scale
 * hi (the maximum after the offset): normalised value st(st(v - lo) / hi).
 * The reference takes the maximum of the offset map; subtracting lo and
 * rounding are non-decreasing, so that is st(max - lo). */
static int plasma_raw(double *m, int size, double decay, int f32, sa_rng *rng, double *lo,
                      double *hi)
{
    int rc = f32 ? plasma_body(m, size, decay, 1, rng) : plasma_body(m, size, decay, 0, rng);
    if (rc < 0)
        return rc;
    double mx;
    min_max(m, (size_t)size * size, lo, &mx);
    *hi = st(mx - *lo, f32);
    return 0;
}

int sa__plasma_fractal(double *m, int size, double decay, int f32, sa_rng *rng)
{
    double lo, hi;
    int rc = plasma_raw(m, size, decay, f32, rng, &lo, &hi);
    if (rc < 0)
        return rc;
    const size_t total = (size_t)size * size;
    for (size_t i = 0; i < total; i++)
        m[i] = st(st(m[i] - lo, f32) / hi, f32);
    return 0;
}

/* First index >= j with flag[index] != 0, or n; skips zero flags eight at a
 * time. */
static inline int next_set(const uint8_t *flag, int j, int n)
{
    for (; j + 8 <= n; j += 8) {
        uint64_t w;
        memcpy(&w, flag + j, 8);
        if (w)
            break;
    }
    while (j < n && !flag[j])
        j++;
    return j;
}

/* out[j] = uint8(clip((in[j] / 255 + tp[j]) * mx / den, 0, 1) * 255),
 * element by element, with tp[j] >= 0, mx >= 0, den > 0.
 *
 * The two divisions are what the loop would spend its time on, so it first
 * takes them as products with the rounded reciprocals: every step is then
 * within a few units in the last place of the exact path (relative error
 * below 16 * 2^-53 on non-negative values), so the scaled value t' lies
 * within 1e-12 of the exact t = q * 255. The byte is trunc(clip(t, 0, 255)),
 * a non-decreasing function of t: where it agrees at t' - 1e-9 and
 * t' + 1e-9 it is the exact byte. Elsewhere (t within 1e-9 of an integer:
 * in practice only where t is exactly one, such as 0) the element is
 * recomputed with the divisions. */
SA__CLONES
static void fog_row(uint8_t *restrict out, const uint8_t *restrict in, const double *restrict tp,
                    uint8_t *restrict unsure, int n, double mx, double den)
{
    const double r255 = 1.0 / 255.0, rden = 1.0 / den, M = 1e-9;
    int any = 0;
    for (int j = 0; j < n; j++) {
        double t = ((in[j] * r255 + tp[j]) * mx) * rden * 255.0; /* t >= 0 */
        int32_t a = (int32_t)(t - M), b = (int32_t)(t + M); /* t - M > -1 truncates to 0 */
        a = a < 255 ? a : 255;
        b = b < 255 ? b : 255;
        out[j] = (uint8_t)a;
        unsure[j] = a != b;
        any |= a != b;
    }
    if (any)
        for (int j = next_set(unsure, 0, n); j < n; j = next_set(unsure, j + 1, n))
            out[j] = sa__to_u8_sel((in[j] / 255.0 + tp[j]) * mx / den);
}

/* tp[x * C + k] = t * (normalised plasma at x), rounded as the reference
 * stores it. */
SA__CLONES
static void fog_plasma_row(double *restrict tp, const double *restrict pm, int W, int C, double lo,
                           double hi, double t, int f32)
{
    for (int x = 0; x < W; x++) {
        double pv = st(st(pm[x] - lo, f32) / hi, f32);
        tp[(size_t)x * C] = f32 ? (double)(float)(t * pv) : t * pv;
    }
    for (int x = 0; x < W; x++)
        for (int k = 1; k < C; k++)
            tp[(size_t)x * C + k] = tp[(size_t)x * C];
}

int sa__fog(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err)
{
    (void)opt;
    const double *p = fog_params[table == SA_PARAMS_CIFAR][severity - 1];
    const double t = p[0];
    const int H = in->h, W = in->w, C = in->c;
    int big = H > W ? H : W;
    int size, f32 = 0;
    if (table == SA_PARAMS_ANY) {
        size = next_pow2(big > 3 ? big : 3);
        f32 = 1;
    } else {
        size = table == SA_PARAMS_CIFAR ? 32 : 256;
        if (size < big)
            size = next_pow2(big);
    }
    double *m = malloc((size_t)size * size * sizeof *m);
    if (!m)
        return sa_error_set(err, SA_ENOMEM, "corrupt", "out of memory (fog plasma %dx%d)", size,
                            size);
    double lo, hi;
    if (plasma_raw(m, size, p[1], f32, rng, &lo, &hi) < 0) {
        free(m);
        return sa_error_set(err, SA_ENOMEM, "corrupt", "out of memory (fog plasma %dx%d)", size,
                            size);
    }
    const size_t n = sa_image_size(in);
    uint8_t mx8 = 0;
    for (size_t i = 0; i < n; i++)
        mx8 = in->data[i] > mx8 ? in->data[i] : mx8;
    const double mx = mx8 / 255.0;
    const double den = mx + t;
    double *tp = malloc(sizeof(double) * (size_t)W * C);
    uint8_t *unsure = malloc((size_t)W * C);
    if (!tp || !unsure) {
        free(tp);
        free(unsure);
        free(m);
        return sa_error_set(err, SA_ENOMEM, "corrupt", "out of memory (fog)");
    }
    for (int y = 0; y < H; y++) {
        /* The plasma term of each element of the row (normalised here,
         * only where it is used), then the row. */
        fog_plasma_row(tp, m + (size_t)y * size, W, C, lo, hi, t, f32);
        fog_row(out->data + (size_t)y * W * C, in->data + (size_t)y * W * C, tp, unsure, W * C, mx,
                den);
    }
    free(tp);
    free(unsure);
    free(m);
    return 0;
}

/* ----------------------------------------------------------------- snow */

typedef struct snow_param {
    double mu, sigma, zoom, thr, radius, sigma_m, blend;
} snow_param;

static const snow_param snow_p[2][5] = {
    {{0.1, 0.3, 3, 0.5, 10, 4, 0.8}, {0.2, 0.3, 2, 0.5, 12, 4, 0.7},
     {0.55, 0.3, 4, 0.9, 12, 8, 0.7}, {0.55, 0.3, 4.5, 0.85, 12, 8, 0.65},
     {0.55, 0.3, 2.5, 0.85, 12, 12, 0.55}},
    {{0.1, 0.2, 1, 0.6, 8, 3, 0.95}, {0.1, 0.2, 1, 0.5, 10, 4, 0.9},
     {0.15, 0.3, 1.75, 0.55, 10, 4, 0.9}, {0.25, 0.3, 2.25, 0.6, 12, 6, 0.85},
     {0.3, 0.3, 1.25, 0.65, 14, 12, 0.8}},
};

/* Python's round() of a positive double (half to even). */
static int round_half_even(double v)
{
    double r = nearbyint(v); /* default rounding mode: to nearest, ties to even */
    return (int)r;
}

/* One axis of scipy's corner-aligned order-1 zoom from ch to m samples:
 * source index, weights (w1 = 1 - w0, as scipy) and validity (a coordinate
 * that rounding pushes past ch - 1 takes scipy's constant 0). */
static void zoom_axis(int *i0, int *i1, double *w0, double *w1, unsigned char *ok, int ch, int m)
{
    const double zoom = m > 1 ? (double)(ch - 1) / (double)(m - 1) : 1.0;
    for (int o = 0; o < m; o++) {
        double cc = (double)o * zoom;
        if (cc > (double)(ch - 1)) {
            ok[o] = 0;
            i0[o] = i1[o] = 0;
            w0[o] = w1[o] = 0.0;
            continue;
        }
        ok[o] = 1;
        double fl = floor(cc);
        int s0 = (int)fl, s1 = s0 + 1;
        if (s1 >= ch)
            s1 = ch > 1 ? 2 * ch - 2 - s1 : 0; /* weight 0 there */
        w0[o] = 1.0 - (cc - fl);
        w1[o] = 1.0 - w0[o];
        i0[o] = s0;
        i1[o] = s1;
    }
}

/* imagecorruptions' clipped_zoom of an h x w layer: centred crop of
 * ceil(n / z) per axis, corner-aligned bilinear resize to round(ch * z)
 * per axis (scipy's order-1 zoom and summation order). The whole zoomed
 * array (zh x zw) is returned in *out; the caller frees it. */
static int zoom_any(double **out, int *zh, int *zw, const double *in, int h, int w, double z,
                    sa_error *err)
{
    const int chh = (int)ceil(h / z), chw = (int)ceil(w / z);
    const int top = (h - chh) / 2, left = (w - chw) / 2;
    const int mh = round_half_even(chh * z), mw = round_half_even(chw * z);
    const int mx = mh > mw ? mh : mw;
    double *o = malloc(sizeof(double) * (size_t)mh * mw);
    int *ix = malloc(sizeof(int) * 4 * (size_t)mx);
    double *wx = malloc(sizeof(double) * 4 * (size_t)mx);
    unsigned char *ok = malloc(2 * (size_t)mx);
    if (!o || !ix || !wx || !ok) {
        free(o);
        free(ix);
        free(wx);
        free(ok);
        return sa_error_set(err, SA_ENOMEM, "corrupt", "out of memory (snow zoom)");
    }
    int *r0 = ix, *r1 = ix + mx, *c0 = ix + 2 * mx, *c1 = ix + 3 * mx;
    double *wr0 = wx, *wr1 = wx + mx, *wc0 = wx + 2 * mx, *wc1 = wx + 3 * mx;
    unsigned char *okr = ok, *okc = ok + mx;
    zoom_axis(r0, r1, wr0, wr1, okr, chh, mh);
    zoom_axis(c0, c1, wc0, wc1, okc, chw, mw);
    for (int i = 0; i < mh; i++) {
        const double *a = in + (size_t)(top + r0[i]) * w + left;
        const double *b = in + (size_t)(top + r1[i]) * w + left;
        for (int j = 0; j < mw; j++) {
            double t = 0.0;
            if (okr[i] && okc[j]) {
                t = t + (a[c0[j]] * wr0[i]) * wc0[j];
                t = t + (a[c1[j]] * wr0[i]) * wc1[j];
                t = t + (b[c0[j]] * wr1[i]) * wc0[j];
                t = t + (b[c1[j]] * wr1[i]) * wc1[j];
            }
            o[(size_t)i * mw + j] = t;
        }
    }
    free(ix);
    free(wx);
    free(ok);
    *out = o;
    *zh = mh;
    *zw = mw;
    return 0;
}

/* acc[x] += k * row[clamp(x - dx)] for x < n (row of w values): the
 * clamped ends and the plain middle as separate loops. */
SA__CLONES
static void motion_tap_row(double *restrict acc, const double *restrict row, int w, int n, int dx,
                           double k)
{
    int a = dx < 0 ? 0 : (dx > n ? n : dx);             /* x < a reads row[0] */
    int b = w + dx < a ? a : (w + dx > n ? n : w + dx); /* x >= b reads row[w - 1] */
    for (int x = 0; x < a; x++)
        acc[x] = acc[x] + k * row[0];
    for (int x = a; x < b; x++)
        acc[x] = acc[x] + k * row[x - dx];
    for (int x = b; x < n; x++)
        acc[x] = acc[x] + k * row[w - 1];
}

/* imagecorruptions' motion blur of an h x w float64 layer: half-Gaussian
 * taps along the angle, edge clamp, accumulation in float64 (tap by tap,
 * in order, for a row of outputs at a time); stops at the first tap that
 * leaves the image. Only the top-left oh x ow outputs are written (row
 * stride ow). */
static int motion_blur_any(double *out, const double *in, int h, int w, int oh, int ow,
                           int radius, double sigma, double angle, sa_error *err)
{
    const int width = 2 * radius + 1;
    double *k = malloc(sizeof(double) * (size_t)width);
    int *tx = malloc(sizeof(int) * (size_t)width), *ty = malloc(sizeof(int) * (size_t)width);
    if (!k || !tx || !ty) {
        free(k);
        free(tx);
        free(ty);
        return sa_error_set(err, SA_ENOMEM, "corrupt", "out of memory (snow blur)");
    }
    const double pi = 3.14159265358979323846;
    double z = 0.0;
    for (int i = 0; i < width; i++) {
        k[i] = exp(-((double)i * i) / (2 * (sigma * sigma))) / (sqrt(2 * pi) * sigma);
        z += k[i];
    }
    for (int i = 0; i < width; i++)
        k[i] /= z;
    const double rad = angle * (pi / 180.0);
    const double p0 = width * sin(rad), p1 = width * cos(rad);
    const double hyp = hypot(p0, p1);
    int taps = 0;
    for (int i = 0; i < width; i++) {
        int dy = -(int)ceil((i * p0) / hyp - 0.5);
        int dx = -(int)ceil((i * p1) / hyp - 0.5);
        if (abs(dy) >= h || abs(dx) >= w)
            break;
        ty[taps] = dy;
        tx[taps] = dx;
        taps++;
    }
    for (int y = 0; y < oh; y++) {
        double *acc = out + (size_t)y * ow;
        for (int x = 0; x < ow; x++)
            acc[x] = 0.0;
        for (int i = 0; i < taps; i++) {
            int sy = y - ty[i];
            sy = sy < 0 ? 0 : (sy >= h ? h - 1 : sy);
            motion_tap_row(acc, in + (size_t)sy * w, w, ow, tx[i], k[i]);
        }
    }
    free(k);
    free(tx);
    free(ty);
    return 0;
}

/* Whitening in float32, then the layer and its 180-degree rotation.
 * The grey is OpenCV's float RGB->grey as it runs on x86-64 with AVX2:
 * fused multiply-adds, 8 pixels at a time per row, and a scalar tail
 * whose operation order differs (so rows are split at simd_w). Per row:
 * the whitened floor and the two layer values are spread to one entry per
 * element, then every element is finished in one flat loop.
 *
 * The reference adds the layers in float64: byte = trunc(clip(t, 0, 255))
 * with t = ((v + s) + s') * 255, v the float32 blend, s and s' multiples of
 * 1/255 in [0, 1]. The flat loop adds them in float32 (layers rounded to
 * float32): four roundings of relative size 2^-24 on values below 3, and
 * one of the product, keep that t' within 2e-4 of the exact t. The byte is
 * a non-decreasing function of t, so where it agrees at t' - 1e-3 and
 * t' + 1e-3 it is exact; the few other elements (t within 1e-3 of an
 * integer) are recomputed in float64. */
static inline __attribute__((always_inline)) void
snow_blend_body(uint8_t *restrict out, const uint8_t *restrict in, const double *restrict snowl,
                int H, int W, int C, float blend, float rest, float *restrict wv,
                float *restrict sv, float *restrict rv, uint8_t *restrict unsure)
{
    const int simd_w = W / 8 * 8;
    const float M = 1e-3f;
    for (int y = 0; y < H; y++) {
        const uint8_t *px = in + (size_t)y * W * C;
        uint8_t *o = out + (size_t)y * W * C;
        const double *s = snowl + (size_t)y * W;
        const double *r = snowl + (size_t)(H - 1 - y) * W; /* read right to left */
        if (C == 3) {
            for (int x = 0; x < simd_w; x++) {
                float x0 = px[3 * x] / 255.f, x1 = px[3 * x + 1] / 255.f,
                      x2 = px[3 * x + 2] / 255.f;
                float g = fmaf(x2, 0.114f, fmaf(x1, 0.587f, x0 * 0.299f));
                float w = g * 1.5f + 0.5f;
                wv[3 * x] = wv[3 * x + 1] = wv[3 * x + 2] = w;
            }
            for (int x = simd_w; x < W; x++) {
                float x0 = px[3 * x] / 255.f, x1 = px[3 * x + 1] / 255.f,
                      x2 = px[3 * x + 2] / 255.f;
                float g = fmaf(x2, 0.114f, fmaf(x0, 0.299f, x1 * 0.587f));
                float w = g * 1.5f + 0.5f;
                wv[3 * x] = wv[3 * x + 1] = wv[3 * x + 2] = w;
            }
            for (int x = 0; x < W; x++) {
                const float a = (float)s[x], b = (float)r[W - 1 - x];
                sv[3 * x] = sv[3 * x + 1] = sv[3 * x + 2] = a;
                rv[3 * x] = rv[3 * x + 1] = rv[3 * x + 2] = b;
            }
        } else {
            for (int x = 0; x < W; x++) {
                wv[x] = (px[x] / 255.f) * 1.5f + 0.5f;
                sv[x] = (float)s[x];
                rv[x] = (float)r[W - 1 - x];
            }
        }
        int any = 0;
        for (int j = 0; j < W * C; j++) {
            float xv = px[j] / 255.f;
            float mx = xv > wv[j] ? xv : wv[j];
            float v = blend * xv + rest * mx;
            float t = ((v + sv[j]) + rv[j]) * 255.f; /* >= 0 */
            int32_t lo = (int32_t)(t - M), hi = (int32_t)(t + M);
            lo = lo < 255 ? lo : 255;
            hi = hi < 255 ? hi : 255;
            o[j] = (uint8_t)lo;
            unsure[j] = lo != hi;
            any |= lo != hi;
        }
        if (!any)
            continue;
        for (int j = next_set(unsure, 0, W * C); j < W * C; j = next_set(unsure, j + 1, W * C)) {
            const int x = j / C;
            float xv = px[j] / 255.f;
            float mx = xv > wv[j] ? xv : wv[j];
            float v = blend * xv + rest * mx;
            o[j] = sa__to_u8_sel((double)v + s[x] + r[W - 1 - x]);
        }
    }
}

#if SA__DISPATCH_FMA
static __attribute__((target("avx2,fma"))) void
snow_blend_fma(uint8_t *out, const uint8_t *in, const double *snowl, int H, int W, int C,
               float blend, float rest, float *wv, float *sv, float *rv, uint8_t *unsure)
{
    snow_blend_body(out, in, snowl, H, W, C, blend, rest, wv, sv, rv, unsure);
}
#endif

static void snow_blend_base(uint8_t *out, const uint8_t *in, const double *snowl, int H, int W,
                            int C, float blend, float rest, float *wv, float *sv, float *rv,
                            uint8_t *unsure)
{
    snow_blend_body(out, in, snowl, H, W, C, blend, rest, wv, sv, rv, unsure);
}

static int snow_blend(sa_image *out, const sa_image *in, const double *snowl, float blend,
                      float rest, sa_error *err)
{
    const size_t row = (size_t)in->w * in->c;
    float *wv = malloc(sizeof(float) * 3 * row);
    uint8_t *unsure = malloc(row);
    if (!wv || !unsure) {
        free(wv);
        free(unsure);
        return sa_error_set(err, SA_ENOMEM, "corrupt", "out of memory (snow)");
    }
#if SA__DISPATCH_FMA
    if (sa__have_fma())
        snow_blend_fma(out->data, in->data, snowl, in->h, in->w, in->c, blend, rest, wv,
                       wv + row, wv + 2 * row, unsure);
    else
#endif
        snow_blend_base(out->data, in->data, snowl, in->h, in->w, in->c, blend, rest, wv,
                        wv + row, wv + 2 * row, unsure);
    free(wv);
    free(unsure);
    return 0;
}

/* u8[i] = uint8(clip(z[i] < thr ? 0 : z[i], 0, 1) * 255). */
SA__CLONES
static void snow_threshold_u8(uint8_t *restrict u8, const double *restrict z, size_t n, double thr)
{
    for (size_t i = 0; i < n; i++)
        u8[i] = sa__to_u8_sel(z[i] < thr ? 0.0 : z[i]);
}

/* d[i] = u8[i] / 255. */
SA__CLONES
static void u8_to_unit(double *restrict d, const uint8_t *restrict u8, size_t n)
{
    for (size_t i = 0; i < n; i++)
        d[i] = u8[i] / 255.0;
}

/* d[x] = clip(round_half_even(b[x] * 255), 0, 255) / 255. Adding and
 * subtracting 1.5 * 2^52 rounds to the nearest integer, ties to even (the
 * default rounding mode), for |v| < 2^51; the blurred layer is a weighted
 * mean of values in [0, 1], far inside that. */
SA__CLONES
static void snow_quantise_row(double *restrict d, const double *restrict b, int n)
{
    const double magic = 6755399441055744.0; /* 1.5 * 2^52 */
    for (int x = 0; x < n; x++) {
        double v = b[x] * 255.0;
        double r = (v + magic) - magic;
        r = r > 0.0 ? r : 0.0;
        r = r < 255.0 ? r : 255.0;
        d[x] = r / 255.0;
    }
}

int sa__snow(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err)
{
    (void)opt;
    const snow_param *p = &snow_p[table == SA_PARAMS_CIFAR][severity - 1];
    const int H = in->h, W = in->w;
    const size_t n = (size_t)H * W;
    double *layer = malloc(sizeof(double) * n);
    double *snowl = malloc(sizeof(double) * n); /* final layer, H x W, in [0,1] */
    uint8_t *u8a = NULL, *u8b = NULL;
    double *zoomed = NULL, *blurred = NULL;
    int rc = 0;
    if (!layer || !snowl) {
        rc = sa_error_set(err, SA_ENOMEM, "corrupt", "out of memory (snow %dx%d)", W, H);
        goto done;
    }
    sa_rng_fill_normal(rng, layer, n, p->mu, p->sigma);
    if (table != SA_PARAMS_ANY) {
        /* hendrycks: centred zoom, threshold, 8-bit layer through
         * ImageMagick's motion blur, back to [0,1]. */
        zoomed = malloc(sizeof(double) * n);
        u8a = malloc(n);
        u8b = malloc(n);
        if (!zoomed || !u8a || !u8b) {
            rc = sa_error_set(err, SA_ENOMEM, "corrupt", "out of memory (snow %dx%d)", W, H);
            goto done;
        }
        rc = sa__clipped_zoom_f64(zoomed, layer, H, W, 1, p->zoom, err);
        if (rc < 0)
            goto done;
        snow_threshold_u8(u8a, zoomed, n, p->thr);
        double angle = sa_rng_uniform(rng, -135.0, -45.0);
        rc = sa__motion_blur_u8(u8b, u8a, H, W, 1, p->radius, p->sigma_m, angle, err);
        if (rc < 0)
            goto done;
        u8_to_unit(snowl, u8b, n);
    } else {
        /* imagecorruptions: per-axis zoom kept whole, float blur at the
         * zoomed size, rounded to 8 bits, top-left H x W. */
        int zh = 0, zw = 0;
        rc = zoom_any(&zoomed, &zh, &zw, layer, H, W, p->zoom, err);
        if (rc < 0)
            goto done;
        const size_t zn = (size_t)zh * zw;
        for (size_t i = 0; i < zn; i++) {
            double v = zoomed[i] < p->thr ? 0.0 : zoomed[i];
            zoomed[i] = v < 0.0 ? 0.0 : (v > 1.0 ? 1.0 : v);
        }
        blurred = malloc(sizeof(double) * zn);
        if (!blurred) {
            rc = sa_error_set(err, SA_ENOMEM, "corrupt", "out of memory (snow %dx%d)", W, H);
            goto done;
        }
        double angle = sa_rng_uniform(rng, -135.0, -45.0);
        const int oh = zh < H ? zh : H, ow = zw < W ? zw : W;
        rc = motion_blur_any(blurred, zoomed, zh, zw, oh, ow, (int)p->radius, p->sigma_m, angle,
                             err);
        if (rc < 0)
            goto done;
        for (int y = 0; y < H; y++)
            snow_quantise_row(snowl + (size_t)y * W, blurred + (size_t)y * ow, W);
    }
    rc = snow_blend(out, in, snowl, (float)p->blend, (float)(1 - p->blend), err);
done:
    free(layer);
    free(snowl);
    free(u8a);
    free(u8b);
    free(zoomed);
    free(blurred);
    return rc;
}

/* ---------------------------------------------------------------- frost */

static const double frost_params[2][5][2] = {
    {{1, 0.4}, {0.8, 0.6}, {0.7, 0.7}, {0.65, 0.7}, {0.6, 0.75}},
    {{1, 0.2}, {1, 0.3}, {0.9, 0.4}, {0.85, 0.4}, {0.75, 0.45}},
};

/* A frost texture seen through an optional decimation (CIFAR: texel
 * (5i+2, 5j+2) of the full texture). */
typedef struct tex {
    const sa_image *img;    /* given texture, or NULL for the built-in one */
    sa__frost_builtin bi;
    int w, h;               /* size after decimation */
    int step, off;          /* texel (x, y) = source (off + step x, off + step y) */
} tex;

/* Texels x0 .. x0+n-1 of row y (clamped into the texture), RGB. */
static void tex_row(const tex *t, int y, int x0, int n, uint8_t *rgb)
{
    if (t->img) {
        const sa_image *im = t->img;
        int sy = t->off + t->step * y;
        if (sy >= im->h)
            sy = im->h - 1;
        const uint8_t *row = im->data + (size_t)sy * im->w * im->c;
        for (int j = 0; j < n; j++) {
            int sx = t->off + t->step * (x0 + j);
            if (sx >= im->w)
                sx = im->w - 1;
            const uint8_t *px = row + (size_t)sx * im->c;
            if (im->c >= 3) {
                rgb[3 * j] = px[0];
                rgb[3 * j + 1] = px[1];
                rgb[3 * j + 2] = px[2];
            } else {
                rgb[3 * j] = rgb[3 * j + 1] = rgb[3 * j + 2] = px[0];
            }
        }
    } else {
        sa__frost_builtin_row(&t->bi, t->off + t->step * y, t->off + t->step * x0, t->step, n,
                              rgb);
    }
}

/* OpenCV's cubic kernel (A = -0.75) as 11-bit fixed-point weights. */
static void cubic_coefs(float x, int16_t c[4])
{
    const float A = -0.75f;
    float k0 = ((A * (x + 1) - 5 * A) * (x + 1) + 8 * A) * (x + 1) - 4 * A;
    float k1 = ((A + 2) * x - (A + 3)) * x * x + 1;
    float k2 = ((A + 2) * (1 - x) - (A + 3)) * (1 - x) * (1 - x) + 1;
    float k3 = 1.f - k0 - k1 - k2;
    const float k[4] = {k0, k1, k2, k3};
    for (int i = 0; i < 4; i++)
        c[i] = (int16_t)lrintf(k[i] * 2048.0f);
}

/* Horizontal bicubic pass of one source row (RGB): hr[3j + k] = sum over
 * the four taps of src[xo[4j + q] + k] * c[4j + q] (exact in int32). */
SA__CLONES
static void cubic_h_row(int32_t *restrict hr, const uint8_t *restrict src, const int *restrict xo,
                        const int16_t *restrict c, int W)
{
    for (int j = 0; j < W; j++) {
        const int *o = xo + 4 * j;
        const int16_t *cj = c + 4 * j;
        for (int k = 0; k < 3; k++)
            hr[3 * j + k] = src[o[0] + k] * cj[0] + src[o[1] + k] * cj[1] +
                            src[o[2] + k] * cj[2] + src[o[3] + k] * cj[3];
    }
}

/* Vertical pass, float path, values [j0, j1): v = r3 b3 + ..., then
 * r0 b0 last, rounded to nearest even. Adding and subtracting 1.5 * 2^23
 * rounds a float to an integer that way for |v| < 2^22; v is an 8-bit value
 * give or take the kernel's overshoot. */
SA__CLONES
static void cubic_v_float(uint8_t *restrict d, const int32_t *r0, const int32_t *r1,
                          const int32_t *r2, const int32_t *r3, const float *fb, int j0, int j1)
{
    const float b0 = fb[0], b1 = fb[1], b2 = fb[2], b3 = fb[3], magic = 12582912.0f;
    for (int j = j0; j < j1; j++) {
        float v = (float)r3[j] * b3;
        v = (float)r2[j] * b2 + v;
        v = (float)r1[j] * b1 + v;
        v = (float)r0[j] * b0 + v;
        float r = (v + magic) - magic;
        r = r > 0.f ? r : 0.f;
        r = r < 255.f ? r : 255.f;
        d[j] = (uint8_t)(int32_t)r;
    }
}

/* Vertical pass, fixed-point path, values [j0, j1): (sum + 2^21) >> 22. */
SA__CLONES
static void cubic_v_fixed(uint8_t *restrict d, const int32_t *r0, const int32_t *r1,
                          const int32_t *r2, const int32_t *r3, const int16_t *c, int j0, int j1)
{
    for (int j = j0; j < j1; j++) {
        int64_t v = (int64_t)r0[j] * c[0] + (int64_t)r1[j] * c[1] + (int64_t)r2[j] * c[2] +
                    (int64_t)r3[j] * c[3];
        int64_t r = (v + (1 << 21)) >> 22;
        d[j] = (uint8_t)(r < 0 ? 0 : (r > 255 ? 255 : r));
    }
}

/* Rows [y0, y0+H) and columns [x0, x0+W) of the texture resized to nw x nh
 * with OpenCV's 8-bit bicubic resize (fixed point, clamped borders), RGB
 * into dst (W*H*3). */
static int resize_window(uint8_t *dst, const tex *t, int nw, int nh, int x0, int y0, int W,
                         int H, sa_error *err)
{
    const double sx_scale = 1.0 / ((double)nw / t->w), sy_scale = 1.0 / ((double)nh / t->h);
    int *xs = malloc(sizeof(int) * (size_t)W);
    int16_t *xc = malloc(sizeof(int16_t) * 4 * (size_t)W);
    int *ys = malloc(sizeof(int) * (size_t)H);
    int16_t *yc = malloc(sizeof(int16_t) * 4 * (size_t)H);
    int *xo = malloc(sizeof(int) * 4 * (size_t)W);
    uint8_t *srow = NULL;
    int32_t *hbuf = NULL;
    int rc = 0;
    if (!xs || !xc || !ys || !yc || !xo) {
        rc = sa_error_set(err, SA_ENOMEM, "corrupt", "out of memory (frost resize)");
        goto done;
    }
    for (int j = 0; j < W; j++) {
        float f = (float)((x0 + j + 0.5) * sx_scale - 0.5);
        int s = (int)floorf(f);
        xs[j] = s;
        cubic_coefs(f - (float)s, xc + 4 * j);
    }
    for (int i = 0; i < H; i++) {
        float f = (float)((y0 + i + 0.5) * sy_scale - 0.5);
        int s = (int)floorf(f);
        ys[i] = s;
        cubic_coefs(f - (float)s, yc + 4 * i);
    }
    int cx0 = xs[0] - 1, cx1 = xs[W - 1] + 2;
    if (cx0 < 0)
        cx0 = 0;
    if (cx1 > t->w - 1)
        cx1 = t->w - 1;
    int cy0 = ys[0] - 1, cy1 = ys[H - 1] + 2;
    if (cy0 < 0)
        cy0 = 0;
    if (cy1 > t->h - 1)
        cy1 = t->h - 1;
    const int sw = cx1 - cx0 + 1, sh = cy1 - cy0 + 1;
    srow = malloc((size_t)sw * 3);
    hbuf = malloc(sizeof(int32_t) * (size_t)sh * W * 3);
    if (!srow || !hbuf) {
        rc = sa_error_set(err, SA_ENOMEM, "corrupt", "out of memory (frost resize)");
        goto done;
    }
    /* Source column offsets (clamped, relative to cx0, times 3) of the
     * four taps of every output column. */
    for (int j = 0; j < W; j++)
        for (int q = 0; q < 4; q++) {
            int sx = xs[j] - 1 + q;
            sx = sx < 0 ? 0 : (sx > t->w - 1 ? t->w - 1 : sx);
            xo[4 * j + q] = (sx - cx0) * 3;
        }
    /* Horizontal pass over the needed source rows. */
    for (int r = 0; r < sh; r++) {
        tex_row(t, cy0 + r, cx0, sw, srow);
        cubic_h_row(hbuf + (size_t)r * W * 3, srow, xo, xc, W);
    }
    /* Vertical pass. OpenCV (x86-64 baseline SSE) runs the first
     * floor(3 nw / 8) * 8 values of each full output row through a float
     * path: sum of S_q * (beta_q / 2^22) in float32, innermost term last
     * row first, rounded to nearest even; the rest in fixed point:
     * (sum + 2^21) >> 22. Both are saturated to 8 bits. */
    const int simd_end = nw * 3 / 8 * 8;
    const float fscale = 1.f / (2048 * 2048);
    int split = simd_end - x0 * 3; /* values before it take the float path */
    split = split < 0 ? 0 : (split > W * 3 ? W * 3 : split);
    for (int i = 0; i < H; i++) {
        const int16_t *c = yc + 4 * i;
        const int32_t *rows[4];
        float fb[4];
        for (int q = 0; q < 4; q++) {
            int sy = ys[i] - 1 + q;
            sy = sy < 0 ? 0 : (sy > t->h - 1 ? t->h - 1 : sy);
            rows[q] = hbuf + (size_t)(sy - cy0) * W * 3;
            fb[q] = (float)c[q] * fscale;
        }
        uint8_t *d = dst + (size_t)i * W * 3;
        cubic_v_float(d, rows[0], rows[1], rows[2], rows[3], fb, 0, split);
        cubic_v_fixed(d, rows[0], rows[1], rows[2], rows[3], c, split, W * 3);
    }
done:
    free(xs);
    free(xc);
    free(xo);
    free(ys);
    free(yc);
    free(srow);
    free(hbuf);
    return rc;
}

/* out[j] = clip(a in[j] + b tex[j], 0, 255), truncated, for n values. */
SA_CLONES
static void frost_blend(uint8_t *restrict out, const uint8_t *restrict in,
                        const uint8_t *restrict tx, size_t n, double a, double b)
{
    for (size_t j = 0; j < n; j++) {
        double v = a * in[j] + b * tx[j];
        v = v > 0.0 ? v : 0.0;
        v = v < 255.0 ? v : 255.0;
        out[j] = (uint8_t)(int32_t)v;
    }
}

int sa__frost(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err)
{
    const double *p = frost_params[table == SA_PARAMS_CIFAR][severity - 1];
    const int H = in->h, W = in->w, C = in->c;
    const int given = opt && opt->frost && opt->n_frost > 0;
    const int n_tex = given ? (opt->n_frost < 5 ? opt->n_frost : 5) : SA__FROST_BUILTIN_N;
    const int idx = (int)sa_rng_randint(rng, 0, n_tex);
    tex t;
    memset(&t, 0, sizeof t);
    t.step = 1;
    if (given) {
        t.img = opt->frost[idx];
        if (!t.img || t.img->c < 3 || t.img->w < 1 || t.img->h < 1)
            return sa_error_set(err, SA_EINVAL, "corrupt",
                                "frost texture %d must be an RGB image (frost)", idx);
        t.w = t.img->w;
        t.h = t.img->h;
    } else {
        sa__frost_builtin_init(&t.bi, idx);
        t.w = t.bi.w;
        t.h = t.bi.h;
    }
    if (table == SA_PARAMS_CIFAR) {
        /* cv2.resize(fx = fy = 0.2, bilinear) is pure decimation. */
        int dw = (int)lrint(t.w * 0.2), dh = (int)lrint(t.h * 0.2);
        if (dw >= 1 && dh >= 1) {
            t.w = dw;
            t.h = dh;
            t.step = 5;
            t.off = 2;
        }
    }
    uint8_t *crop = malloc((size_t)W * H * 3);
    if (!crop)
        return sa_error_set(err, SA_ENOMEM, "corrupt", "out of memory (frost)");
    if (table != SA_PARAMS_ANY && t.h > H && t.w > W) {
        /* hendrycks: crop of the (decimated) texture at random offsets. */
        int y0 = (int)sa_rng_randint(rng, 0, t.h - H);
        int x0 = (int)sa_rng_randint(rng, 0, t.w - W);
        for (int i = 0; i < H; i++)
            tex_row(&t, y0 + i, x0, W, crop + (size_t)i * W * 3);
    } else {
        /* imagecorruptions: rescale so the texture covers the image, times
         * 1.1, bicubic; then crop. */
        double f = 1.0;
        if (t.h < H && t.w >= W)
            f = (double)H / t.h;
        else if (t.h >= H && t.w < W)
            f = (double)W / t.w;
        else if (t.h < H && t.w < W) {
            double f0 = (double)H / t.h, f1 = (double)W / t.w;
            f = f0 > f1 ? f0 : f1;
        }
        f *= 1.1;
        int nw = (int)ceil(t.w * f), nh = (int)ceil(t.h * f);
        int y0 = nh - H > 0 ? (int)sa_rng_randint(rng, 0, nh - H) : 0;
        int x0 = nw - W > 0 ? (int)sa_rng_randint(rng, 0, nw - W) : 0;
        int rc = resize_window(crop, &t, nw, nh, x0, y0, W, H, err);
        if (rc < 0) {
            free(crop);
            return rc;
        }
    }
    const double a = p[0], b = p[1];
    const size_t pixels = (size_t)W * H;
    if (C == 3)
        frost_blend(out->data, in->data, crop, 3 * pixels, a, b);
    else
        for (size_t q = 0; q < pixels; q++) {
            /* imagecorruptions applies its grey weights to the texture in
             * OpenCV's BGR order. */
            const uint8_t *f = crop + 3 * q;
            double g = 0.2989 * f[2] + 0.5870 * f[1] + 0.1140 * f[0];
            double v = a * in->data[q] + b * g;
            out->data[q] = (uint8_t)(v <= 0.0 ? 0.0 : (v >= 255.0 ? 255.0 : v));
        }
    free(crop);
    return 0;
}
