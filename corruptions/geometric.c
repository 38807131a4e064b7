/* Digital family, geometric part: elastic_transform and pixelate. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "filters.h"
#include "internal.h"

/* No a * b + c fused into one rounding, in any variant: GCC in C11 mode
 * does not contract; Clang does by default where the target has FMA (its
 * AVX-512 does), so it is told not to. */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

/* x86-64 with GCC or Clang: AVX2 and AVX-512 variants of the kernels,
 * picked at run time (__builtin_cpu_supports); other targets use the
 * portable code, which gives the same bytes. */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(SA_NO_CPU_DISPATCH)
#define GEOM_X86_VARIANTS 1
#include <immintrin.h>
#endif

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
 * j = -r..r, divided by their (pairwise) sum, into k (2r + 1 values). */
static void gaussian_weights(double *k, double sigma, int r)
{
    double s2 = sigma * sigma;
    for (int j = -r; j <= r; j++)
        k[j + r] = exp(-0.5 / s2 * (double)(j * j));
    double sum = pairwise_sum(k, (size_t)(2 * r + 1));
    for (int j = 0; j <= 2 * r; j++)
        k[j] /= sum;
}

/* Kernel radius of gaussian_filter1d for sigma and truncate 3, or 0 when
 * the axis is skipped (sigma <= 1e-15). */
