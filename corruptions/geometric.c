/* Digital family, geometric part: elastic_transform and pixelate. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "filters.h"
#include "internal.h"

/* ---- parameter tables ---------------------------------------------------- */

/* pixelate: downscale factor c, n = int(N * c). [IN, C10][severity]. */
static const double pixelate_c[2][5] = {
    {0.6, 0.5, 0.4, 0.3, 0.25},
    {0.95, 0.9, 0.85, 0.75, 0.65},
};

/* elastic_transform (hendrycks): (alpha, sigma, affine jitter), written as
 * the scripts compute them (244 * ... for ImageNet, 32 * ... for CIFAR). */
static const double elastic_hendrycks[2][5][3] = {
    {
        {244 * 2, 244 * 0.7, 244 * 0.1},
        {244 * 2, 244 * 0.08, 244 * 0.2},
        {244 * 0.05, 244 * 0.01, 244 * 0.02},
        {244 * 0.07, 244 * 0.01, 244 * 0.02},
        {244 * 0.12, 244 * 0.01, 244 * 0.02},
    },
    {
        {32 * 0, 32 * 0, 32 * 0.08},
        {32 * 0.05, 32 * 0.2, 32 * 0.07},
        {32 * 0.08, 32 * 0.06, 32 * 0.06},
        {32 * 0.1, 32 * 0.04, 32 * 0.05},
        {32 * 0.1, 32 * 0.03, 32 * 0.03},
    },
};

/* elastic_transform (imagecorruptions, any size): alpha per severity;
 * sigma = 0.01 * (H, W); uniforms in [-0.005 H, 0.005 H). */
static const double elastic_any_alpha[5] = {250 * 0.05, 250 * 0.065, 250 * 0.085, 250 * 0.1,
                                            250 * 0.12};

/* ---- helpers --------------------------------------------------------------- */

/* Vectorise a loop whose iterations are independent (each output keeps its
 * own operation order, so results are unchanged). */
#ifdef _OPENMP
#define SIMD _Pragma("omp simd")
#else
#define SIMD
#endif

/* numpy's pairwise summation (float64 add.reduce). */
static double pairwise_sum(const double *a, size_t n)
{
    if (n < 8) {
        double r = 0.0;
        for (size_t i = 0; i < n; i++)
            r += a[i];
        return r;
    }
    if (n <= 128) {
        double r[8];
        size_t i;
        for (int j = 0; j < 8; j++)
            r[j] = a[j];
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++)
                r[j] += a[i + j];
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++)
            res += a[i];
        return res;
    }
    size_t n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
}

/* scipy.ndimage.gaussian_filter1d weights: exp(-0.5 / sigma^2 * j^2),
 * j = -r..r, divided by their (pairwise) sum. Returns r, or -1 when out of
 * memory; *w holds 2r+1 weights. */
static int gaussian_weights(double sigma, double truncate, double **w)
{
    int r = (int)(truncate * sigma + 0.5);
    double *k = malloc(sizeof *k * (size_t)(2 * r + 1));
    if (!k)
        return -1;
    double s2 = sigma * sigma;
    for (int j = -r; j <= r; j++)
        k[j + r] = exp(-0.5 / s2 * (double)(j * j));
    double sum = pairwise_sum(k, (size_t)(2 * r + 1));
    for (int j = 0; j <= 2 * r; j++)
        k[j] /= sum;
    *w = k;
    return r;
}

/* One row of scipy's correlate1d with a symmetric kernel, border reflect:
 * out = x[0] w[0] + sum_{j=r..1} (x[-j] + x[j]) w[j], in that order for
 * every value (the loops run over j outside and the outputs inside, which
 * keeps each value's operation order). `buf` has room for 2n + 2r. */
static void gaussian_row(double *line, int n, const double *w, int r, double *buf)
{
    double *ext = buf + r, *restrict acc = buf + n + 2 * r;
    for (int i = -r; i < n + r; i++)
        ext[i] = line[sa__border_index(i, n, SA__BORDER_REFLECT)];
    const double *c = w + r;
    SIMD for (int i = 0; i < n; i++)
        acc[i] = ext[i] * c[0];
    for (int j = r; j >= 1; j--) {
        const double cj = c[-j];
        const double *restrict lo = ext - j, *restrict hi = ext + j;
        SIMD for (int i = 0; i < n; i++)
            acc[i] += (lo[i] + hi[i]) * cj;
    }
    memcpy(line, acc, sizeof *line * (size_t)n);
}

