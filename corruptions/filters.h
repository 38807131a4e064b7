/* filters.h - building blocks shared by several corruptions (internal).
 *
 * Arrays are interleaved H x W x C (row-major, channel fastest), like
 * sa_image. Functions write `out` (which must not alias `in` unless stated),
 * allocate only their own scratch, and return 0 or an SA_E* code.
 * The numbers of each block are in the specification the corruptions follow
 * (README.md in this directory names the sections).
 */
#ifndef SA_CORRUPTIONS_FILTERS_H
#define SA_CORRUPTIONS_FILTERS_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "error.h"
#include "rng.h"

typedef enum sa__border {
    SA__BORDER_NEAREST = 0,  /* a a | a b c      (edge replicate) */
    SA__BORDER_REFLECT,      /* b a | a b c      (half-sample symmetric) */
    SA__BORDER_REFLECT101,   /* c b | a b c      (edge not repeated) */
} sa__border;

/* Map an out-of-range index into [0, n) with the given border rule
 * (repeatedly, for offsets larger than the array). */
static inline int sa__border_index(int i, int n, sa__border border)
{
    if (i >= 0 && i < n)
        return i;
    if (n <= 1)
        return 0;
    switch (border) {
    case SA__BORDER_NEAREST:
        return i < 0 ? 0 : n - 1;
    case SA__BORDER_REFLECT: {
        long p = 2L * n;
        long j = i % p;
        if (j < 0)
            j += p;
        return (int)(j < n ? j : p - 1 - j);
    }
    case SA__BORDER_REFLECT101:
    default: {
        long p = 2L * n - 2;
        long j = i % p;
        if (j < 0)
            j += p;
        return (int)(j < n ? j : p - j);
    }
    }
}

/* Separable Gaussian filter over the H and W axes (scipy.ndimage
 * gaussian_filter): 1-D kernel exp(-j^2 / (2 sigma^2)), j = -r..r,
 * r = floor(truncate * sigma + 0.5), normalised to sum 1; an axis with
 * sigma <= 1e-15 is copied unchanged. `out` may equal `in`. */
int sa__gaussian_filter_f64(double *out, const double *in, int h, int w, int c, double sigma,
                            double truncate, sa__border border, sa_error *err);
/* The same filter from 8-bit data to 8-bit data: out =
 * trunc(clip(G(in / 255), 0, 1) * 255) with the float64 filter above, the
 * 8-bit steps done strip by strip and row by row (no float64 image).
 * `out` may equal `in`. */
int sa__gaussian_filter_u8(uint8_t *out, const uint8_t *in, int h, int w, int c, double sigma,
                           double truncate, sa__border border, sa_error *err);
int sa__gaussian_filter_f32(float *out, const float *in, int h, int w, int c, double sigma,
                            double truncate, sa__border border, sa_error *err);

/* clipped_zoom of an h x w x c float array by factor z (hendrycks): centred
 * crop of ceil(n / z), bilinear corner-aligned resize to round(ch * z),
 * centred trim back to h x w. */
int sa__clipped_zoom_f32(float *out, const float *in, int h, int w, int c, double z, sa_error *err);
int sa__clipped_zoom_f64(double *out, const double *in, int h, int w, int c, double z,
                         sa_error *err);

/* ImageMagick MotionBlurImage kernel (radius, sigma, angle in degrees) on
 * 8-bit data, with ImageMagick's quantisation (hendrycks). */
int sa__motion_blur_u8(uint8_t *out, const uint8_t *in, int h, int w, int c, double radius,
                       double sigma, double angle_deg, sa_error *err);

/* out[i] = x[i] * scale clipped to [0, 255] and truncated (NaN gives 0):
 * with scale 255 on [0, 1] data, np.uint8(np.clip(x, 0, 1) * 255). */