static int gaussian_radius(double sigma)
{
    return sigma > 1e-15 ? (int)(3.0 * sigma + 0.5) : 0;
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

/* ---- elastic_transform: the kernels ---------------------------------------- */

/* Every kernel below computes each output value with the operations, order
 * and types of the reference (spelled out in its comment) and vectorises
 * across output values or across the channels of one pixel only. With no FMA
 * contraction (C11 mode) every instruction-set variant gives the same bytes. */

typedef double v8d __attribute__((vector_size(64)));
typedef float v4f __attribute__((vector_size(16)));

#define GEOM_INLINE static inline __attribute__((always_inline))

GEOM_INLINE void ld4f(v4f *v, const float *p) { memcpy(v, p, sizeof *v); }
GEOM_INLINE void st4f(float *p, const v4f *v) { memcpy(p, v, sizeof *v); }

/* One 1-D pass of scipy's correlate1d with a symmetric kernel k (2r + 1
 * weights): dst[x] = ctr[x] k[r], then += (lo[j][x] + hi[j][x]) k[r - j]
 * for j = r down to 1, for every x. The vector loops take L doubles per
 * vector, L matching the variant's registers (8 for AVX-512, 4 for AVX2, 2
 * otherwise: wider generic vectors are kept in memory), and return the
 * values done. */
#define GAUSS_COMBINE_LANES(NAME, VT, L)                                                           \
    GEOM_INLINE int NAME(double *restrict dst, const double *ctr, const double *const *lo,         \
                         const double *const *hi, int n, const double *k, int r)                   \
    {                                                                                              \
        const double c0 = k[r];                                                                    \
        int x = 0;                                                                                 \
        /* four independent sums per step share the row pointers and weights */                   \
        for (; x + 4 * (L) <= n; x += 4 * (L)) {                                                   \
            VT a0, a1, a2, a3, p, q;                                                               \
            memcpy(&a0, ctr + x, sizeof a0);                                                       \
            memcpy(&a1, ctr + x + (L), sizeof a1);                                                 \
            memcpy(&a2, ctr + x + 2 * (L), sizeof a2);                                             \
            memcpy(&a3, ctr + x + 3 * (L), sizeof a3);                                             \
            a0 *= c0;                                                                              \
            a1 *= c0;                                                                              \
            a2 *= c0;                                                                              \
            a3 *= c0;                                                                              \
            for (int j = r; j >= 1; j--) {                                                         \
                const double *l = lo[j] + x, *u = hi[j] + x;                                       \
                const double kj = k[r - j];                                                        \
                memcpy(&p, l, sizeof p);                                                           \
                memcpy(&q, u, sizeof q);                                                           \
                a0 += (p + q) * kj;                                                                \
                memcpy(&p, l + (L), sizeof p);                                                     \
                memcpy(&q, u + (L), sizeof q);                                                     \
                a1 += (p + q) * kj;                                                                \
                memcpy(&p, l + 2 * (L), sizeof p);                                                 \
                memcpy(&q, u + 2 * (L), sizeof q);                                                 \
                a2 += (p + q) * kj;                                                                \
                memcpy(&p, l + 3 * (L), sizeof p);                                                 \
                memcpy(&q, u + 3 * (L), sizeof q);                                                 \
                a3 += (p + q) * kj;                                                                \
            }                                                                                      \
            memcpy(dst + x, &a0, sizeof a0);                                                       \
            memcpy(dst + x + (L), &a1, sizeof a1);                                                 \
            memcpy(dst + x + 2 * (L), &a2, sizeof a2);                                             \
            memcpy(dst + x + 3 * (L), &a3, sizeof a3);                                             \
        }                                                                                          \
        for (; x + (L) <= n; x += (L)) {                                                           \
            VT acc, a, b;                                                                          \
            memcpy(&acc, ctr + x, sizeof acc);                                                     \
            acc *= c0;                                                                             \
            for (int j = r; j >= 1; j--) {                                                         \
                memcpy(&a, lo[j] + x, sizeof a);                                                   \
                memcpy(&b, hi[j] + x, sizeof b);                                                   \
                acc += (a + b) * k[r - j];                                                         \
            }                                                                                      \
            memcpy(dst + x, &acc, sizeof acc);                                                     \
        }                                                                                          \
        return x;                                                                                  \
    }

typedef double v4d __attribute__((vector_size(32)));
typedef double v2d __attribute__((vector_size(16)));
GAUSS_COMBINE_LANES(gauss_combine_l8, v8d, 8)
GAUSS_COMBINE_LANES(gauss_combine_l4, v4d, 4)
GAUSS_COMBINE_LANES(gauss_combine_l2, v2d, 2)

/* isa: 0 baseline, 1 AVX2, 2 AVX-512 (the variant this is inlined into) */
GEOM_INLINE void gauss_combine(double *restrict dst, const double *ctr, const double *const *lo,
                               const double *const *hi, int n, const double *k, int r, int isa)
{
    const double c0 = k[r];
    int x = isa == 2   ? gauss_combine_l8(dst, ctr, lo, hi, n, k, r)
            : isa == 1 ? gauss_combine_l4(dst, ctr, lo, hi, n, k, r)
                       : gauss_combine_l2(dst, ctr, lo, hi, n, k, r);
    for (; x < n; x++) {
        double acc = ctr[x] * c0;
        for (int j = r; j >= 1; j--)
            acc += (lo[j][x] + hi[j][x]) * k[r - j];
        dst[x] = acc;
    }
}

/* Scratch for gauss_field: `copy` h x w, `ext` and `idx` max(h, w) + 2 rmax,
 * `lo`/`hi` rmax + 1 pointers, `k` 2 rmax + 1 weights. */
typedef struct gauss_scratch {
    double *copy, *ext, *k;
    int *idx;
    const double **lo, **hi;
} gauss_scratch;

/* In-place scipy gaussian_filter of an h x w float64 field, border reflect,
 * truncate 3: axis 0 (down the columns) with sigma_y, then axis 1 with
 * sigma_x; radius 0 leaves an axis unchanged (its one weight is 1). */
GEOM_INLINE void gauss_field(double *f, int h, int w, double sigma_y, int ry, double sigma_x, int rx,
                             const gauss_scratch *s, int isa)
{
    const double *src = f; /* input of the axis-1 pass */
    if (ry > 0) {
        /* f -> copy */
        gaussian_weights(s->k, sigma_y, ry);
        for (int i = -ry; i < h + ry; i++)
            s->idx[i + ry] = sa__border_index(i, h, SA__BORDER_REFLECT);
        for (int y = 0; y < h; y++) {
            for (int j = 1; j <= ry; j++) {
                s->lo[j] = f + (size_t)s->idx[y - j + ry] * w;
                s->hi[j] = f + (size_t)s->idx[y + j + ry] * w;
            }
            gauss_combine(s->copy + (size_t)y * w, f + (size_t)y * w, s->lo, s->hi, w, s->k, ry,
                          isa);
        }
        src = s->copy;
    }
    if (rx > 0) {
        /* src -> f, each row through the reflect-padded `ext` */
        gaussian_weights(s->k, sigma_x, rx);
        for (int i = -rx; i < w + rx; i++)
            s->idx[i + rx] = sa__border_index(i, w, SA__BORDER_REFLECT);
        double *ctr = s->ext + rx;
        for (int j = 1; j <= rx; j++) {
            s->lo[j] = ctr - j;
            s->hi[j] = ctr + j;
        }
        for (int y = 0; y < h; y++) {
            const double *line = src + (size_t)y * w;
            for (int i = 0; i < rx; i++)
                s->ext[i] = line[s->idx[i]];
            memcpy(ctr, line, sizeof *line * (size_t)w);
            for (int i = w + rx; i < w + 2 * rx; i++)
                s->ext[i] = line[s->idx[i]];
            gauss_combine(f + (size_t)y * w, ctr, s->lo, s->hi, w, s->k, rx, isa);
        }
    } else if (ry > 0) {
        memcpy(f, s->copy, sizeof *f * (size_t)h * w);
    }
}

/* cv::warpAffine(src, M, (w, h), INTER_LINEAR, BORDER_REFLECT_101) of a
 * float32 h x w x c image, where `m` is M already inverted (warp_invert):
 * source coordinates in fixed point with 1/32-pixel fractions,
 * X = (x0 + adelta[x]) >> 5 with x0 = rint((m1 y + m2) 1024) + 16, and float32
 * weights wtab[(Y & 31) * 32 + (X & 31)] = (wy0 wx0, wy0 wx1, wy1 wx0, wy1 wx1);
 * each value is ((v0 w0 + v1 w1) + v2 w2) + v3 w3 in float32. For c == 3,
 * `in` and `out` have one float of padding after the last pixel. */
GEOM_INLINE void warp_affine(float *restrict out, const float *in, int h, int w, int c,
                             const double *m, const int *adelta, const int *bdelta,
                             const float *wtab)
{
    for (int y = 0; y < h; y++) {
        int x0 = (int)rint((m[1] * y + m[2]) * 1024) + 16;
        int y0 = (int)rint((m[4] * y + m[5]) * 1024) + 16;
        float *orow = out + (size_t)y * w * c;
        for (int x = 0; x < w; x++) {
            int X = (x0 + adelta[x]) >> 5;
            int Y = (y0 + bdelta[x]) >> 5;
            int sx = X >> 5, sy = Y >> 5;
            const float *wt = wtab + (size_t)(((Y & 31) << 5) | (X & 31)) * 4;
            const float *v0, *v1, *v2, *v3;
            if ((unsigned)sx < (unsigned)(w - 1) && (unsigned)sy < (unsigned)(h - 1)) {
                v0 = in + ((size_t)sy * w + sx) * c;
                v1 = v0 + c;
                v2 = v0 + (size_t)w * c;
                v3 = v2 + c;
            } else {
                int sx0 = sa__border_index(sx, w, SA__BORDER_REFLECT101);
                int sx1 = sa__border_index(sx + 1, w, SA__BORDER_REFLECT101);
                int sy0 = sa__border_index(sy, h, SA__BORDER_REFLECT101);
                int sy1 = sa__border_index(sy + 1, h, SA__BORDER_REFLECT101);
                v0 = in + ((size_t)sy0 * w + sx0) * c;
                v1 = in + ((size_t)sy0 * w + sx1) * c;
                v2 = in + ((size_t)sy1 * w + sx0) * c;
                v3 = in + ((size_t)sy1 * w + sx1) * c;
            }
            float *o = orow + (size_t)x * c;
            if (c == 3) {
                /* four lanes: the three channels and the next value (or the
                 * padding), which the next pixel overwrites */
                v4f a, b, cc, d;
                ld4f(&a, v0);
                ld4f(&b, v1);
                ld4f(&cc, v2);
                ld4f(&d, v3);
                v4f r = a * wt[0] + b * wt[1] + cc * wt[2] + d * wt[3];
                st4f(o, &r);
            } else {
                for (int k = 0; k < c; k++)
                    o[k] = v0[k] * wt[0] + v1[k] * wt[1] + v2[k] * wt[2] + v3[k] * wt[3];
            }
        }
    }
}

/* Per-row sampling plan of scipy map_coordinates(order=1, mode='reflect'):
 * pixel x reads v00 = img + off[x], v01 = v00 + sx[x], v10 = v00 + sy[x],
 * v11 = v10 + sx[x], with weights wy0 = 1 - ty, wx0 = 1 - tx, ty, tx.
 * Offsets fit int32: images have at most SA_IMAGE_MAX_DIM^2 x 3 values. */
typedef struct sample_plan {
    double *wy0, *wx0, *ty, *tx; /* w each */
    int32_t *iy, *ix, *off, *sx, *sy;  /* w each */
    float *f;                    /* 4 w + 4: float32 results, 4 lanes a pixel */
} sample_plan;

/* The plan for row y from column x on: source position (y + dy, x + dx)
 * with dy = float32(uy alpha) and dx = float32(ux alpha) widened back to
 * double, split into floor and fraction. floor by truncation and
 * correction, exact for |c| < 2^31 (the displacements are bounded by
 * alpha) except at c = -0 (+0 instead of -0), which c = y + d never is.
 * Taps outside the interior are mapped afterwards (sample_plan_border). */
GEOM_INLINE void sample_plan_row(const sample_plan *sp, int y, int w, int c, const double *ux,
                                 const double *uy, double alpha, int x)
{
    const double yd = (double)y;
    for (; x < w; x++) {
        float fdx = (float)(ux[x] * alpha), fdy = (float)(uy[x] * alpha);
        double cy = yd + (double)fdy, cx = (double)x + (double)fdx;
        int i = (int)cy, k = (int)cx;
        i -= (double)i > cy;
        k -= (double)k > cx;
        sp->iy[x] = i;
        sp->ix[x] = k;
        sp->off[x] = (i * w + k) * c;
        sp->ty[x] = cy - (double)i;
        sp->tx[x] = cx - (double)k;
        sp->wy0[x] = 1.0 - sp->ty[x];
        sp->wx0[x] = 1.0 - sp->tx[x];
    }
}

/* The plan's tap steps for x0 <= x < x1: (c, w c) inside, the reflect
 * border's otherwise. */
GEOM_INLINE void sample_plan_border(const sample_plan *sp, int h, int w, int c, int x0, int x1)
{
    const int32_t stride = w * c;
    for (int x = x0; x < x1; x++) {
        const int i = sp->iy[x], k = sp->ix[x];
        if ((unsigned)i < (unsigned)(h - 1) && (unsigned)k < (unsigned)(w - 1)) {
            sp->sx[x] = c;
            sp->sy[x] = stride;
            continue;
        }
        int ry0 = sa__border_index(i, h, SA__BORDER_REFLECT);
        int ry1 = sa__border_index(i + 1, h, SA__BORDER_REFLECT);
        int rx0 = sa__border_index(k, w, SA__BORDER_REFLECT);
        int rx1 = sa__border_index(k + 1, w, SA__BORDER_REFLECT);
        sp->off[x] = (ry0 * w + rx0) * c;
        sp->sx[x] = (rx1 - rx0) * c;
        sp->sy[x] = (ry1 - ry0) * stride;
    }
}

/* One row of map_coordinates of a float32 h x w x c image by the plan, then
 * float32 of the double sum, clip to [0, 1], x 255 in float32 and
 * truncation. Per value, in double: t = v00 wy0 wx0 + v01 wy0 tx +
 * v10 ty wx0 + v11 ty tx, left to right. */
GEOM_INLINE void sample_row(uint8_t *restrict o, const float *img, int w, int c,
                            const sample_plan *sp)
{
    for (int x = 0; x < w; x++, o += c) {
        const float *v00 = img + sp->off[x], *v01 = v00 + sp->sx[x];
        const float *v10 = v00 + sp->sy[x], *v11 = v10 + sp->sx[x];
        const double wy0 = sp->wy0[x], wx0 = sp->wx0[x], ty = sp->ty[x], tx = sp->tx[x];
        for (int k = 0; k < c; k++) {
            double t = (double)v00[k] * wy0 * wx0;
            t += (double)v01[k] * wy0 * tx;
            t += (double)v10[k] * ty * wx0;
            t += (double)v11[k] * ty * tx;
            float f = (float)t;
            f = f < 0.f ? 0.f : f > 1.f ? 1.f : f;
            o[k] = (uint8_t)(f * 255.f);
        }
    }
}

#ifdef GEOM_X86_VARIANTS
/* sample_plan_row and sample_plan_border four pixels at a time: floor by
 * roundpd (exact, equal to the truncation and correction). Returns the
 * first x left. */
__attribute__((target("avx2"))) static int sample_plan_row_avx2(const sample_plan *sp, int y,
                                                                int h, int w, int c,
                                                                const double *ux,
                                                                const double *uy, double alpha)
{
    const __m256d A = _mm256_set1_pd(alpha), Y = _mm256_set1_pd((double)y);
    const __m256d one = _mm256_set1_pd(1.0), lanes = _mm256_setr_pd(0, 1, 2, 3);
    const __m128i W = _mm_set1_epi32(w), C = _mm_set1_epi32(c);
    const __m128i wm2 = _mm_set1_epi32(w - 2), hm2 = _mm_set1_epi32(h - 2);
    const __m128i SX = _mm_set1_epi32(c), SY = _mm_set1_epi32(w * c);
    /* the plan's arrays in locals: the vector stores may alias anything */
    double *const ptx = sp->tx, *const pty = sp->ty, *const pwx = sp->wx0, *const pwy = sp->wy0;
    int32_t *const pix = sp->ix, *const piy = sp->iy, *const poff = sp->off;
    int32_t *const psx = sp->sx, *const psy = sp->sy;
    int x = 0;
    for (; x + 4 <= w; x += 4) {
        const __m256d fdx = _mm256_cvtps_pd(_mm256_cvtpd_ps(_mm256_mul_pd(_mm256_loadu_pd(ux + x), A)));
        const __m256d fdy = _mm256_cvtps_pd(_mm256_cvtpd_ps(_mm256_mul_pd(_mm256_loadu_pd(uy + x), A)));
        const __m256d cx = _mm256_add_pd(_mm256_add_pd(lanes, _mm256_set1_pd((double)x)), fdx);
        const __m256d cy = _mm256_add_pd(Y, fdy);
        const __m256d fx = _mm256_floor_pd(cx), fy = _mm256_floor_pd(cy);
        const __m256d tx = _mm256_sub_pd(cx, fx), ty = _mm256_sub_pd(cy, fy);
        const __m128i ix = _mm256_cvttpd_epi32(fx), iy = _mm256_cvttpd_epi32(fy);
        _mm256_storeu_pd(ptx + x, tx);
        _mm256_storeu_pd(pty + x, ty);
        _mm256_storeu_pd(pwx + x, _mm256_sub_pd(one, tx));
        _mm256_storeu_pd(pwy + x, _mm256_sub_pd(one, ty));
        _mm_storeu_si128((__m128i *)(pix + x), ix);
        _mm_storeu_si128((__m128i *)(piy + x), iy);
        _mm_storeu_si128((__m128i *)(poff + x),
                         _mm_mullo_epi32(_mm_add_epi32(_mm_mullo_epi32(iy, W), ix), C));
        /* all four inside (0 <= i <= n - 2 as unsigned, n >= 2): plain steps */
        const __m128i in = _mm_and_si128(_mm_cmpeq_epi32(_mm_min_epu32(ix, wm2), ix),
                                         _mm_cmpeq_epi32(_mm_min_epu32(iy, hm2), iy));
        if (w >= 2 && h >= 2 && _mm_movemask_epi8(in) == 0xffff) {
            _mm_storeu_si128((__m128i *)(psx + x), SX);
            _mm_storeu_si128((__m128i *)(psy + x), SY);
        } else {
            sample_plan_border(sp, h, w, c, x, x + 4);
        }
    }
    return x;
}

/* warp_affine's taps for pixels x0 <= x < x1 of a row from their source
 * cell (px, py): first tap off, steps stx, sty (reflect-101 border). */
GEOM_INLINE void warp_plan_taps(int32_t *off, int32_t *stx, int32_t *sty, const int32_t *px,
                                const int32_t *py, int h, int w, int x0, int x1)
{
    const int32_t stride = 3 * w;
    for (int x = x0; x < x1; x++) {
        const int sx = px[x], sy = py[x];
        if ((unsigned)sx < (unsigned)(w - 1) && (unsigned)sy < (unsigned)(h - 1)) {
            off[x] = (sy * w + sx) * 3;
            stx[x] = 3;
            sty[x] = stride;
            continue;
        }
        int sx0 = sa__border_index(sx, w, SA__BORDER_REFLECT101);
        int sx1 = sa__border_index(sx + 1, w, SA__BORDER_REFLECT101);
        int sy0 = sa__border_index(sy, h, SA__BORDER_REFLECT101);
        int sy1 = sa__border_index(sy + 1, h, SA__BORDER_REFLECT101);
        off[x] = (sy0 * w + sx0) * 3;
        stx[x] = (sx1 - sx0) * 3;
        sty[x] = (sy1 - sy0) * stride;
    }
}

/* warp_affine for c == 3 with AVX2: per row, the fixed-point coordinates
 * of eight pixels at a time give each pixel's first tap, tap steps and
 * weight entry (groups with a tap outside the interior are mapped by
 * warp_plan_taps, as warp_affine does); then each pixel is one four-lane
 * float32 sum, stored with its spare lane overwritten by the next pixel
 * (the image has one float of padding). */
__attribute__((target("avx2"))) static void warp_affine3_avx2(float *out, const float *in, int h,
                                                               int w, const double *m,
                                                               const int *adelta,
                                                               const int *bdelta,
                                                               const float *wtab, int32_t *plan)
{
    int32_t *off = plan, *stx = off + w, *sty = stx + w, *wid = sty + w, *px = wid + w,
            *py = px + w;
    const __m256i W = _mm256_set1_epi32(w), three = _mm256_set1_epi32(3), m31 = _mm256_set1_epi32(31);
    const __m256i wm2 = _mm256_set1_epi32(w - 2), hm2 = _mm256_set1_epi32(h - 2);
    const __m256i STY = _mm256_set1_epi32(3 * w);
    for (int y = 0; y < h; y++) {
        const int x0 = (int)rint((m[1] * y + m[2]) * 1024) + 16;
        const int y0 = (int)rint((m[4] * y + m[5]) * 1024) + 16;
        const __m256i X0 = _mm256_set1_epi32(x0), Y0 = _mm256_set1_epi32(y0);
        int x = 0;
        for (; x + 8 <= w; x += 8) {
            __m256i X = _mm256_srai_epi32(_mm256_add_epi32(X0, _mm256_loadu_si256((const __m256i *)(adelta + x))), 5);
            __m256i Y = _mm256_srai_epi32(_mm256_add_epi32(Y0, _mm256_loadu_si256((const __m256i *)(bdelta + x))), 5);
            __m256i sx = _mm256_srai_epi32(X, 5), sy = _mm256_srai_epi32(Y, 5);
            __m256i wi = _mm256_slli_epi32(_mm256_or_si256(_mm256_slli_epi32(_mm256_and_si256(Y, m31), 5),
                                                           _mm256_and_si256(X, m31)), 2);
            _mm256_storeu_si256((__m256i *)(wid + x), wi);
            /* all eight inside (0 <= s <= n - 2 as unsigned, n >= 2): plain taps */
            const __m256i inside = _mm256_and_si256(_mm256_cmpeq_epi32(_mm256_min_epu32(sx, wm2), sx),
                                                    _mm256_cmpeq_epi32(_mm256_min_epu32(sy, hm2), sy));
            if (w >= 2 && h >= 2 && _mm256_movemask_epi8(inside) == -1) {
                _mm256_storeu_si256((__m256i *)(off + x),
                                    _mm256_mullo_epi32(_mm256_add_epi32(_mm256_mullo_epi32(sy, W), sx), three));
                _mm256_storeu_si256((__m256i *)(stx + x), three);
                _mm256_storeu_si256((__m256i *)(sty + x), STY);
            } else {
                _mm256_storeu_si256((__m256i *)(px + x), sx);
                _mm256_storeu_si256((__m256i *)(py + x), sy);
                warp_plan_taps(off, stx, sty, px, py, h, w, x, x + 8);
            }
        }
        for (int t = x; t < w; t++) {
            int X = (x0 + adelta[t]) >> 5, Y = (y0 + bdelta[t]) >> 5;
            px[t] = X >> 5;
            py[t] = Y >> 5;
            wid[t] = (((Y & 31) << 5) | (X & 31)) * 4;
        }
        warp_plan_taps(off, stx, sty, px, py, h, w, x, w);
        float *o = out + (size_t)y * w * 3;
        for (x = 0; x < w; x++, o += 3) {
            const float *v0 = in + off[x], *v1 = v0 + stx[x], *v2 = v0 + sty[x], *v3 = v2 + stx[x];
            const float *wt = wtab + wid[x];
            __m128 r = _mm_mul_ps(_mm_loadu_ps(v0), _mm_broadcast_ss(wt));
            r = _mm_add_ps(r, _mm_mul_ps(_mm_loadu_ps(v1), _mm_broadcast_ss(wt + 1)));
            r = _mm_add_ps(r, _mm_mul_ps(_mm_loadu_ps(v2), _mm_broadcast_ss(wt + 2)));
            r = _mm_add_ps(r, _mm_mul_ps(_mm_loadu_ps(v3), _mm_broadcast_ss(wt + 3)));
            _mm_storeu_ps(o, r);
        }
    }
}

/* sample_row for c == 3: the three channels of a pixel in one AVX vector
 * (the fourth lane reads the next value, or the padding after the image,
 * and is dropped), the float32 results to the plan's buffer; then clip,
 * scale and truncation four pixels at a time. Each pixel's four stored
 * bytes overlap the next pixel, which overwrites them; the row's last
 * pixel is written alone. */
__attribute__((target("avx2"))) static void sample_row3_avx2(uint8_t *o, const float *img, int w,
                                                              const sample_plan *sp)
{
    /* the plan's arrays in locals: the vector stores may alias anything */
    const int32_t *const off = sp->off, *const psx = sp->sx, *const psy = sp->sy;
    const double *const pwy = sp->wy0, *const pwx = sp->wx0, *const pty = sp->ty, *const ptx = sp->tx;
    float *const fb = sp->f;
    for (int x = 0; x < w; x++) {
        const float *v00 = img + off[x], *v01 = v00 + psx[x];
        const float *v10 = v00 + psy[x], *v11 = v10 + psx[x];
        const __m256d Wy0 = _mm256_broadcast_sd(pwy + x), Wx0 = _mm256_broadcast_sd(pwx + x);
        const __m256d Ty = _mm256_broadcast_sd(pty + x), Tx = _mm256_broadcast_sd(ptx + x);
        __m256d t = _mm256_mul_pd(_mm256_mul_pd(_mm256_cvtps_pd(_mm_loadu_ps(v00)), Wy0), Wx0);
        t = _mm256_add_pd(t, _mm256_mul_pd(_mm256_mul_pd(_mm256_cvtps_pd(_mm_loadu_ps(v01)), Wy0), Tx));
        t = _mm256_add_pd(t, _mm256_mul_pd(_mm256_mul_pd(_mm256_cvtps_pd(_mm_loadu_ps(v10)), Ty), Wx0));
        t = _mm256_add_pd(t, _mm256_mul_pd(_mm256_mul_pd(_mm256_cvtps_pd(_mm_loadu_ps(v11)), Ty), Tx));
        _mm_storeu_ps(fb + 4 * x, _mm256_cvtpd_ps(t));
    }
    /* max(f, 0) gives 0 for f <= 0, min(f, 1) gives 1 for f > 1 */
    const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.f), s255 = _mm256_set1_ps(255.f);
    int x = 0;
    for (; x + 4 < w; x += 4) {
        __m256 a = _mm256_loadu_ps(fb + 4 * x), b = _mm256_loadu_ps(fb + 4 * x + 8);
        __m256i qa = _mm256_cvttps_epi32(_mm256_mul_ps(_mm256_min_ps(_mm256_max_ps(a, zero), one), s255));
        __m256i qb = _mm256_cvttps_epi32(_mm256_mul_ps(_mm256_min_ps(_mm256_max_ps(b, zero), one), s255));
        /* bytes per 128-bit lane: pixel x (lane 0) or x + 1 (lane 1), then x + 2 or x + 3 */
        __m256i q = _mm256_packus_epi16(_mm256_packus_epi32(qa, qb), _mm256_setzero_si256());
        int64_t lo = _mm256_extract_epi64(q, 0), hi = _mm256_extract_epi64(q, 2);
        int32_t p0 = (int32_t)lo, p1 = (int32_t)hi, p2 = (int32_t)(lo >> 32), p3 = (int32_t)(hi >> 32);
        uint8_t *d = o + (size_t)x * 3;
        memcpy(d, &p0, 4);
        memcpy(d + 3, &p1, 4);
        memcpy(d + 6, &p2, 4);
        memcpy(d + 9, &p3, 4);
    }
    for (; x < w; x++)
        for (int k = 0; k < 3; k++) {
            float f = fb[4 * x + k];
            f = f < 0.f ? 0.f : f > 1.f ? 1.f : f;
            o[(size_t)x * 3 + k] = (uint8_t)(f * 255.f);
        }
}
#endif