/* In-place Gaussian filter of an h x w float64 field (rows axis first, as
 * scipy iterates axes), border reflect. sigma_y/sigma_x <= 1e-15 skip. */
static int gaussian_field(double *f, int h, int w, double sigma_y, double sigma_x,
                          double truncate, sa_error *err)
{
    for (int axis = 0; axis < 2; axis++) {
        double sigma = axis == 0 ? sigma_y : sigma_x;
        if (!(sigma > 1e-15))
            continue;
        double *k = NULL;
        int r = gaussian_weights(sigma, truncate, &k);
        /* axis 0 needs a copy of the field; axis 1 a padded row and sums */
        size_t len = axis == 0 ? (size_t)h * w : (size_t)(2 * w + 2 * r);
        double *buf = r >= 0 ? malloc(sizeof *buf * len) : NULL;
        if (!buf) {
            free(k);
            return sa_error_set(err, SA_ENOMEM, "corrupt", "out of memory (elastic_transform)");
        }
        if (axis == 0) {
            /* Whole rows at a time (contiguous), same per-value order as
             * gaussian_row: centre term, then the pairs from j = r to 1. */
            memcpy(buf, f, sizeof *buf * len);
            const double *c = k + r;
            for (int y = 0; y < h; y++) {
                double *restrict dst = f + (size_t)y * w;
                const double *restrict ctr = buf + (size_t)y * w;
                SIMD for (int x = 0; x < w; x++)
                    dst[x] = ctr[x] * c[0];
                for (int j = r; j >= 1; j--) {
                    const double *restrict a = buf + (size_t)sa__border_index(y - j, h, SA__BORDER_REFLECT) * w;
                    const double *restrict b = buf + (size_t)sa__border_index(y + j, h, SA__BORDER_REFLECT) * w;
                    const double cj = c[-j];
                    SIMD for (int x = 0; x < w; x++)
                        dst[x] += (a[x] + b[x]) * cj;
                }
            }
        } else {
            for (int y = 0; y < h; y++)
                gaussian_row(f + (size_t)y * w, w, k, r, buf);
        }
        free(buf);
        free(k);
    }
    return 0;
}

/* OpenCV getAffineTransform: the 6x6 system solved by LU with partial
 * pivoting (cv::solve, DECOMP_LU), in double from float32 points. */
static void affine_from_points(double m[6], const float src[3][2], const float dst[3][2])
{
    double a[36], b[6];
    for (int i = 0; i < 3; i++) {
        int j = i * 12, k = i * 12 + 6;
        a[j] = a[k + 3] = src[i][0];
        a[j + 1] = a[k + 4] = src[i][1];
        a[j + 2] = a[k + 5] = 1;
        a[j + 3] = a[j + 4] = a[j + 5] = 0;
        a[k] = a[k + 1] = a[k + 2] = 0;
        b[i * 2] = dst[i][0];
        b[i * 2 + 1] = dst[i][1];
    }
    const int n = 6;
    for (int i = 0; i < n; i++) {
        int k = i;
        for (int j = i + 1; j < n; j++)
            if (fabs(a[j * n + i]) > fabs(a[k * n + i]))
                k = j;
        if (fabs(a[k * n + i]) < 2.2204460492503131e-16 * 10) {
            memset(m, 0, 6 * sizeof *m);
            return;
        }
        if (k != i) {
            for (int j = i; j < n; j++) {
                double t = a[i * n + j];
                a[i * n + j] = a[k * n + j];
                a[k * n + j] = t;
            }
            double t = b[i];
            b[i] = b[k];
            b[k] = t;
        }
        double d = -1 / a[i * n + i];
        for (int j = i + 1; j < n; j++) {
            double alpha = a[j * n + i] * d;
            for (int c = i + 1; c < n; c++)
                a[j * n + c] += alpha * a[i * n + c];
            b[j] += alpha * b[i];
        }
        a[i * n + i] = -d;
    }
    for (int i = n - 1; i >= 0; i--) {
        double s = b[i];
        for (int k = i + 1; k < n; k++)
            s -= a[i * n + k] * b[k];
        b[i] = s * a[i * n + i];
    }
    memcpy(m, b, 6 * sizeof *m);
}

