/* Extra corruptions: speckle_noise and spatter (gaussian_blur and saturate
 * live with their families' building blocks).
 *
 * Spatter's water mode runs a small 8-bit image-processing pipeline on the
 * liquid layer: Canny edges, a 5x5 chamfer distance transform, a clipped box
 * mean, histogram equalisation, an emboss filter and another box mean. Each
 * step is written here with the integer arithmetic of the library the
 * reference calls, so the 8-bit intermediates agree exactly.
 *
 * One-channel images follow imagecorruptions' grey branches: the spatter
 * colour term is reduced with the grey weights 0.2989, 0.5870, 0.1140
 * before it is added.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "filters.h"
#include "internal.h"

/* -------------------------------------------------------- speckle_noise */

static const double speckle_c[2][5] = {
    {0.15, 0.2, 0.35, 0.45, 0.6},
    {0.06, 0.1, 0.12, 0.16, 0.2},
};

/* sa__to_u8(x + x g) with an integer clamp, free of branches (bright
 * pixels clip at random, which a branch would mispredict): truncation
 * towards zero sends (-1/255, 0] to 0 as the clip does, and the product
 * stays far inside int64 since |g| < 15 c, c <= 0.6. */
static inline uint8_t speckle_u8(double x, double g)
{
    int64_t t = (int64_t)((x + x * g) * 255.0);
    t = t < 0 ? 0 : t;
    t = t > 255 ? 255 : t;
    return (uint8_t)t;
}

/* Fast kind: the normal draw fused into the pixel loop, 256 elements at a
 * time; the 1.5 % of words the ziggurat cannot settle alone are finished
 * after each block and their pixels recomputed. trunc(clip(x + x c z) 255)
 * for x = v / 255 is computed as clamp(trunc(a + b z)) with a = 255 x and
 * b = 255 x c per value (the same law: the two differ only by rounding,
 * about 1e-16 of a level), the clamp by a table over the reachable range:
 * |z| < 13.8 (the ziggurat's tail ends at r - log(2^-53) / r), so
 * |b z| < 255 * 0.6 * 13.8 < 2112. */
static void speckle_fast(uint8_t *dst, const uint8_t *src, size_t n, double c, sa_rng *rng)
{
    enum { BELOW = 2176, SPAN = 2176 + 256 + 2176 };
    SA_ASSERT(c > 0.0 && c <= 0.6);
    double a[256], b[256];
    for (int v = 0; v < 256; v++) {
        const double x = v / 255.0;
        a[v] = x * 255.0;
        b[v] = x * c * 255.0;
    }
    uint8_t clamp[SPAN];
    for (int k = 0; k < SPAN; k++)
        clamp[k] = (uint8_t)(k < BELOW ? 0 : (k >= BELOW + 255 ? 255 : k - BELOW));
    const uint8_t *cl = clamp + BELOW;
    uint64_t rej_w[256];
    uint16_t rej_i[256];
    sa_rng_stream st = sa_rng_stream_take(rng);
    for (size_t i0 = 0; i0 < n; i0 += 256) {
        const size_t m = n - i0 < 256 ? n - i0 : 256;
        size_t nrej = 0;
        sa_rng_stream x = st;
        for (size_t i = 0; i < m; i++) {
            const uint64_t w = sa_rng_stream_next(&x);
            int ok;
            const double z = sa_rng_zig_first(w, &ok);
            const uint8_t v = src[i0 + i];
            dst[i0 + i] = cl[(int32_t)(a[v] + b[v] * z)];
            rej_w[nrej] = w;
            rej_i[nrej] = (uint16_t)i;
            nrej += !ok;
        }
        st = x;
        for (size_t j = 0; j < nrej; j++) {
            const size_t i = i0 + rej_i[j];
            const double z = sa_rng_zig_finish(&st, rej_w[j]);
            dst[i] = cl[(int32_t)(a[src[i]] + b[src[i]] * z)];
        }
    }
    sa_rng_stream_give(rng, &st);
}