#ifdef GEOM_X86_VARIANTS
/* img[i] = (float)in[i] / 255.f, eight at a time (the same correctly
 * rounded division). Returns the first index left to the caller. */
__attribute__((target("avx2"))) static size_t unit_floats_avx2(float *img, const uint8_t *in,
                                                                size_t size)
{
    const __m256 d = _mm256_set1_ps(255.f);
    size_t i = 0;
    for (; i + 8 <= size; i += 8) {
        __m128i b = _mm_loadl_epi64((const __m128i *)(in + i));
        _mm256_storeu_ps(img + i, _mm256_div_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b)), d));
    }
    return i;
}
#endif

/* map_coordinates of `img` at the displaced positions, row by row (see
 * sample_plan_row and sample_row); `rows` holds SAMPLE_ROWS_BYTES(w), which
 * also covers the 6 w ints of warp_affine3_avx2's plan. */
#define SAMPLE_ROWS_BYTES(w) ((sizeof(double) * 4 + sizeof(int32_t) * 5 + sizeof(float) * 4) * (size_t)(w) + 64)

GEOM_INLINE void sample_displaced(uint8_t *out, const float *img, int h, int w, int c,
                                  const double *ux, const double *uy, double alpha, void *rows,
                                  int isa)
{
    sample_plan sp;
    sp.wy0 = rows;
    sp.wx0 = sp.wy0 + w;
    sp.ty = sp.wx0 + w;
    sp.tx = sp.ty + w;
    sp.f = (float *)(sp.tx + w);
    sp.iy = (int32_t *)(sp.f + 4 * (size_t)w + 4);
    sp.ix = sp.iy + w;
    sp.off = sp.ix + w;
    sp.sx = sp.off + w;
    sp.sy = sp.sx + w;
    for (int y = 0; y < h; y++) {
        size_t p = (size_t)y * w;
        int x0 = 0;
#ifdef GEOM_X86_VARIANTS
        if (isa)
            x0 = sample_plan_row_avx2(&sp, y, h, w, c, ux + p, uy + p, alpha);
#endif
        sample_plan_row(&sp, y, w, c, ux + p, uy + p, alpha, x0);
        sample_plan_border(&sp, h, w, c, x0, w);
#ifdef GEOM_X86_VARIANTS
        if (isa && c == 3) {
            sample_row3_avx2(out + p * 3, img, w, &sp);
            continue;
        }
#endif
        (void)isa;
        sample_row(out + p * c, img, w, c, &sp);
    }
}