/* cv::warpAffine(src, M, (w, h), INTER_LINEAR, BORDER_REFLECT_101) on a
 * float32 h x w x c image: M inverted in double, source coordinates in
 * fixed point with 1/32-pixel fractions, float32 bilinear weights. */
static int warp_affine_f32(float *out, const float *in, int h, int w, int c, const double m_in[6])
{
    double m[6];
    memcpy(m, m_in, sizeof m);
    double d = m[0] * m[4] - m[1] * m[3];
    d = d != 0 ? 1. / d : 0;
    double a11 = m[4] * d, a22 = m[0] * d;
    m[0] = a11;
    m[1] *= -d;
    m[3] *= -d;
    m[4] = a22;
    double b1 = -m[0] * m[2] - m[1] * m[5];
    double b2 = -m[3] * m[2] - m[4] * m[5];
    m[2] = b1;
    m[5] = b2;
    float tab[33][2];
    for (int i = 0; i < 32; i++) {
        float x = (float)i * (1.f / 32);
        tab[i][0] = 1.f - x;
        tab[i][1] = x;
    }
    int *adelta = malloc(sizeof *adelta * 2 * (size_t)w);
    if (!adelta)
        return -1;
    int *bdelta = adelta + w;
    for (int x = 0; x < w; x++) {
        adelta[x] = (int)rint(m[0] * x * 1024);
        bdelta[x] = (int)rint(m[3] * x * 1024);
    }
    for (int y = 0; y < h; y++) {
        int x0 = (int)rint((m[1] * y + m[2]) * 1024) + 16;
        int y0 = (int)rint((m[4] * y + m[5]) * 1024) + 16;
        for (int x = 0; x < w; x++) {
            int X = (x0 + adelta[x]) >> 5;
            int Y = (y0 + bdelta[x]) >> 5;
            int sx = X >> 5, sy = Y >> 5;
            const float *wy = tab[Y & 31], *wx = tab[X & 31];
            float w0 = wy[0] * wx[0], w1 = wy[0] * wx[1], w2 = wy[1] * wx[0], w3 = wy[1] * wx[1];
            int sx0, sx1, sy0, sy1;
            if ((unsigned)sx < (unsigned)(w - 1) && (unsigned)sy < (unsigned)(h - 1)) {
                sx0 = sx;
                sx1 = sx + 1;
                sy0 = sy;
                sy1 = sy + 1;
            } else {
                sx0 = sa__border_index(sx, w, SA__BORDER_REFLECT101);
                sx1 = sa__border_index(sx + 1, w, SA__BORDER_REFLECT101);
                sy0 = sa__border_index(sy, h, SA__BORDER_REFLECT101);
                sy1 = sa__border_index(sy + 1, h, SA__BORDER_REFLECT101);
            }
            const float *v0 = in + ((size_t)sy0 * w + sx0) * c;
            const float *v1 = in + ((size_t)sy0 * w + sx1) * c;
            const float *v2 = in + ((size_t)sy1 * w + sx0) * c;
            const float *v3 = in + ((size_t)sy1 * w + sx1) * c;
            float *o = out + ((size_t)y * w + x) * c;
            for (int k = 0; k < c; k++)
                o[k] = v0[k] * w0 + v1[k] * w1 + v2[k] * w2 + v3[k] * w3;
        }
    }
    free(adelta);
    return 0;
}

/* scipy map_coordinates(order=1, mode='reflect') of a float32 image at
 * (row y + dy, column x + dx) for every pixel, then clip to [0, 1], x 255
 * in float32 and truncate. */