int sa__speckle_noise(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err)
{
    (void)opt;
    (void)err;
    const double c = speckle_c[table == SA_PARAMS_CIFAR][severity - 1];
    const size_t n = sa_image_size(in);
    double unit[256]; /* i / 255, exactly as the per-element division */
    for (int i = 0; i < 256; i++)
        unit[i] = i / 255.0;
    const uint8_t *src = in->data;
    uint8_t *dst = out->data;
    if (rng->kind == SA_RNG_FAST) {
        speckle_fast(dst, src, n, c, rng);
        return 0;
    }
    double g[256];
    for (size_t i0 = 0; i0 < n; i0 += 256) {
        const size_t m = n - i0 < 256 ? n - i0 : 256;
        sa_rng_fill_normal(rng, g, m, 0.0, c); /* the values of a draw per element */
        for (size_t i = 0; i < m; i++)
            dst[i0 + i] = speckle_u8(unit[src[i0 + i]], g[i]);
    }
    return 0;
}

/* -------------------------------------------------------------- spatter */

typedef struct spatter_param {
    double mu, sigma, sigma_b, thr, k;
    int mode; /* 0 water, 1 mud */
} spatter_param;

static const spatter_param spatter_p[2][5] = {
    {{0.65, 0.3, 4, 0.69, 0.6, 0}, {0.65, 0.3, 3, 0.68, 0.6, 0}, {0.65, 0.3, 2, 0.68, 0.5, 0},
     {0.65, 0.3, 1, 0.65, 1.5, 1}, {0.67, 0.4, 1, 0.65, 1.5, 1}},
    {{0.62, 0.1, 0.7, 0.7, 0.5, 0}, {0.65, 0.1, 0.8, 0.7, 0.5, 0}, {0.65, 0.3, 1, 0.69, 0.5, 0},
     {0.65, 0.1, 0.7, 0.69, 0.6, 1}, {0.65, 0.1, 0.5, 0.68, 0.6, 1}},
};

static inline int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* reflect-101 index for offsets of at most one pixel (n >= 1). */
static inline int r101(int i, int n)
{
    if (n == 1)
        return 0;
    if (i < 0)
        return -i;
    if (i >= n)
        return 2 * n - 2 - i;
    return i;
}

/* Scratch of canny(): zero-padded magnitude, Sobel derivatives, padded
 * edge map and the hysteresis stack. */
typedef struct canny_buf {
    int *mag;      /* (h+2) x (w+2) */
    int16_t *dx;   /* h x w */
    int16_t *dy;   /* h x w */
    uint8_t *map;  /* (h+2) x (w+2): 0 weak candidate, 1 none, 2 edge */
    int *stack;    /* (h+2) x (w+2) */
} canny_buf;

static void canny_buf_free(canny_buf *b)
{
    free(b->mag);
    free(b->dx);
    free(b->dy);
    free(b->map);
    free(b->stack);
}

static int canny_buf_init(canny_buf *b, int h, int w)
{
    const size_t pad = (size_t)(h + 2) * (size_t)(w + 2), n = (size_t)h * w;
    b->mag = malloc(sizeof(int) * pad);
    b->dx = malloc(sizeof(int16_t) * n);
    b->dy = malloc(sizeof(int16_t) * n);
    b->map = malloc(pad);
    b->stack = malloc(sizeof(int) * pad);
    /* On failure the caller still releases it with canny_buf_free. */
    return b->mag && b->dx && b->dy && b->map && b->stack ? 0 : -1;
}

/* Canny edge map of an 8-bit image (3x3 Sobel with replicated border, L1
 * magnitude, 4-direction non-maximum suppression with OpenCV's tie rules,
 * hysteresis with 8-connectivity): 255 on edges, 0 elsewhere. */
