/* Blur family: defocus, glass, motion and zoom blur, plus the extra
 * gaussian_blur.
 *
 * Parameter tables: index 0 is ImageNet-C (hendrycks make_imagenet_c.py,
 * also what imagecorruptions uses for any size), index 1 CIFAR-10-C
 * (make_cifar_c.py). SA_PARAMS_ANY takes the ImageNet values with
 * imagecorruptions' size-generic rules: loops over the real H and W (glass),
 * per-axis crop with the top-left window kept (zoom) and the float motion
 * blur with its early stop at the image border (motion).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "filters.h"
#include "internal.h"
#include "simd.h"

static int tab(sa_corrupt_params table)
{
    return table == SA_PARAMS_CIFAR;
}

static int nomem(sa_error *err, const char *where)
{
    return sa_error_set(err, SA_ENOMEM, "corrupt", "out of memory (%s)", where);
}

/* v / 255 for every 8-bit level (the same doubles as the division). */
static void unit_table(double t[256])
{
    for (int v = 0; v < 256; v++)
        t[v] = v / 255.0;
}

/* ---- defocus_blur ------------------------------------------------------------ */

static const double defocus_params[2][5][2] = {
    {{3, 0.1}, {4, 0.5}, {6, 0.5}, {8, 0.5}, {10, 0.5}},
    {{0.3, 0.4}, {0.4, 0.5}, {0.5, 0.6}, {1, 0.2}, {1.5, 0.1}},
};

int sa__defocus_blur(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err)
{
    (void)opt;
    (void)rng;
    const double *p = defocus_params[tab(table)][severity - 1];
    int half;
    int rc = sa__disk_kernel(NULL, &half, p[0], p[1], err);
    if (rc < 0)
        return rc;
    const int kn = 2 * half + 1;
    const size_t kk = (size_t)kn * (size_t)kn;
    float *kf = malloc(kk * sizeof *kf);
    double *kd = malloc(kk * sizeof *kd);
    if (!kf || !kd) {
        rc = nomem(err, "defocus_blur");
        goto done;
    }
    if ((rc = sa__disk_kernel(kf, &half, p[0], p[1], err)) < 0)
        goto done;
    /* The float32 kernel enters OpenCV's filter2D on a float64 image as
     * float64 values. OpenCV correlates kernels of 50+ taps through a DFT,
     * so its last bits follow no fixed summation order; the sum here agrees
     * with the exact value to about 1e-13 of a grey level, which only
     * matters where that value sits on an integer level (never in flat
     * regions: the kernel sums differ from 1 by 1e-9 or more). */
    for (size_t i = 0; i < kk; i++)
        kd[i] = (double)kf[i];
    rc = sa__correlate2d_u8(out->data, in->data, in->h, in->w, in->c, kd, half, half, err);
done:
    free(kf);
    free(kd);
    return rc;
}

/* ---- glass_blur ---------------------------------------------------------------- */

typedef struct glass_p {
    double sigma;
    int delta, iterations;
} glass_p;

static const glass_p glass_params[2][5] = {
    {{0.7, 1, 2}, {0.9, 2, 1}, {1, 2, 3}, {1.1, 3, 2}, {1.5, 4, 2}},
    {{0.05, 1, 1}, {0.25, 1, 1}, {0.4, 1, 1}, {0.25, 1, 2}, {0.4, 1, 2}},
};

int sa__glass_blur(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err)
{
    (void)opt;
    const glass_p p = glass_params[tab(table)][severity - 1];
    const int h = in->h, w = in->w, c = in->c, d = p.delta;
    int rc = 0;
    /* np.uint8(gaussian(x / 255.) * 255): truncation. The blur of values in
     * [0, 1] stays in [0, 1] up to rounding, so only 255 needs a guard. */
    uint8_t *u = out->data;
    if ((rc = sa__gaussian_filter_u8(u, in->data, h, w, c, p.sigma, 4.0, SA__BORDER_NEAREST,
                                     err)) < 0)
        return rc;
    /* Local shuffle, in place and in the reference's order: rows from H - d
     * down to d + 1, columns from W - d down to d + 1, two integers in
     * [-d, d) each (dx first). The reference writes a swap, but numpy's
     * row views alias, so only the copy of the source pixel into (h, w)
     * takes effect. Sequential: later copies read earlier results. */
    const int span = w - 2 * d; /* pixels per row, each drawing (dx, dy) */
    int *draws = span > 0 ? malloc(2 * (size_t)span * sizeof *draws) : NULL;
    if (span > 0 && !draws)
        return nomem(err, "glass_blur");
    for (int it = 0; it < p.iterations; it++)
        for (int yy = h - d; yy > d; yy--) {
            sa__randint_fill(rng, draws, 2 * (size_t)span, -d, d);
            const int *dd = draws;
            uint8_t *row = u + (size_t)yy * w * c;
            if (c == 3)
                for (int xx = w - d; xx > d; xx--, dd += 2) {
                    const uint8_t *s = row + ((ptrdiff_t)dd[1] * w + (xx + dd[0])) * 3;
                    uint8_t *t = row + (size_t)xx * 3;
                    t[0] = s[0];
                    t[1] = s[1];
                    t[2] = s[2];
                }
            else
                for (int xx = w - d; xx > d; xx--, dd += 2) {
                    const uint8_t *s = row + ((ptrdiff_t)dd[1] * w + (xx + dd[0])) * c;
                    uint8_t *t = row + (size_t)xx * c;
                    for (int k = 0; k < c; k++)
                        t[k] = s[k];
                }
        }
    free(draws);
    /* np.clip(gaussian(x / 255.), 0, 1) * 255, stored as uint8 */
    return sa__gaussian_filter_u8(u, u, h, w, c, p.sigma, 4.0, SA__BORDER_NEAREST, err);
}