/* Everything elastic_body needs; all buffers are the caller's. `a` holds
 * max(h w doubles, h w c + 1 floats): the Gaussian's copy, then the image
 * as float32; `warped` h w c + 1 floats (with m only). */
typedef struct elastic_job {
    uint8_t *out;
    const uint8_t *in;
    int h, w, c;
    const double *m; /* inverted affine map, NULL: no warp */
    const int *adelta, *bdelta;
    const float *wtab;
    void *a, *rows;
    float *warped;
    double *ux, *uy;
    double alpha, sigma_y, sigma_x;
    int ry, rx;
    gauss_scratch gs;
} elastic_job;

GEOM_INLINE void elastic_body(const elastic_job *j, int isa)
{
    gauss_field(j->ux, j->h, j->w, j->sigma_y, j->ry, j->sigma_x, j->rx, &j->gs, isa);
    gauss_field(j->uy, j->h, j->w, j->sigma_y, j->ry, j->sigma_x, j->rx, &j->gs, isa);
    const size_t size = (size_t)j->h * j->w * j->c;
    float *restrict img = j->a;
    size_t i0 = 0;
#ifdef GEOM_X86_VARIANTS
    if (isa)
        i0 = unit_floats_avx2(img, j->in, size);
#endif
    for (size_t i = i0; i < size; i++)
        img[i] = (float)j->in[i] / 255.f;
    img[size] = 0.f;
    const float *src = img;
    if (j->m) {
        j->warped[size] = 0.f;
#ifdef GEOM_X86_VARIANTS
        if (isa && j->c == 3)
            warp_affine3_avx2(j->warped, img, j->h, j->w, j->m, j->adelta, j->bdelta, j->wtab,
                              j->rows);
        else
#endif
            warp_affine(j->warped, img, j->h, j->w, j->c, j->m, j->adelta, j->bdelta, j->wtab);
        src = j->warped;
    }
    sample_displaced(j->out, src, j->h, j->w, j->c, j->ux, j->uy, j->alpha, j->rows, isa);
}