static void canny(uint8_t *edges, const uint8_t *src, int h, int w, int low, int high,
                  const canny_buf *buf)
{
    const int mw = w + 2;
    int *mag = buf->mag, *stack = buf->stack;
    int16_t *dx = buf->dx, *dy = buf->dy;
    uint8_t *map = buf->map;

    memset(mag, 0, sizeof(int) * (size_t)(h + 2) * mw);
    for (int y = 0; y < h; y++) {
        const uint8_t *r0 = src + (size_t)clampi(y - 1, 0, h - 1) * w;
        const uint8_t *r1 = src + (size_t)y * w;
        const uint8_t *r2 = src + (size_t)clampi(y + 1, 0, h - 1) * w;
        for (int x = 0; x < w; x++) {
            int xl = clampi(x - 1, 0, w - 1), xr = clampi(x + 1, 0, w - 1);
            int gx = (r0[xr] - r0[xl]) + 2 * (r1[xr] - r1[xl]) + (r2[xr] - r2[xl]);
            int gy = (r2[xl] + 2 * r2[x] + r2[xr]) - (r0[xl] + 2 * r0[x] + r0[xr]);
            dx[(size_t)y * w + x] = (int16_t)gx;
            dy[(size_t)y * w + x] = (int16_t)gy;
            mag[(size_t)(y + 1) * mw + x + 1] = abs(gx) + abs(gy);
        }
    }
    memset(map, 1, (size_t)(h + 2) * mw);
    size_t sp = 0;
    const int TG22 = 13573; /* tan(22.5 deg) * 2^15 */
    for (int y = 0; y < h; y++) {
        const int *mp = mag + (size_t)(y + 1) * mw + 1;
        const int *mprev = mp - mw, *mnext = mp + mw;
        uint8_t *mr = map + (size_t)(y + 1) * mw + 1;
        for (int x = 0; x < w; x++) {
            int m = mp[x];
            if (m <= low)
                continue;
            int xs = dx[(size_t)y * w + x], ys = dy[(size_t)y * w + x];
            long ax = abs(xs), ay = (long)abs(ys) << 15;
            long tg22x = ax * TG22;
            int keep;
            if (ay < tg22x) {
                keep = m > mp[x - 1] && m >= mp[x + 1];
            } else {
                long tg67x = tg22x + (ax << 16);
                if (ay > tg67x) {
                    keep = m > mprev[x] && m >= mnext[x];
                } else {
                    int s = (xs ^ ys) < 0 ? -1 : 1;
                    keep = m > mprev[x - s] && m > mnext[x + s];
                }
            }
            if (!keep)
                continue;
            if (m > high) {
                mr[x] = 2;
                stack[sp++] = (y + 1) * mw + x + 1;
            } else {
                mr[x] = 0;
            }
        }
    }
    /* Hysteresis: grow edges into weak candidates, 8-connected. */
    while (sp > 0) {
        int p = stack[--sp];
        const int nb[8] = {-mw - 1, -mw, -mw + 1, -1, 1, mw - 1, mw, mw + 1};
        for (int q = 0; q < 8; q++) {
            int r = p + nb[q];
            if (map[r] == 0) {
                map[r] = 2;
                stack[sp++] = r;
            }
        }
    }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            edges[(size_t)y * w + x] = map[(size_t)(y + 1) * mw + x + 1] == 2 ? 255 : 0;
}

/* OpenCV distanceTransform(DIST_L2, mask 5) of the non-zero pixels of src:
 * two-pass 5x5 chamfer in 16.16 fixed point with steps 1, 1.4, 2.1969;
 * pixels beyond the border are never zeros. tmp: (h+4)*(w+4) uints. */