/* ---- motion_blur ----------------------------------------------------------------- */

static const double motion_params[2][5][2] = {
    {{10, 3}, {15, 5}, {15, 8}, {15, 12}, {20, 15}},
    {{6, 1}, {6, 1.5}, {6, 2}, {8, 2}, {9, 2.5}},
};

int sa__motion_blur(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err)
{
    (void)opt;
    const double *p = motion_params[tab(table)][severity - 1];
    const double angle = sa_rng_uniform(rng, -45.0, 45.0);
    if (table == SA_PARAMS_ANY)
        return sa__motion_blur_u8_float(out->data, in->data, in->h, in->w, in->c, p[0], p[1],
                                        angle, err);
    return sa__motion_blur_u8(out->data, in->data, in->h, in->w, in->c, p[0], p[1], angle, err);
}

/* ---- zoom_blur ------------------------------------------------------------------- */

/* np.arange(1, stop, step): `count` factors 1 + i * ((1 + step) - 1). */
typedef struct zoom_p {
    double step;
    int count;
} zoom_p;

static const zoom_p zoom_params[2][5] = {
    {{0.01, 12}, {0.01, 16}, {0.02, 11}, {0.02, 13}, {0.03, 11}},
    {{0.01, 7}, {0.01, 12}, {0.01, 16}, {0.01, 21}, {0.01, 26}},
};

/* out = uint8(clip((x + acc) / div, 0, 1) * 255), all in float32 */
SA_CLONES
static void zoom_finish(uint8_t *out, const float *x, const float *acc, float div, size_t n)
{
    size_t i = 0;
#ifdef SA_VEC
    const v8f d8 = SPLAT8F(div), zero = SPLAT8F(0.0f), one = SPLAT8F(1.0f);
    for (; i + 8 <= n; i += 8) {
        v8f v = (LD8F(x + i) + LD8F(acc + i)) / d8;
        v = SEL8F(v < zero, zero, v);
        v = SEL8F(v > one, one, v);
        v *= SPLAT8F(255.0f);
        v8b b = __builtin_convertvector(__builtin_convertvector(v, v8i), v8b);
        memcpy(out + i, &b, sizeof b);
    }
#endif
    for (; i < n; i++) {
        float v = (x[i] + acc[i]) / div;
        v = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
        v *= 255.0f;
        out[i] = (uint8_t)v;
    }
}

int sa__zoom_blur(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err)
{
    (void)opt;
    (void)rng;
    const zoom_p p = zoom_params[tab(table)][severity - 1];
    const sa__zoom_trim trim =
        table == SA_PARAMS_ANY ? SA__ZOOM_TRIM_TOPLEFT : SA__ZOOM_TRIM_CENTRED;
    const size_t n = sa_image_size(in);
    int rc = 0;
    float *x = malloc(n * sizeof *x);
    double *xd = malloc(n * sizeof *xd);
    float *acc = malloc(n * sizeof *acc);
    if (!x || !xd || !acc) {
        rc = nomem(err, "zoom_blur");
        goto done;
    }
    /* (x / 255.).astype(float32); all arithmetic below is float32 (the
     * zoom reads the same values widened to float64) */
    {
        double t[256];
        unit_table(t);
        for (size_t i = 0; i < n; i++) {
            x[i] = (float)t[in->data[i]];
            xd[i] = (double)x[i];
        }
    }
    const double delta = (1.0 + p.step) - 1.0;
    for (int i = 0; i < p.count; i++) {
        double z = 1.0 + (double)i * delta;
        /* z = 1 is an exact copy (weights 1 and 0 at integral coordinates),
         * and 0 + x == x for the non-negative x */
        if (i == 0)
            memcpy(acc, x, n * sizeof *acc);
        else if ((rc = sa__clipped_zoom_add_f32_wide(acc, xd, in->h, in->w, in->c, z, trim,
                                                     err)) < 0)
            goto done;
    }
    zoom_finish(out->data, x, acc, (float)(p.count + 1), n);
done:
    free(x);
    free(xd);
    free(acc);
    return rc;
}

/* ---- gaussian_blur --------------------------------------------------------------- */

static const double gaussian_blur_sigma[2][5] = {
    {1, 2, 3, 4, 6},
    {0.4, 0.6, 0.7, 0.8, 1},
};

int sa__gaussian_blur(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err)
{
    (void)opt;
    (void)rng;
    const double sigma = gaussian_blur_sigma[tab(table)][severity - 1];
    /* np.uint8(np.clip(gaussian(x / 255.), 0, 1) * 255) */
    return sa__gaussian_filter_u8(out->data, in->data, in->h, in->w, in->c, sigma, 4.0,
                                  SA__BORDER_NEAREST, err);
}