static void elastic_run_base(const elastic_job *j)
{
    elastic_body(j, 0);
}

#ifdef GEOM_X86_VARIANTS
__attribute__((target("avx2"))) static void elastic_run_avx2(const elastic_job *j)
{
    elastic_body(j, 1);
}

#ifndef SA_CPU_MAX_AVX2
__attribute__((target("avx512f"))) static void elastic_run_avx512(const elastic_job *j)
{
    elastic_body(j, 2);
}
#endif
#endif

static void elastic_run(const elastic_job *j)
{
#ifdef GEOM_X86_VARIANTS
#ifndef SA_CPU_MAX_AVX2
    if (__builtin_cpu_supports("avx512f")) {
        elastic_run_avx512(j);
        return;
    }
#endif
    if (__builtin_cpu_supports("avx2")) {
        elastic_run_avx2(j);
        return;
    }
#endif
    elastic_run_base(j);
}

/* OpenCV's warpAffine setup: M inverted in double (in place), and the
 * per-column fixed-point deltas rint(m0 x 1024), rint(m3 x 1024). */
static void warp_invert(double m[6], int *adelta, int *bdelta, int w)
{
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
    for (int x = 0; x < w; x++) {
        adelta[x] = (int)rint(m[0] * x * 1024);
        bdelta[x] = (int)rint(m[3] * x * 1024);
    }
}

/* OpenCV's bilinear table: tab[i] = (1 - i/32, i/32) in float32, and the
 * 2-D weights as products of the row and column entries. */
static void warp_weights(float *wtab)
{
    float tab[32][2];
    for (int i = 0; i < 32; i++) {
        float x = (float)i * (1.f / 32);
        tab[i][0] = 1.f - x;
        tab[i][1] = x;
    }
    for (int iy = 0; iy < 32; iy++)
        for (int ix = 0; ix < 32; ix++) {
            float *wt = wtab + (iy * 32 + ix) * 4;
            wt[0] = tab[iy][0] * tab[ix][0];
            wt[1] = tab[iy][0] * tab[ix][1];
            wt[2] = tab[iy][1] * tab[ix][0];
            wt[3] = tab[iy][1] * tab[ix][1];
        }
}

/* Carve `bytes` (64-byte aligned) from a bump pointer. */
static void *carve(char **p, size_t bytes)
{
    void *r = *p;
    *p += (bytes + 63) & ~(size_t)63;
    return r;
}