static void distance_5x5(float *dist, const uint8_t *src, int h, int w, unsigned *tmp)
{
    const int B = 2, st = w + 4;
    const unsigned HV = (unsigned)lrint(1.0f * 65536.0), DG = (unsigned)lrint(1.4f * 65536.0),
                   LG = (unsigned)lrint(2.1969f * 65536.0);
    const unsigned INIT = INT_MAX, DMAX = INT_MAX >> 2;
    const float scale = 1.f / 65536.f;
    for (int i = 0; i < (h + 4) * st; i++)
        tmp[i] = INIT;
    for (int i = 0; i < h; i++) {
        const uint8_t *s = src + (size_t)i * w;
        unsigned *t = tmp + (size_t)(i + B) * st + B;
        for (int j = 0; j < w; j++) {
            if (!s[j]) {
                t[j] = 0;
                continue;
            }
            unsigned t0 = t[j - 2 * st - 1] + LG, v;
            v = t[j - 2 * st + 1] + LG; if (t0 > v) t0 = v;
            v = t[j - st - 2] + LG; if (t0 > v) t0 = v;
            v = t[j - st - 1] + DG; if (t0 > v) t0 = v;
            v = t[j - st] + HV; if (t0 > v) t0 = v;
            v = t[j - st + 1] + DG; if (t0 > v) t0 = v;
            v = t[j - st + 2] + LG; if (t0 > v) t0 = v;
            v = t[j - 1] + HV; if (t0 > v) t0 = v;
            t[j] = t0;
        }
    }
    for (int i = h - 1; i >= 0; i--) {
        float *d = dist + (size_t)i * w;
        unsigned *t = tmp + (size_t)(i + B) * st + B;
        for (int j = w - 1; j >= 0; j--) {
            unsigned t0 = t[j], v;
            if (t0 > HV) {
                v = t[j + 2 * st + 1] + LG; if (t0 > v) t0 = v;
                v = t[j + 2 * st - 1] + LG; if (t0 > v) t0 = v;
                v = t[j + st + 2] + LG; if (t0 > v) t0 = v;
                v = t[j + st + 1] + DG; if (t0 > v) t0 = v;
                v = t[j + st] + HV; if (t0 > v) t0 = v;
                v = t[j + st - 1] + DG; if (t0 > v) t0 = v;
                v = t[j + st - 2] + LG; if (t0 > v) t0 = v;
                v = t[j + 1] + HV; if (t0 > v) t0 = v;
                t[j] = t0;
            }
            if (t0 > DMAX)
                t0 = DMAX;
            d[j] = (float)(int)t0 * scale; /* t0 <= INT_MAX / 4 */
        }
    }
}

/* OpenCV equalizeHist, in place. */
static void equalize_hist(uint8_t *a, size_t n)
{
    int hist[256] = {0};
    for (size_t i = 0; i < n; i++)
        hist[a[i]]++;
    int i0 = 0;
    while (!hist[i0])
        ++i0;
    if (hist[i0] == (int)n)
        return;
    uint8_t lut[256];
    float scale = (255.f) / (float)(n - (size_t)hist[i0]);
    int sum = 0;
    for (int i = 0; i < 256; i++)
        lut[i] = 0;
    for (int i = i0 + 1; i < 256; i++) {
        sum += hist[i];
        int v = (int)lrintf((float)sum * scale);
        lut[i] = (uint8_t)(v < 0 ? 0 : (v > 255 ? 255 : v));
    }
    for (size_t i = 0; i < n; i++)
        a[i] = lut[a[i]];
}