void sa__store_u8(uint8_t *out, const double *x, size_t n, double scale);
/* x[i] = b[i] / 255 as float64 (the same doubles as the division). */
void sa__u8_to_unit(double *x, const uint8_t *b, size_t n);
/* x[i] = b[i] * scale (exact for 8-bit values and small integral scales). */
void sa__load_u8(double *x, const uint8_t *b, size_t n, double scale);

/* For the unit tests: the vector kernels of the 1-D and 2-D filters on
 * `lanes` doubles at a time (2, 4 or 8). sa__filter_lanes gives the count
 * that runs for a request: the widest this build and CPU have, at most
 * `lanes`. sa__tap_sums_lanes computes, for m < len, pair[m] = sum over p
 * of (pa[p][m] + pb[p][m]) * w[p], taps[m] = sum over p of w[p] * pa[p][m]
 * (both in p order from 0) and, for np > 0, sum[m] = pa[0][m] + pb[0][m];
 * sa__stores_u8_lanes computes trunc = sa__store_u8(x, n, scale) and
 * quantum[m] = ImageMagick's 8-bit sample of the Q16 quantum of x[m]
 * (motion blur's output). Both return the lane count run. */
int sa__filter_lanes(int lanes);
int sa__tap_sums_lanes(double *pair, double *taps, double *sum, const double *const *pa,
                       const double *const *pb, const double *w, int np, size_t len, int lanes);
/* sa__int_sums_lanes: sum[m] = sum over groups g < ng, in order, of
 * (double)G_g[m] * w[g], G_g[m] the integer sum over p in [gs[g], gs[g + 1])
 * of row[ra[p]][off[p] + m] + row[rb[p]][off[p] + m] (below 2^16), and
 * fold[m] = a[m] + b[m] (a[m] when a == b), for m < len; returns the lane
 * count run. */
int sa__int_sums_lanes(double *sum, uint16_t *fold, const uint16_t *const *row, const int *ra,
                       const int *rb, const size_t *off, const double *w, const int *gs, int ng,
                       const uint8_t *a, const uint8_t *b, size_t len, int lanes);
int sa__stores_u8_lanes(uint8_t *trunc, uint8_t *quantum, const double *x, size_t n, double scale,
                        int lanes);

/* n draws uniform on [lo, hi) (lo < hi, hi - lo <= 2^31) without a call per
 * draw. The numpy kind gives the numbers of n successive
 * sa_rng_randint(r, lo, hi) calls, in order; the fast kind gives the same
 * law (independent, uniform) from fewer generator words, a different
 * stream. */
void sa__randint_fill(sa_rng *r, int *out, size_t n, int lo, int hi);

/* n doubles on a 64-byte boundary (rows of widths that are multiples of
 * eight values then start on cache lines, so whole-row vector loads do not
 * straddle two lines); NULL when out of memory. Caller frees with
 * sa__free_f64. (malloc with the offset kept in the byte before the block:
 * glibc's aligned_alloc maps and unmaps large blocks on every call.) */
static inline double *sa__alloc_f64(size_t n)
{
    unsigned char *raw = malloc((n ? n : 1) * sizeof(double) + 64);
    if (!raw)
        return NULL;
    const size_t off = 64 - ((uintptr_t)raw & 63); /* 1 .. 64 */
    raw[off - 1] = (unsigned char)off;
    return (double *)(void *)(raw + off);
}

/* Frees what sa__alloc_f64 returned; NULL is a no-op. */
static inline void sa__free_f64(double *p)
{
    if (p) {
        unsigned char *q = (unsigned char *)p;
        free(q - q[-1]);
    }
}

/* ---- variants and lower-level pieces ------------------------------------------ */

/* What clipped_zoom keeps of the zoomed crop: the centred h x w window
 * (hendrycks) or the top-left one (imagecorruptions). Both crop each axis
 * separately (ceil(h / z) rows, ceil(w / z) columns). */
typedef enum sa__zoom_trim {
    SA__ZOOM_TRIM_CENTRED = 0,
    SA__ZOOM_TRIM_TOPLEFT,
} sa__zoom_trim;