int sa__elastic_core(uint8_t *out, const uint8_t *in, int h, int w, int c, const float *offsets,
                     double *ux, double *uy, double alpha, double sigma_y, double sigma_x,
                     sa_error *err)
{
    const size_t n = (size_t)h * w, size = n * c;
    const int ry = gaussian_radius(sigma_y), rx = gaussian_radius(sigma_x);
    const int rmax = ry > rx ? ry : rx;
    const size_t ext = (size_t)(h > w ? h : w) + 2 * (size_t)rmax;
    const size_t a_bytes = sizeof(double) * n > sizeof(float) * (size + 1)
                               ? sizeof(double) * n
                               : sizeof(float) * (size + 1);
    const size_t wb = offsets ? sizeof(float) * (size + 1) : 0;
    const size_t sizes[] = {
        a_bytes, wb, sizeof(double) * ext, sizeof(double) * (2 * (size_t)rmax + 1),
        sizeof(int) * ext, sizeof(double *) * 2 * ((size_t)rmax + 1),
        offsets ? sizeof(int) * 2 * (size_t)w : 0, offsets ? sizeof(float) * 32 * 32 * 4 : 0,
        SAMPLE_ROWS_BYTES(w),
    };
    size_t total = 64;
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        total += (sizes[i] + 63) & ~(size_t)63;
    char *block = malloc(total);
    if (!block)
        return sa_error_set(err, SA_ENOMEM, "corrupt", "out of memory (elastic_transform)");
    char *p = block + (64 - (uintptr_t)block % 64) % 64;
    elastic_job j = {
        .out = out, .in = in, .h = h, .w = w, .c = c, .ux = ux, .uy = uy, .alpha = alpha,
        .sigma_y = sigma_y, .sigma_x = sigma_x, .ry = ry, .rx = rx,
    };
    j.a = carve(&p, sizes[0]);
    j.warped = carve(&p, sizes[1]);
    j.gs.copy = j.a;
    j.gs.ext = carve(&p, sizes[2]);
    j.gs.k = carve(&p, sizes[3]);
    j.gs.idx = carve(&p, sizes[4]);
    j.gs.lo = carve(&p, sizes[5]);
    j.gs.hi = j.gs.lo + rmax + 1;
    int *deltas = carve(&p, sizes[6]);
    float *wtab = carve(&p, sizes[7]);
    j.rows = carve(&p, sizes[8]);
    double m[6];
    if (offsets) {
        /* Three points around the centre, as OpenCV (x, y) pairs:
         * (cy+s, cx+s), (cy+s, cx-s), (cy-s, cx-s), moved by `offsets`. */
        float cy = (float)(h / 2), cx = (float)(w / 2);
        float s = (float)((h < w ? h : w) / 3);
        float src[3][2] = {{cy + s, cx + s}, {cy + s, cx - s}, {cy - s, cx - s}};
        float dst[3][2];
        for (int i = 0; i < 3; i++)
            for (int k = 0; k < 2; k++)
                dst[i][k] = src[i][k] + offsets[2 * i + k];
        affine_from_points(m, (const float(*)[2])src, (const float(*)[2])dst);
        warp_invert(m, deltas, deltas + w, w);
        warp_weights(wtab);
        j.m = m;
        j.adelta = deltas;
        j.bdelta = deltas + w;
        j.wtab = wtab;
    }
    elastic_run(&j);
    free(block);
    return 0;
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

/* Pillow's BOX downscale along one axis, in -> out <= in (ImagingResample's
 * coefficients for the box filter): output i takes the inputs whose weights
 * box((j + 0.5 - centre) * ss) are 1 - a run of count[i] from start[i] -
 * each with the same 22-bit coefficient coef[i] = round(2^22 / count), so
 * Pillow's sum 2^21 + sum_j p_j coef (the other taps weigh 0) is
 * 2^21 + coef * sum_j p_j, exactly, in int32. */
static void box_down_table(int *start, int *count, int32_t *coef, int in_size, int out_size)
{
    double scale = (double)in_size / out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = 0.5 * filterscale, ss = 1.0 / filterscale;
    for (int i = 0; i < out_size; i++) {
        double center = (i + 0.5) * scale;
        int xmin = (int)(center - support + 0.5);
        if (xmin < 0)
            xmin = 0;
        int xmax = (int)(center + support + 0.5);
        if (xmax > in_size)
            xmax = in_size;
        int first = xmin, n = 0;
        for (int x = xmin; x < xmax; x++) {
            double t = (x - center + 0.5) * ss;
            if (t > -0.5 && t <= 0.5) {
                if (n == 0)
                    first = x;
                n++;
            }
        }
        double k = n > 0 ? 1.0 / (double)n : 0.0;
        double v = k * (1 << 22);
        start[i] = first;
        count[i] = n;
        coef[i] = (int32_t)(v + 0.5);
    }
}

/* Pillow's rounding of a resampling sum to 8 bits. */
static inline uint8_t box_round(int32_t coef, uint32_t sum)
{
    int32_t v = (int32_t)((1 << 21) + coef * (int32_t)sum) >> 22;
    return v > 255 ? 255 : (uint8_t)v;
}

/* Everything pixelate_body needs (see sa__pixelate). */
typedef struct pixelate_job {
    const uint8_t *in;
    uint8_t *out, *mid, *small;
    uint32_t *acc;
    int W, H, c, nw, nh;
    const int32_t *hs, *hn, *hk, *vs, *vn, *vk, *tx, *ty;
} pixelate_job;

/* Horizontal box pass of one row, c channels, scalar. */
GEOM_INLINE void box_row(uint8_t *o, const uint8_t *row, int c, int nw, const int32_t *hs,
                         const int32_t *hn, const int32_t *hk)
{
    if (c == 3) {
        for (int i = 0; i < nw; i++, o += 3) {
            const uint8_t *p = row + (size_t)hs[i] * 3;
            uint32_t s0 = 0, s1 = 0, s2 = 0;
            for (int t = 0; t < hn[i]; t++, p += 3) {
                s0 += p[0];
                s1 += p[1];
                s2 += p[2];
            }
            o[0] = box_round(hk[i], s0);
            o[1] = box_round(hk[i], s1);
            o[2] = box_round(hk[i], s2);
        }
        return;
    }
    for (int i = 0; i < nw; i++)
        for (int k = 0; k < c; k++) {
            const uint8_t *p = row + (size_t)hs[i] * c + k;
            uint32_t sum = 0;
            for (int t = 0; t < hn[i]; t++)
                sum += p[(size_t)t * c];
            o[(size_t)i * c + k] = box_round(hk[i], sum);
        }
}

#ifdef GEOM_X86_VARIANTS
/* box_row for c == 3 with AVX2 on `nrows` rows (in_stride and out_stride
 * bytes apart): the (at most 5) pixels of a run are read as 16 bytes,
 * shuffled into channel groups and summed with psadbw, two runs at a time;
 * the sums are rounded together. From the first run longer than 5 pixels,
 * or whose 16 bytes would pass `end`, and for the last run of the row
 * (whose spare byte would have no successor), runs take the scalar path. */
static inline __attribute__((always_inline, target("avx2"))) void
box_rows3_avx2(uint8_t *o, const uint8_t *row, int nw, const int32_t *hs, const int32_t *hn,
               const int32_t *hk, const uint8_t *end, int nrows, size_t in_stride,
               size_t out_stride)
{
    /* per run length n = 1..5: channels 0 and 1 to the two halves, and
     * channel 2 to the low half; -1 (0x80) bytes give 0 */
    static const int8_t mask01[6][16] = {
        {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1},
        {0, -1, -1, -1, -1, -1, -1, -1, 1, -1, -1, -1, -1, -1, -1, -1},
        {0, 3, -1, -1, -1, -1, -1, -1, 1, 4, -1, -1, -1, -1, -1, -1},
        {0, 3, 6, -1, -1, -1, -1, -1, 1, 4, 7, -1, -1, -1, -1, -1},
        {0, 3, 6, 9, -1, -1, -1, -1, 1, 4, 7, 10, -1, -1, -1, -1},
        {0, 3, 6, 9, 12, -1, -1, -1, 1, 4, 7, 10, 13, -1, -1, -1},
    };
    static const int8_t mask2[6][16] = {
        {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1},
        {2, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1},
        {2, 5, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1},
        {2, 5, 8, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1},
        {2, 5, 8, 11, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1},
        {2, 5, 8, 11, 14, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1},
    };
    const __m256i zero = _mm256_setzero_si256(), half = _mm256_set1_epi32(1 << 21);
    const __m256i top = _mm256_set1_epi32(255);
    int i = 0;
    /* two runs per step, one per 128-bit lane */
    for (; i + 2 < nw; i += 2) {
        const uint8_t *p0 = row + (size_t)hs[i] * 3, *p1 = row + (size_t)hs[i + 1] * 3;
        const int n0 = hn[i], n1 = hn[i + 1];
        if (n0 > 5 || n1 > 5 || p1 + (size_t)(nrows - 1) * in_stride + 16 > end)
            break;
        /* the shuffles and coefficients serve every row */
        const __m256i m01 = _mm256_loadu2_m128i((const __m128i *)mask01[n1],
                                                (const __m128i *)mask01[n0]);
        const __m256i m2 = _mm256_loadu2_m128i((const __m128i *)mask2[n1],
                                               (const __m128i *)mask2[n0]);
        const __m256i k = _mm256_set_m128i(_mm_set1_epi32(hk[i + 1]), _mm_set1_epi32(hk[i]));
        for (int y = 0; y < nrows; y++) {
            const __m256i v = _mm256_loadu2_m128i((const __m128i *)(p1 + y * in_stride),
                                                  (const __m128i *)(p0 + y * in_stride));
            const __m256i s01 = _mm256_sad_epu8(_mm256_shuffle_epi8(v, m01), zero);
            const __m256i s2 = _mm256_sad_epu8(_mm256_shuffle_epi8(v, m2), zero);
            /* per lane: s0, s1, s2 (as 32-bit) */
            const __m256i sum = _mm256_unpacklo_epi64(_mm256_shuffle_epi32(s01, 0x08), s2);
            __m256i r = _mm256_srai_epi32(_mm256_add_epi32(half, _mm256_mullo_epi32(sum, k)), 22);
            r = _mm256_min_epi32(r, top);
            r = _mm256_packus_epi16(_mm256_packus_epi32(r, r), r);
            /* four bytes per run; the second store overwrites the first's spare */
            int32_t b0 = _mm256_cvtsi256_si32(r), b1 = _mm256_extract_epi32(r, 4);
            uint8_t *d = o + y * out_stride + (size_t)i * 3;
            memcpy(d, &b0, 4);
            memcpy(d + 3, &b1, 4);
        }
    }
    for (int y = 0; y < nrows; y++)
        box_row(o + y * out_stride + (size_t)i * 3, row + y * in_stride, 3, nw - i, hs + i, hn + i,
                hk + i);
}

/* The horizontal pass for c == 3 with AVX-512 VBMI, rows y0 .. y1 - 1 of
 * the job, eight runs at a time from one 64-byte load per row: three
 * byte permutes (zeroing the unused bytes) put each of the 24 channel
 * runs in its own 8-byte group, psadbw sums the groups, vpmuludq and a
 * shift round them as box_round does (the sum * coef stays below 2^31 and
 * the result below 256 for runs of at most 8, coef <= 2^22 / n + 1/2),
 * and a last byte permute packs them. The permutes depend on the runs only, so they
 * are built once per group of eight for every row. Groups whose pixels
 * span more than 64 bytes, or whose load would pass `end`, and the runs
 * after the last whole group take box_row. */
typedef struct box_group8 {
    __m512i idx[3], k[3];
    __mmask64 keep[3];
} box_group8;

__attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi"))) static void
box_pass3_vbmi(uint8_t *mid, const uint8_t *in, int W, int nw, int y0, int y1, const int32_t *hs,
               const int32_t *hn, const int32_t *hk, const uint8_t *end)
{
    enum { CHUNK = 32 }; /* groups per pass over the rows */
    box_group8 g[CHUNK];
    int ok[CHUNK];
    const size_t in_row = (size_t)W * 3, out_row = (size_t)nw * 3;
    const int groups = nw / 8;
    for (int g0 = 0; g0 < groups; g0 += CHUNK) {
        const int ng = groups - g0 < CHUNK ? groups - g0 : CHUNK;
        for (int q = 0; q < ng; q++) {
            const int i = (g0 + q) * 8;
            ok[q] = (hs[i + 7] + hn[i + 7] - hs[i]) * 3 <= 64;
            for (int r = 0; r < 8; r++)
                ok[q] &= hn[i + r] <= 8;
            if (!ok[q])
                continue;
            uint8_t idx[3][64];
            uint64_t keep[3] = {0, 0, 0};
            memset(idx, 0, sizeof idx);
            for (int r = 0; r < 8; r++)
                for (int ch = 0; ch < 3; ch++) {
                    const int slot = 3 * r + ch; /* its 8-byte group */
                    for (int t = 0; t < hn[i + r]; t++) {
                        const int b = (slot % 8) * 8 + t;
                        idx[slot / 8][b] = (uint8_t)((hs[i + r] - hs[i] + t) * 3 + ch);
                        keep[slot / 8] |= (uint64_t)1 << b;
                    }
                }
            int64_t k[3][8]; /* group 8 z + l belongs to run (8 z + l) / 3 */
            for (int z = 0; z < 3; z++)
                for (int l = 0; l < 8; l++)
                    k[z][l] = hk[i + (8 * z + l) / 3];
            for (int z = 0; z < 3; z++) {
                g[q].idx[z] = _mm512_loadu_si512(idx[z]);
                g[q].k[z] = _mm512_loadu_si512(k[z]);
                g[q].keep[z] = (__mmask64)keep[z];
            }
        }
        const __m512i zero = _mm512_setzero_si512(), half = _mm512_set1_epi64(1 << 21);
        uint8_t ord[64] = {0};
        for (int t = 0; t < 24; t++)
            ord[t] = (uint8_t)(8 * (t % 8) + t / 8);
        const __m512i order = _mm512_loadu_si512(ord);
        for (int y = y0; y < y1; y++) {
            const uint8_t *row = in + (size_t)y * in_row;
            uint8_t *o = mid + (size_t)y * out_row;
            for (int q = 0; q < ng; q++) {
                const int i = (g0 + q) * 8;
                const uint8_t *p = row + (size_t)hs[i] * 3;
                if (!ok[q] || p + 64 > end) {
                    box_row(o + (size_t)i * 3, row, 3, 8, hs + i, hn + i, hk + i);
                    continue;
                }
                const __m512i v = _mm512_loadu_si512(p);
                __m512i r[3];
                for (int z = 0; z < 3; z++) {
                    const __m512i sel = _mm512_maskz_permutexvar_epi8(g[q].keep[z], g[q].idx[z], v);
                    const __m512i sum = _mm512_sad_epu8(sel, zero);
                    r[z] = _mm512_srli_epi64(_mm512_add_epi64(half, _mm512_mul_epu32(sum, g[q].k[z])), 22);
                }
                /* slot 8 z + l sits in byte z of 64-bit lane l: one permute
                 * puts the 24 bytes in slot order */
                const __m512i all = _mm512_or_si512(
                    r[0], _mm512_or_si512(_mm512_slli_epi64(r[1], 8), _mm512_slli_epi64(r[2], 16)));
                _mm512_mask_storeu_epi8(o + (size_t)i * 3, (__mmask64)0xffffff,
                                        _mm512_permutexvar_epi8(order, all));
            }
        }
    }
    for (int y = y0; y < y1; y++)
        box_row(mid + (size_t)y * out_row + (size_t)groups * 24, in + (size_t)y * in_row, 3,
                nw - groups * 8, hs + groups * 8, hn + groups * 8, hk + groups * 8);
}

/* The upscale with AVX-512 VBMI: output byte b of a row is small-row byte
 * tx[b / c] c + b % c, and tx does not decrease, so each 64 output bytes
 * come from at most 64 consecutive source bytes: one byte permute per 64
 * bytes, with indices built once for every row (masked loads and stores at
 * the ends). Returns 0, leaving the work to the caller, when a chunk's
 * sources span more than 64 bytes or the row has over 64 chunks. */
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi"))) static int
expand_vbmi(uint8_t *out, const uint8_t *small, size_t small_bytes, size_t rowlen,
            const int32_t *tx, const int32_t *ty, int W, int H, int c)
{
    enum { MAXCH = 64 };
    const size_t orow = (size_t)W * c;
    const size_t nch = (orow + 63) / 64;
    if (nch > MAXCH)
        return 0;
    __m512i idx[MAXCH];
    size_t base[MAXCH];
    for (size_t q = 0; q < nch; q++) {
        uint8_t id[64] = {0};
        base[q] = (size_t)tx[(64 * q) / (size_t)c] * (size_t)c;
        for (size_t t = 0; t < 64 && 64 * q + t < orow; t++) {
            const size_t b = 64 * q + t;
            const size_t src = (size_t)tx[b / (size_t)c] * (size_t)c + b % (size_t)c;
            if (src < base[q] || src - base[q] >= 64)
                return 0;
            id[t] = (uint8_t)(src - base[q]);
        }
        idx[q] = _mm512_loadu_si512(id);
    }
    const uint8_t *small_end = small + small_bytes;
    const __mmask64 last = orow % 64 ? (__mmask64)(((uint64_t)1 << (orow % 64)) - 1) : ~(__mmask64)0;
    for (int y = 0; y < H; y++) {
        uint8_t *o = out + (size_t)y * orow;
        if (y > 0 && ty[y] == ty[y - 1]) {
            memcpy(o, o - orow, orow);
            continue;
        }
        const uint8_t *srow = small + (size_t)ty[y] * rowlen;
        for (size_t q = 0; q < nch; q++) {
            const uint8_t *p = srow + base[q];
            const size_t avail = (size_t)(small_end - p);
            const __mmask64 lm = avail >= 64 ? ~(__mmask64)0 : (__mmask64)(((uint64_t)1 << avail) - 1);
            const __m512i v = _mm512_permutexvar_epi8(idx[q], _mm512_maskz_loadu_epi8(lm, p));
            _mm512_mask_storeu_epi8(o + 64 * q, q + 1 == nch ? last : ~(__mmask64)0, v);
        }
    }
    return 1;
}

/* box_col_avx2 with AVX-512: 32 columns at a time, masked at the end of
 * the row; the unsigned saturating narrowing is box_round's clamp (the
 * results are not negative). Sums stay in 16 bits for n <= 257. */
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi"))) static void
box_col_avx512(uint8_t *o, const uint8_t *r0, size_t len, int n, int32_t coef)
{
    const __m512i half = _mm512_set1_epi32(1 << 21), k = _mm512_set1_epi32(coef);
    for (size_t x = 0; x < len; x += 32) {
        const __mmask32 m = len - x >= 32 ? ~(__mmask32)0 : (__mmask32)((1u << (len - x)) - 1u);
        __m512i s = _mm512_setzero_si512();
        for (int t = 0; t < n; t++)
            s = _mm512_add_epi16(s, _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(m, r0 + (size_t)t * len + x)));
        __m512i lo = _mm512_cvtepu16_epi32(_mm512_castsi512_si256(s));
        __m512i hi = _mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(s, 1));
        lo = _mm512_srai_epi32(_mm512_add_epi32(half, _mm512_mullo_epi32(lo, k)), 22);
        hi = _mm512_srai_epi32(_mm512_add_epi32(half, _mm512_mullo_epi32(hi, k)), 22);
        const __m256i b = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm512_cvtusepi32_epi8(lo)),
                                                  _mm512_cvtusepi32_epi8(hi), 1);
        _mm256_mask_storeu_epi8(o + x, m, b);
    }
}