/* The water texture m (h*w floats, before normalisation) from L8. */
static int water(float *m, const uint8_t *l8, int h, int w, sa_error *err)
{
    const size_t n = (size_t)h * w;
    canny_buf cb = {0};
    int cb_ok = canny_buf_init(&cb, h, w) == 0;
    unsigned *tmp = malloc(sizeof(unsigned) * (size_t)(h + 4) * (w + 4));
    float *dist = malloc(sizeof(float) * n);
    uint8_t *a = malloc(n), *b = malloc(n);
    int *xl = malloc(sizeof(int) * 2 * (size_t)w), *xr = xl ? xl + w : NULL;
    int rc = 0;
    if (!cb_ok || !tmp || !dist || !a || !b || !xl) {
        rc = sa_error_set(err, SA_ENOMEM, "corrupt", "out of memory (spatter %dx%d)", w, h);
        goto done;
    }
    canny(a, l8, h, w, 50, 150, &cb);
    for (size_t i = 0; i < n; i++)
        a[i] = (uint8_t)(255 - a[i]);
    distance_5x5(dist, a, h, w, tmp);
    for (size_t i = 0; i < n; i++)
        if (dist[i] > 20.f)
            dist[i] = 20.f;
    for (int x = 0; x < w; x++) {
        xl[x] = r101(x - 1, w);
        xr[x] = r101(x + 1, w);
    }
    /* 3x3 box mean, reflect-101, sums in double (exact: multiples of
     * 2^-16 up to 20); then truncated to uint8. */
    for (int y = 0; y < h; y++) {
        const float *r0 = dist + (size_t)r101(y - 1, h) * w, *r1 = dist + (size_t)y * w,
                    *r2 = dist + (size_t)r101(y + 1, h) * w;
        uint8_t *o = a + (size_t)y * w;
        for (int x = 0; x < w; x++) {
            const int l = xl[x], r = xr[x];
            double s = ((double)r0[l] + r0[x] + r0[r]) + ((double)r1[l] + r1[x] + r1[r]) +
                       ((double)r2[l] + r2[x] + r2[r]);
            float v = (float)(s * (1.0 / 9.0));
            o[x] = (uint8_t)(int)v;
        }
    }
    equalize_hist(a, n);
    /* Emboss [[-2,-1,0],[-1,1,1],[0,1,2]], reflect-101, saturated. */
    for (int y = 0; y < h; y++) {
        const uint8_t *r0 = a + (size_t)r101(y - 1, h) * w, *r1 = a + (size_t)y * w,
                      *r2 = a + (size_t)r101(y + 1, h) * w;
        uint8_t *o = b + (size_t)y * w;
        for (int x = 0; x < w; x++) {
            const int l = xl[x], r = xr[x];
            int v = -2 * r0[l] - r0[x] - r1[l] + r1[x] + r1[r] + r2[x] + 2 * r2[r];
            o[x] = (uint8_t)clampi(v, 0, 255);
        }
    }
    /* 3x3 box mean of uint8, rounded as OpenCV's fixed-point division by 9
     * ((s + 4) * 932068 >> 23), times L8. */
    for (int y = 0; y < h; y++) {
        const uint8_t *r0 = b + (size_t)r101(y - 1, h) * w, *r1 = b + (size_t)y * w,
                      *r2 = b + (size_t)r101(y + 1, h) * w;
        const uint8_t *lr = l8 + (size_t)y * w;
        float *o = m + (size_t)y * w;
        for (int x = 0; x < w; x++) {
            const int l = xl[x], r = xr[x];
            int s = r0[l] + r0[x] + r0[r] + r1[l] + r1[x] + r1[r] + r2[l] + r2[x] + r2[r];
            int v = (int)(((int64_t)(s + 4) * 932068) >> 23);
            o[x] = (float)lr[x] * (float)v;
        }
    }
done:
    canny_buf_free(&cb);
    free(tmp);
    free(dist);
    free(a);
    free(b);
    free(xl);
    return rc;
}