static void sample_displaced(uint8_t *out, const float *img, int h, int w, int c, const float *dx,
                             const float *dy)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            size_t p = (size_t)y * w + x;
            double cy = (double)y + (double)dy[p];
            double cx = (double)x + (double)dx[p];
            double fy0 = floor(cy), fx0 = floor(cx);
            double ty = cy - fy0, tx = cx - fx0;
            int iy = (int)fy0, ix = (int)fx0;
            int ry0, ry1, rx0, rx1;
            if ((unsigned)iy < (unsigned)(h - 1) && (unsigned)ix < (unsigned)(w - 1)) {
                ry0 = iy;
                ry1 = iy + 1;
                rx0 = ix;
                rx1 = ix + 1;
            } else {
                ry0 = sa__border_index(iy, h, SA__BORDER_REFLECT);
                ry1 = sa__border_index(iy + 1, h, SA__BORDER_REFLECT);
                rx0 = sa__border_index(ix, w, SA__BORDER_REFLECT);
                rx1 = sa__border_index(ix + 1, w, SA__BORDER_REFLECT);
            }
            const float *v00 = img + ((size_t)ry0 * w + rx0) * c;
            const float *v01 = img + ((size_t)ry0 * w + rx1) * c;
            const float *v10 = img + ((size_t)ry1 * w + rx0) * c;
            const float *v11 = img + ((size_t)ry1 * w + rx1) * c;
            double wy0 = 1.0 - ty, wx0 = 1.0 - tx;
            for (int k = 0; k < c; k++) {
                double t = (double)v00[k] * wy0 * wx0;
                t += (double)v01[k] * wy0 * tx;
                t += (double)v10[k] * ty * wx0;
                t += (double)v11[k] * ty * tx;
                float v = (float)t;
                v = v < 0.f ? 0.f : v > 1.f ? 1.f : v;
                out[p * c + k] = (uint8_t)(v * 255.f);
            }
        }
}

int sa__elastic_core(uint8_t *out, const uint8_t *in, int h, int w, int c, const float *offsets,
                     double *ux, double *uy, double alpha, double sigma_y, double sigma_x,
                     sa_error *err)
{
    const size_t n = (size_t)h * w, size = n * c;
    float *img = malloc(sizeof *img * size);
    float *warped = offsets ? malloc(sizeof *warped * size) : NULL;
    float *dx = malloc(sizeof *dx * n), *dy = malloc(sizeof *dy * n);
    int rc = 0;
    if (!img || (offsets && !warped) || !dx || !dy) {
        rc = sa_error_set(err, SA_ENOMEM, "corrupt", "out of memory (elastic_transform)");
        goto done;
    }
    for (size_t i = 0; i < size; i++)
        img[i] = (float)in[i] / 255.f;
    if (offsets) {
        /* Three points around the centre, as OpenCV (x, y) pairs:
         * (cy+s, cx+s), (cy+s, cx-s), (cy-s, cx-s), moved by `offsets`. */
        float cy = (float)(h / 2), cx = (float)(w / 2);
        float s = (float)((h < w ? h : w) / 3);
        float src[3][2] = {{cy + s, cx + s}, {cy + s, cx - s}, {cy - s, cx - s}};
        float dst[3][2];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 2; j++)
                dst[i][j] = src[i][j] + offsets[2 * i + j];
        double m[6];
        affine_from_points(m, (const float(*)[2])src, (const float(*)[2])dst);
        if (warp_affine_f32(warped, img, h, w, c, m) < 0) {
            rc = sa_error_set(err, SA_ENOMEM, "corrupt", "out of memory (elastic_transform)");
            goto done;
        }
    }
    rc = gaussian_field(ux, h, w, sigma_y, sigma_x, 3.0, err);
    if (rc == 0)
        rc = gaussian_field(uy, h, w, sigma_y, sigma_x, 3.0, err);
    if (rc == 0) {
        for (size_t i = 0; i < n; i++) {
            dx[i] = (float)(ux[i] * alpha);
            dy[i] = (float)(uy[i] * alpha);
        }
        sample_displaced(out, offsets ? warped : img, h, w, c, dx, dy);
    }
done:
    free(img);
    free(warped);
    free(dx);
    free(dy);
    return rc;
}