/* box_rows3_avx2 on two rows, and on one. */
__attribute__((target("avx2"))) static void box_rows3x2_avx2(uint8_t *o, const uint8_t *row, int nw,
                                                              const int32_t *hs, const int32_t *hn,
                                                              const int32_t *hk, const uint8_t *end,
                                                              size_t in_stride, size_t out_stride)
{
    box_rows3_avx2(o, row, nw, hs, hn, hk, end, 2, in_stride, out_stride);
}

__attribute__((target("avx2"))) static void box_rows3x1_avx2(uint8_t *o, const uint8_t *row, int nw,
                                                              const int32_t *hs, const int32_t *hn,
                                                              const int32_t *hk, const uint8_t *end)
{
    box_rows3_avx2(o, row, nw, hs, hn, hk, end, 1, 0, 0);
}
/* Vertical box pass of one output row: column sums of n rows of len
 * bytes from r0 (rows len apart), 16 at a time in 16-bit lanes, rounded in
 * 32-bit lanes as box_round does. */
__attribute__((target("avx2"))) static void box_col_avx2(uint8_t *o, const uint8_t *r0, size_t len,
                                                          int n, int32_t coef)
{
    const __m256i half = _mm256_set1_epi32(1 << 21), k = _mm256_set1_epi32(coef);
    const __m256i top = _mm256_set1_epi32(255);
    size_t x = 0;
    for (; x + 16 <= len; x += 16) {
        __m256i s = _mm256_setzero_si256();
        for (int t = 0; t < n; t++)
            s = _mm256_add_epi16(s, _mm256_cvtepu8_epi16(
                                        _mm_loadu_si128((const __m128i *)(r0 + (size_t)t * len + x))));
        __m256i lo = _mm256_cvtepu16_epi32(_mm256_castsi256_si128(s));
        __m256i hi = _mm256_cvtepu16_epi32(_mm256_extracti128_si256(s, 1));
        lo = _mm256_min_epi32(_mm256_srai_epi32(_mm256_add_epi32(half, _mm256_mullo_epi32(lo, k)), 22), top);
        hi = _mm256_min_epi32(_mm256_srai_epi32(_mm256_add_epi32(half, _mm256_mullo_epi32(hi, k)), 22), top);
        __m256i w = _mm256_permute4x64_epi64(_mm256_packus_epi32(lo, hi), 0xd8);
        __m128i b = _mm_packus_epi16(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));
        _mm_storeu_si128((__m128i *)(o + x), b);
    }
    for (; x < len; x++) {
        uint32_t sum = 0;
        for (int t = 0; t < n; t++)
            sum += r0[(size_t)t * len + x];
        o[x] = box_round(coef, sum);
    }
}
/* Output row o[x] = srow[tx[x]] for 3-byte pixels, eight at a time with
 * a gather of 4-byte words (srow has one readable byte past its last
 * pixel) compacted to 24 bytes; each 16-byte store's spare bytes are
 * overwritten by the next. Returns the first x left to the caller. */