int sa__spatter(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err)
{
    (void)opt;
    const spatter_param *p = &spatter_p[table == SA_PARAMS_CIFAR][severity - 1];
    const int H = in->h, W = in->w, C = in->c;
    const size_t n = (size_t)H * W;
    double *liq = calloc(n ? n : 1, sizeof(double));
    float *m = malloc(sizeof(float) * n);
    uint8_t *l8 = malloc(n);
    int rc = 0;
    if (!liq || !m || !l8) {
        rc = sa_error_set(err, SA_ENOMEM, "corrupt", "out of memory (spatter %dx%d)", W, H);
        goto done;
    }
    sa_rng_fill_normal(rng, liq, n, p->mu, p->sigma);
    rc = sa__gaussian_filter_f64(liq, liq, H, W, 1, p->sigma_b, 4.0, SA__BORDER_NEAREST, err);
    if (rc < 0)
        goto done;
    for (size_t i = 0; i < n; i++)
        if (liq[i] < p->thr)
            liq[i] = 0.0;
    if (p->mode == 0) {
        /* uint8 cast: truncation, wrapping modulo 256 above 255. */
        for (size_t i = 0; i < n; i++)
            l8[i] = (uint8_t)(int64_t)(liq[i] * 255.0);
        rc = water(m, l8, H, W, err);
        if (rc < 0)
            goto done;
        float mx = m[0];
        for (size_t i = 1; i < n; i++)
            if (m[i] > mx)
                mx = m[i];
        const float kf = (float)p->k;
        const float col[3] = {(float)(175 / 255.), (float)(238 / 255.), (float)(238 / 255.)};
        float unit[256]; /* float32 i / 255, as the per-element division */
        for (int i = 0; i < 256; i++)
            unit[i] = (float)i / 255.f;
        for (size_t q = 0; q < n; q++) {
            float mv = (m[q] / mx) * kf; /* 0/0 gives NaN, which truncates to 0 */
            if (C == 3) {
                for (int k = 0; k < 3; k++) {
                    float v = unit[in->data[3 * q + k]] + mv * col[k];
                    v = v < 0.f ? 0.f : (v > 1.f ? 1.f : v);
                    float o = v * 255.f;
                    out->data[3 * q + k] = o >= 0.f ? (uint8_t)o : 0;
                }
            } else {
                /* imagecorruptions: grey of the clipped colour term. */
                double add = 0.0;
                for (int k = 0; k < 3; k++) {
                    float t = mv * col[k];
                    t = t < 0.f ? 0.f : (t > 1.f ? 1.f : t);
                    add += (k == 0 ? 0.2989 : (k == 1 ? 0.5870 : 0.1140)) * t;
                }
                double v = (double)((float)in->data[q] / 255.f) + add;
                out->data[q] = sa__to_u8(v);
            }
        }
    } else {
        for (size_t i = 0; i < n; i++)
            m[i] = liq[i] > p->thr ? 1.f : 0.f;
        rc = sa__gaussian_filter_f32(m, m, H, W, 1, p->k, 4.0, SA__BORDER_NEAREST, err);
        if (rc < 0)
            goto done;
        const double cold[3] = {63 / 255., 42 / 255., 20 / 255.};
        const int f64 = table == SA_PARAMS_ANY; /* imagecorruptions builds the colour in float64 */
        for (size_t q = 0; q < n; q++) {
            float mv = m[q] < 0.8f ? 0.f : m[q];
            float keep = 1.f - mv;
            if (C == 3) {
                for (int k = 0; k < 3; k++) {
                    float x = ((float)in->data[3 * q + k] / 255.f) * keep;
                    if (f64) {
                        out->data[3 * q + k] = sa__to_u8((double)x + cold[k] * (double)mv);
                    } else {
                        float v = x + (float)cold[k] * mv;
                        v = v < 0.f ? 0.f : (v > 1.f ? 1.f : v);
                        out->data[3 * q + k] = (uint8_t)(v * 255.f);
                    }
                }
            } else {
                float x = ((float)in->data[q] / 255.f) * keep;
                double g = 0.0;
                for (int k = 0; k < 3; k++)
                    g += (k == 0 ? 0.2989 : (k == 1 ? 0.5870 : 0.1140)) * (cold[k] * (double)mv);
                out->data[q] = sa__to_u8((double)x + g);
            }
        }
    }
done:
    free(liq);
    free(m);
    free(l8);
    return rc;
}