int sa__elastic_transform(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err)
{
    (void)opt;
    const int h = in->h, w = in->w;
    const size_t n = (size_t)h * w;
    double *ux = malloc(sizeof *ux * n), *uy = malloc(sizeof *uy * n);
    if (!ux || !uy) {
        free(ux);
        free(uy);
        return sa_error_set(err, SA_ENOMEM, "corrupt", "out of memory (elastic_transform)");
    }
    int rc;
    if (table == SA_PARAMS_ANY) {
        /* imagecorruptions: no affine step, sigma 1 % of each side,
         * uniform range from the height for both fields. */
        double m = h * 0.005;
        sa_rng_fill_uniform(rng, ux, n, -m, m);
        sa_rng_fill_uniform(rng, uy, n, -m, m);
        rc = sa__elastic_core(out->data, in->data, h, w, in->c, NULL, ux, uy,
                              elastic_any_alpha[severity - 1], h * 0.01, w * 0.01, err);
    } else {
        const double *p = elastic_hendrycks[table == SA_PARAMS_CIFAR][severity - 1];
        /* 6 affine offsets U(-a, a) cast to float32, then the two fields. */
        float offsets[6];
        for (int i = 0; i < 6; i++)
            offsets[i] = (float)sa_rng_uniform(rng, -p[2], p[2]);
        sa_rng_fill_uniform(rng, ux, n, -1.0, 1.0);
        sa_rng_fill_uniform(rng, uy, n, -1.0, 1.0);
        rc = sa__elastic_core(out->data, in->data, h, w, in->c, offsets, ux, uy, p[0], p[1], p[1],
                              err);
    }
    free(ux);
    free(uy);
    return rc;
}

/* ---- pixelate ---------------------------------------------------------- */

/* Pillow's NEAREST resize (ImagingScaleAffine): source index int(xo) with
 * xo = 0.5 * f advanced by f = in/out per output pixel. */
static void nearest_table(int *tab, int in_size, int out_size)
{
    double f = (double)in_size / out_size;
    double xo = f * 0.5;
    for (int x = 0; x < out_size; x++) {
        int i = xo < 0.0 ? -1 : (int)xo;
        tab[x] = i < 0 ? 0 : i >= in_size ? in_size - 1 : i;
        xo += f;
    }
}

/* Pillow's BOX filter when upscaling in -> out: one tap of weight 1 at
 * int((x + 0.5) * scale), scale = in / out < 1 (the next input's weight
 * argument exceeds 0.5). */
static void box_up_table(int *tab, int in_size, int out_size)
{
    double scale = (double)in_size / out_size;
    for (int x = 0; x < out_size; x++) {
        int i = (int)((x + 0.5) * scale);
        tab[x] = i >= in_size ? in_size - 1 : i;
    }
}

int sa__pixelate(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err)
{
    (void)opt;
    (void)rng;
    const double c = pixelate_c[table == SA_PARAMS_CIFAR][severity - 1];
    int nw = (int)(in->w * c), nh = (int)(in->h * c);
    if (nw < 1)
        nw = 1;
    if (nh < 1)
        nh = 1;
    sa_image *small = NULL;
    int rc = sa_image_resample(&small, in, nw, nh, SA_RESAMPLE_BOX, err);
    if (rc < 0)
        return rc;
    int *tx = malloc(sizeof *tx * (size_t)in->w), *ty = malloc(sizeof *ty * (size_t)in->h);
    if (!tx || !ty) {
        free(tx);
        free(ty);
        sa_image_free(small);
        return sa_error_set(err, SA_ENOMEM, "corrupt", "out of memory (pixelate)");
    }
    if (table != SA_PARAMS_ANY) {
        /* hendrycks: BOX upscale, which copies input int((i + 0.5) n / N). */
        box_up_table(tx, nw, in->w);
        box_up_table(ty, nh, in->h);
    } else {
        nearest_table(tx, nw, in->w);
        nearest_table(ty, nh, in->h);
    }
    const int ch = in->c;
    for (int y = 0; y < in->h; y++) {
        const uint8_t *row = small->data + (size_t)ty[y] * nw * ch;
        uint8_t *o = out->data + (size_t)y * in->w * ch;
        for (int x = 0; x < in->w; x++)
            memcpy(o + (size_t)x * ch, row + (size_t)tx[x] * ch, (size_t)ch);
    }
    free(tx);
    free(ty);
    sa_image_free(small);
    return 0;
}