/* clipped_zoom with an explicit trim rule; z >= 1. `out` must not alias
 * `in`. Output positions whose corner-aligned source coordinate lands past
 * the last input row or column by rounding are 0, as scipy's zoom (mode
 * 'constant') makes them. */
int sa__clipped_zoom_ex_f32(float *out, const float *in, int h, int w, int c, double z,
                            sa__zoom_trim trim, sa_error *err);
int sa__clipped_zoom_ex_f64(double *out, const double *in, int h, int w, int c, double z,
                            sa__zoom_trim trim, sa_error *err);

/* acc += clipped_zoom(in) (the zoomed value rounded to the array type first,
 * then added in that type), without a temporary image. */
int sa__clipped_zoom_add_f32(float *acc, const float *in, int h, int w, int c, double z,
                             sa__zoom_trim trim, sa_error *err);
int sa__clipped_zoom_add_f64(double *acc, const double *in, int h, int w, int c, double z,
                             sa__zoom_trim trim, sa_error *err);
/* sa__clipped_zoom_add_f32 with the float32 input values already held as
 * float64 (saves converting them on every call). */
int sa__clipped_zoom_add_f32_wide(float *acc, const double *in, int h, int w, int c, double z,
                                  sa__zoom_trim trim, sa_error *err);

/* Size of the zoomed crop along one axis of length n: crop ch = ceil(n / z),
 * zoomed size round-half-even(ch * z). */
void sa__clipped_zoom_sizes(int n, double z, int *crop, int *zoomed);

/* Motion blur with imagecorruptions' numpy re-implementation: the same
 * kernel and offsets as ImageMagick, accumulated in float64 without any
 * quantisation, taps stop once an offset reaches the image size; `out` is
 * the raw weighted sum (not clipped). `out` must not alias `in`. */
int sa__motion_blur_f64(double *out, const double *in, int h, int w, int c, double radius,
                        double sigma, double angle_deg, sa_error *err);
/* The same on 8-bit data: clip to [0, 255] and truncate (imagecorruptions). */
int sa__motion_blur_u8_float(uint8_t *out, const uint8_t *in, int h, int w, int c,
                             double radius, double sigma, double angle_deg, sa_error *err);

/* Motion-blur taps (radius > 0): width 2 * ceil(radius) + 1, normalised
 * one-sided Gaussian weights k[i] and offsets (dx[i], dy[i]) (column, row)
 * as ImageMagick computes them; output (x, y) sums k[i] * in(x + dx[i],
 * y + dy[i]). Arrays must hold sa__motion_kernel_width(radius) entries. */
int sa__motion_kernel_width(double radius);
void sa__motion_kernel(double *k, int *dx, int *dy, double radius, double sigma,
                       double angle_deg);

/* Anti-aliased disk of defocus blur (float32, as the reference builds it):
 * a (2R+1) x (2R+1) kernel, R = 8 for radius <= 8 else radius; returns R
 * through *half. `k` must hold (2R+1)^2 floats: call with k == NULL first to
 * get *half. */
int sa__disk_kernel(float *k, int *half, double radius, double alias_sigma, sa_error *err);

/* 2-D correlation y of an h x w x c 8-bit image divided by 255 with a
 * (2*kh+1) x (2*kw+1) float64 kernel (row-major, centre at (kh, kw)),
 * border reflect-101, like OpenCV filter2D, stored as
 * np.uint8(np.clip(y, 0, 1) * 255). It is computed in byte units (255 y):
 * the bytes under taps of equal weight are added as integers, exactly, and
 * each such sum is multiplied by its weight in double. OpenCV correlates
 * large kernels through a DFT, so the reference has no fixed summation
 * order either. `out` must not alias `in`. */
int sa__correlate2d_u8(uint8_t *out, const uint8_t *in, int h, int w, int c, const double *k,
                       int kh, int kw, sa_error *err);

#endif