__attribute__((target("avx2"))) static int expand_row3_avx2(uint8_t *o, const uint8_t *srow,
                                                             const int32_t *tx, int W)
{
    const __m256i pick = _mm256_setr_epi8(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1,
                                          0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1);
    const __m256i three = _mm256_set1_epi32(3);
    int x = 0;
    for (; x + 10 <= W; x += 8) {
        __m256i idx = _mm256_mullo_epi32(_mm256_loadu_si256((const __m256i *)(tx + x)), three);
        __m256i g = _mm256_i32gather_epi32((const int *)srow, idx, 1);
        g = _mm256_shuffle_epi8(g, pick);
        _mm_storeu_si128((__m128i *)(o + (size_t)x * 3), _mm256_castsi256_si128(g));
        _mm_storeu_si128((__m128i *)(o + (size_t)x * 3 + 12), _mm256_extracti128_si256(g, 1));
    }
    return x;
}

#endif

GEOM_INLINE void pixelate_body(const pixelate_job *j, int avx2)
{
    const int W = j->W, c = j->c, nw = j->nw, nh = j->nh;
    const uint8_t *end = j->in + (size_t)j->H * W * c;
    /* Horizontal pass, into 8 bits, over the rows the vertical runs cover. */
    const int y0 = j->vs[0], y1 = j->vs[nh - 1] + j->vn[nh - 1];
#ifdef GEOM_X86_VARIANTS
    if (avx2 == 2 && c == 3)
        box_pass3_vbmi(j->mid, j->in, W, nw, y0, y1, j->hs, j->hn, j->hk, end);
    for (int y = avx2 == 2 && c == 3 ? y1 : y0; y < y1; y++) {
#else
    for (int y = y0; y < y1; y++) {
#endif
        const uint8_t *row = j->in + (size_t)y * W * c;
        uint8_t *o = j->mid + (size_t)y * nw * c;
#ifdef GEOM_X86_VARIANTS
        if (avx2 && c == 3) {
            /* two rows at a time where there are two */
            const int two = y + 1 < y1;
            if (two)
                box_rows3x2_avx2(o, row, nw, j->hs, j->hn, j->hk, end, (size_t)W * 3,
                                 (size_t)nw * 3);
            else
                box_rows3x1_avx2(o, row, nw, j->hs, j->hn, j->hk, end);
            y += two;
            continue;
        }
#endif
        (void)avx2;
        (void)end;
        box_row(o, row, c, nw, j->hs, j->hn, j->hk);
    }
    /* Vertical pass: whole rows of sums, then the rounding. */
    const size_t rowlen = (size_t)nw * c;
    for (int i = 0; i < nh; i++) {
        const uint8_t *r0 = j->mid + (size_t)j->vs[i] * rowlen;
        uint8_t *o = j->small + (size_t)i * rowlen;
#ifdef GEOM_X86_VARIANTS
        if (avx2 == 2 && j->vn[i] <= 257) {
            box_col_avx512(o, r0, rowlen, j->vn[i], j->vk[i]);
            continue;
        }
        if (avx2) {
            box_col_avx2(o, r0, rowlen, j->vn[i], j->vk[i]);
            continue;
        }
#endif
        for (size_t x = 0; x < rowlen; x++) {
            uint32_t sum = 0;
            for (int t = 0; t < j->vn[i]; t++)
                sum += r0[(size_t)t * rowlen + x];
            o[x] = box_round(j->vk[i], sum);
        }
    }
    j->small[(size_t)nh * rowlen] = 0;
#ifdef GEOM_X86_VARIANTS
    if (avx2 == 2 &&
        expand_vbmi(j->out, j->small, (size_t)nh * rowlen + 1, rowlen, j->tx, j->ty, W, j->H, c))
        return;
#endif
    /* Upscale: each output row repeats a small row through tx; equal
     * neighbouring rows are copied. */
    const size_t orow = (size_t)W * c;
    for (int y = 0; y < j->H; y++) {
        uint8_t *o = j->out + (size_t)y * orow;
        if (y > 0 && j->ty[y] == j->ty[y - 1]) {
            memcpy(o, o - orow, orow);
            continue;
        }
        const uint8_t *srow = j->small + (size_t)j->ty[y] * rowlen;
        if (c == 3) {
            int x = 0;
#ifdef GEOM_X86_VARIANTS
            if (avx2)
                x = expand_row3_avx2(o, srow, j->tx, W);
#endif
            /* four bytes per pixel, the fourth overwritten by the next */
            for (; x < W - 1; x++)
                memcpy(o + (size_t)x * 3, srow + (size_t)j->tx[x] * 3, 4);
            memcpy(o + (size_t)(W - 1) * 3, srow + (size_t)j->tx[W - 1] * 3, 3);
        } else {
            for (int x = 0; x < W; x++)
                memcpy(o + (size_t)x * c, srow + (size_t)j->tx[x] * c, (size_t)c);
        }
    }
}

static void pixelate_run_base(const pixelate_job *j)
{
    pixelate_body(j, 0);
}

#ifdef GEOM_X86_VARIANTS
__attribute__((target("avx2"))) static void pixelate_run_avx2(const pixelate_job *j)
{
    pixelate_body(j, 1);
}

#ifndef SA_CPU_MAX_AVX2
/* The AVX2 kernels with the horizontal pass in AVX-512 VBMI. */
__attribute__((target("avx2"))) static void pixelate_run_vbmi(const pixelate_job *j)
{
    pixelate_body(j, 2);
}
#endif
#endif

int sa__pixelate(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err)
{
    (void)opt;
    (void)rng;
    const double cf = pixelate_c[table == SA_PARAMS_CIFAR][severity - 1];
    const int W = in->w, H = in->h, c = in->c;
    int nw = (int)(W * cf), nh = (int)(H * cf);
    if (nw < 1)
        nw = 1;
    if (nh < 1)
        nh = 1;
    /* Tables: horizontal and vertical box runs, upscale indices; then the
     * 8-bit horizontal pass (H rows) and the small image (one spare byte
     * for 4-byte copies). */
    const size_t tab_ints = 3 * (size_t)nw + 3 * (size_t)nh + (size_t)W + (size_t)H;
    const size_t mid_bytes = (size_t)H * nw * c, small_bytes = (size_t)nh * nw * c + 1;
    char *block = malloc(sizeof(int32_t) * tab_ints + mid_bytes + small_bytes);
    if (!block)
        return sa_error_set(err, SA_ENOMEM, "corrupt", "out of memory (pixelate)");
    pixelate_job j = {.in = in->data, .out = out->data, .W = W, .H = H, .c = c, .nw = nw, .nh = nh};
    int32_t *hs = (int32_t *)block, *hn = hs + nw, *hk = hn + nw;
    int32_t *vs = hk + nw, *vn = vs + nh, *vk = vn + nh;
    int32_t *tx = vk + nh, *ty = tx + W;
    j.mid = (uint8_t *)(ty + H);
    j.small = j.mid + mid_bytes;
    box_down_table(hs, hn, hk, W, nw);
    box_down_table(vs, vn, vk, H, nh);
    if (table != SA_PARAMS_ANY) {
        /* hendrycks: BOX upscale, which copies input int((i + 0.5) n / N). */
        box_up_table(tx, nw, W);
        box_up_table(ty, nh, H);
    } else {
        nearest_table(tx, nw, W);
        nearest_table(ty, nh, H);
    }
    j.hs = hs;
    j.hn = hn;
    j.hk = hk;
    j.vs = vs;
    j.vn = vn;
    j.vk = vk;
    j.tx = tx;
    j.ty = ty;
#ifdef GEOM_X86_VARIANTS
#ifndef SA_CPU_MAX_AVX2
    if (__builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl"))
        pixelate_run_vbmi(&j);
    else
#endif
        if (__builtin_cpu_supports("avx2"))
        pixelate_run_avx2(&j);
    else
#endif
        pixelate_run_base(&j);
    free(block);
    return 0;
}
