/* Shared filter blocks: Gaussian filter, clipped_zoom, motion-blur kernel,
 * anti-aliased disk and 2-D correlation.
 *
 * Each block follows the floating-point arithmetic of the library the
 * reference calls (scipy.ndimage, OpenCV, ImageMagick) closely enough that
 * the 8-bit results agree after the final truncation; the comments name the
 * operation order where it matters.
 */
#include "filters.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

/* Images below this many values are filtered on one thread: the team
 * start-up costs more than the work. */
#define PAR_MIN 16384

static int max_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

static int thread_id(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

static int nomem(sa_error *err, const char *where)
{
    return sa_error_set(err, SA_ENOMEM, "corrupt", "out of memory (%s)", where);
}

int sa__border_index(int i, int n, sa__border border)
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

/* numpy's pairwise summation of a float64 array (np.sum), which the
 * reference uses to normalise kernels: eight interleaved partial sums for
 * blocks of up to 128 values, recursive halving above. */
static double np_pairwise_sum(const double *a, size_t n)
{
    if (n < 8) {
        double s = 0.0;
        for (size_t i = 0; i < n; i++)
            s += a[i];
        return s;
    }
    if (n <= 128) {
        double r[8];
        for (int j = 0; j < 8; j++)
            r[j] = a[j];
        size_t i;
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++)
                r[j] += a[i + j];
        double s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++)
            s += a[i];
        return s;
    }
    size_t n2 = n / 2;
    n2 -= n2 % 8;
    return np_pairwise_sum(a, n2) + np_pairwise_sum(a + n2, n - n2);
}

/* ---- Gaussian filter ------------------------------------------------------ */

/* Half kernel w[0..r] of scipy's _gaussian_kernel1d: exp(-0.5 / sigma^2 * x^2)
 * over x = -r..r, divided by its (pairwise) sum. Caller frees. */
static double *gauss_half_kernel(double sigma, int r)
{
    size_t n = 2 * (size_t)r + 1;
    double *full = malloc(n * sizeof *full);
    double *half = malloc(((size_t)r + 1) * sizeof *half);
    if (!full || !half) {
        free(full);
        free(half);
        return NULL;
    }
    const double a = -0.5 / (sigma * sigma);
    for (size_t i = 0; i < n; i++) {
        double x = (double)((long)i - r);
        full[i] = exp(a * (x * x));
    }
    double s = np_pairwise_sum(full, n);
    for (int j = 0; j <= r; j++)
        half[j] = full[r + j] / s;
    free(full);
    return half;
}

/* scipy's symmetric correlate1d: acc = x[i] * w0, then the pairs from the
 * outermost inwards, acc += (x[i-j] + x[i+j]) * w[j]. The vertical pass runs
 * first (axis 0), then the horizontal one; each pass stores its result in
 * the array type (float32 rounds after every pass). Both passes vectorise
 * over contiguous values; the per-value operation order is unchanged. */
#define DEFINE_GAUSSIAN_FILTER(SUFFIX, T)                                                          \
    int sa__gaussian_filter_##SUFFIX(T *out, const T *in, int h, int w, int c, double sigma,      \
                                     double truncate, sa__border border, sa_error *err)           \
    {                                                                                              \
        const size_t rowlen = (size_t)w * (size_t)c;                                               \
        const size_t n = rowlen * (size_t)h;                                                       \
        if (!(sigma > 1e-15)) {                                                                    \
            if (out != in)                                                                         \
                memmove(out, in, n * sizeof *out);                                                 \
            return 0;                                                                              \
        }                                                                                          \
        double rr = floor(truncate * sigma + 0.5);                                                 \
        if (!(rr >= 0.0) || rr > 1e6)                                                              \
            return sa_error_set(err, SA_EINVAL, "corrupt",                                         \
                                "gaussian filter radius %g out of range (sigma %g)", rr, sigma);   \
        const int r = (int)rr;                                                                     \
        double *wt = gauss_half_kernel(sigma, r);                                                  \
        const int nt = n >= PAR_MIN ? max_threads() : 1;                                           \
        const size_t padlen = ((size_t)w + 2 * (size_t)r) * (size_t)c;                             \
        T *tmp = malloc(n * sizeof *tmp);                                                          \
        double *scratch = malloc((size_t)nt * (padlen + rowlen) * sizeof *scratch);                \
        if (!wt || !tmp || !scratch) {                                                             \
            free(wt);                                                                              \
            free(tmp);                                                                             \
            free(scratch);                                                                         \
            return nomem(err, "gaussian filter");                                                  \
        }                                                                                          \
        /* axis 0: rows of the input combine into rows of tmp */                                   \
        _Pragma("omp parallel for schedule(static) num_threads(nt)") for (int y = 0; y < h; y++)  \
        {                                                                                          \
            double *acc = scratch + (size_t)thread_id() * (padlen + rowlen);                       \
            const T *cr = in + (size_t)y * rowlen;                                                 \
            for (size_t m = 0; m < rowlen; m++)                                                    \
                acc[m] = (double)cr[m] * wt[0];                                                    \
            for (int j = r; j >= 1; j--) {                                                         \
                const T *a = in + (size_t)sa__border_index(y - j, h, border) * rowlen;             \
                const T *b = in + (size_t)sa__border_index(y + j, h, border) * rowlen;             \
                const double wj = wt[j];                                                           \
                for (size_t m = 0; m < rowlen; m++)                                                \
                    acc[m] += ((double)a[m] + (double)b[m]) * wj;                                  \
            }                                                                                      \
            T *dst = tmp + (size_t)y * rowlen;                                                     \
            for (size_t m = 0; m < rowlen; m++)                                                    \
                dst[m] = (T)acc[m];                                                                \
        }                                                                                          \
        /* axis 1: each row of tmp, padded by the border rule, into out */                         \
        _Pragma("omp parallel for schedule(static) num_threads(nt)") for (int y = 0; y < h; y++)  \
        {                                                                                          \
            double *pad = scratch + (size_t)thread_id() * (padlen + rowlen);                       \
            double *acc = pad + padlen;                                                            \
            const T *src = tmp + (size_t)y * rowlen;                                               \
            for (int x = -r; x < w + r; x++) {                                                     \
                const T *p = src + (size_t)sa__border_index(x, w, border) * (size_t)c;             \
                double *q = pad + (size_t)(x + r) * (size_t)c;                                     \
                for (int k = 0; k < c; k++)                                                        \
                    q[k] = (double)p[k];                                                           \
            }                                                                                      \
            const double *ctr = pad + (size_t)r * (size_t)c;                                       \
            for (size_t m = 0; m < rowlen; m++)                                                    \
                acc[m] = ctr[m] * wt[0];                                                           \
            for (int j = r; j >= 1; j--) {                                                         \
                const double *a = ctr - (size_t)j * (size_t)c;                                     \
                const double *b = ctr + (size_t)j * (size_t)c;                                     \
                const double wj = wt[j];                                                           \
                for (size_t m = 0; m < rowlen; m++)                                                \
                    acc[m] += (a[m] + b[m]) * wj;                                                  \
            }                                                                                      \
            T *dst = out + (size_t)y * rowlen;                                                     \
            for (size_t m = 0; m < rowlen; m++)                                                    \
                dst[m] = (T)acc[m];                                                                \
        }                                                                                          \
        free(wt);                                                                                  \
        free(tmp);                                                                                 \
        free(scratch);                                                                             \
        return 0;                                                                                  \
    }

DEFINE_GAUSSIAN_FILTER(f64, double)
DEFINE_GAUSSIAN_FILTER(f32, float)

/* ---- clipped_zoom --------------------------------------------------------- */

void sa__clipped_zoom_sizes(int n, double z, int *crop, int *zoomed)
{
    int ch = (int)ceil((double)n / z);
    *crop = ch;
    /* Python's round(): half to even, which nearbyint gives in the default
     * rounding mode. */
    *zoomed = (int)nearbyint((double)ch * z);
}

/* One axis of scipy.ndimage.zoom (order 1, mode 'constant', corner-aligned
 * grid) restricted to the kept output window: for kept output index o the
 * two source indices (relative to the crop start) and their weights.
 * valid[o] = 0 where the coordinate o * (ch - 1) / (M - 1) exceeds ch - 1 by
 * rounding: scipy then outputs its constant 0 there. */
typedef struct zoom_axis {
    int *i0, *i1;
    double *w0, *w1;
    unsigned char *valid;
} zoom_axis;

static void zoom_axis_free(zoom_axis *a)
{
    free(a->i0);
    free(a->i1);
    free(a->w0);
    free(a->w1);
    free(a->valid);
}

static int zoom_axis_init(zoom_axis *a, int n, double z, sa__zoom_trim trim)
{
    int ch, m;
    sa__clipped_zoom_sizes(n, z, &ch, &m);
    int top = (n - ch) / 2; /* n >= ch for z >= 1: floor division */
    int t0 = trim == SA__ZOOM_TRIM_CENTRED ? (m - n) / 2 : 0;
    a->i0 = malloc((size_t)n * sizeof *a->i0);
    a->i1 = malloc((size_t)n * sizeof *a->i1);
    a->w0 = malloc((size_t)n * sizeof *a->w0);
    a->w1 = malloc((size_t)n * sizeof *a->w1);
    a->valid = malloc((size_t)n);
    if (!a->i0 || !a->i1 || !a->w0 || !a->w1 || !a->valid) {
        zoom_axis_free(a);
        return -1;
    }
    /* numpy.divide(in - 1, out - 1), 1 where out == 1 */
    double zoom = m > 1 ? (double)(ch - 1) / (double)(m - 1) : 1.0;
    for (int o = 0; o < n; o++) {
        int oo = o + t0;
        /* Output rows past the zoomed size cannot happen for z >= 1
         * (m >= n); guard anyway. */
        double cc = (double)oo * zoom;
        if (oo >= m || cc > (double)(ch - 1)) {
            a->valid[o] = 0;
            a->i0[o] = a->i1[o] = top;
            a->w0[o] = a->w1[o] = 0.0;
            continue;
        }
        a->valid[o] = 1;
        double fl = floor(cc);
        int s = (int)fl;
        int s1 = s + 1;
        if (s1 >= ch) /* mirrored; its weight is 0 here */
            s1 = ch > 1 ? 2 * ch - 2 - s1 : 0;
        double x = cc - fl;
        a->w0[o] = 1.0 - x;
        a->w1[o] = 1.0 - a->w0[o];
        a->i0[o] = top + s;
        a->i1[o] = top + s1;
    }
    return 0;
}

/* Value at kept output (row o, column p): scipy's sum over the 2 x 2 (x the
 * channel axis, whose second weight is 0) footprint, in this order:
 * t = 0 + (v00 * wr0) * wc0 + (v01 * wr0) * wc1 + (v10 * wr1) * wc0 + (v11 * wr1) * wc1. */
#define DEFINE_CLIPPED_ZOOM(SUFFIX, T)                                                             \
    int sa__clipped_zoom_ex_##SUFFIX(T *out, const T *in, int h, int w, int c, double z,          \
                                     sa__zoom_trim trim, sa_error *err)                           \
    {                                                                                              \
        if (!(z >= 1.0) || h < 1 || w < 1 || c < 1)                                                \
            return sa_error_set(err, SA_EINVAL, "corrupt",                                         \
                                "clipped_zoom: factor %g (>= 1 required) on %dx%dx%d", z, h, w,    \
                                c);                                                                \
        zoom_axis ar = {0}, ac = {0};                                                              \
        if (zoom_axis_init(&ar, h, z, trim) < 0)                                                   \
            return nomem(err, "clipped_zoom");                                                     \
        if (zoom_axis_init(&ac, w, z, trim) < 0) {                                                 \
            zoom_axis_free(&ar);                                                                   \
            return nomem(err, "clipped_zoom");                                                     \
        }                                                                                          \
        const size_t rowlen = (size_t)w * (size_t)c;                                               \
        const size_t n = rowlen * (size_t)h;                                                       \
        const int nt = n >= PAR_MIN ? max_threads() : 1;                                           \
        _Pragma("omp parallel for schedule(static) num_threads(nt)") for (int y = 0; y < h; y++)  \
        {                                                                                          \
            T *dst = out + (size_t)y * rowlen;                                                     \
            if (!ar.valid[y]) {                                                                    \
                for (size_t m = 0; m < rowlen; m++)                                                \
                    dst[m] = 0;                                                                    \
                continue;                                                                          \
            }                                                                                      \
            const T *r0 = in + (size_t)ar.i0[y] * rowlen;                                          \
            const T *r1 = in + (size_t)ar.i1[y] * rowlen;                                          \
            const double wr0 = ar.w0[y], wr1 = ar.w1[y];                                           \
            for (int x = 0; x < w; x++) {                                                          \
                T *d = dst + (size_t)x * (size_t)c;                                                \
                if (!ac.valid[x]) {                                                                \
                    for (int k = 0; k < c; k++)                                                    \
                        d[k] = 0;                                                                  \
                    continue;                                                                      \
                }                                                                                  \
                const size_t c0 = (size_t)ac.i0[x] * (size_t)c, c1 = (size_t)ac.i1[x] * (size_t)c; \
                const double wc0 = ac.w0[x], wc1 = ac.w1[x];                                       \
                for (int k = 0; k < c; k++) {                                                      \
                    double t = 0.0;                                                                \
                    t += ((double)r0[c0 + k] * wr0) * wc0;                                         \
                    t += ((double)r0[c1 + k] * wr0) * wc1;                                         \
                    t += ((double)r1[c0 + k] * wr1) * wc0;                                         \
                    t += ((double)r1[c1 + k] * wr1) * wc1;                                         \
                    d[k] = (T)t;                                                                   \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        zoom_axis_free(&ar);                                                                       \
        zoom_axis_free(&ac);                                                                       \
        return 0;                                                                                  \
    }

DEFINE_CLIPPED_ZOOM(f32, float)
DEFINE_CLIPPED_ZOOM(f64, double)

int sa__clipped_zoom_f32(float *out, const float *in, int h, int w, int c, double z, sa_error *err)
{
    return sa__clipped_zoom_ex_f32(out, in, h, w, c, z, SA__ZOOM_TRIM_CENTRED, err);
}

int sa__clipped_zoom_f64(double *out, const double *in, int h, int w, int c, double z,
                         sa_error *err)
{
    return sa__clipped_zoom_ex_f64(out, in, h, w, c, z, SA__ZOOM_TRIM_CENTRED, err);
}

/* ---- motion blur ---------------------------------------------------------- */

int sa__motion_kernel_width(double radius)
{
    return 2 * (int)ceil(radius) + 1;
}

/* ImageMagick 6 MotionBlurImage: k[i] = exp(-i^2 / (2 sigma^2)) / (sqrt(2 pi)
 * sigma), divided by their running sum; offsets ceil(i * p / |p| - 0.5) with
 * p = width * (sin, cos) of the angle (x from the cosine, y from the sine). */
static void motion_offsets(int *dx, int *dy, int width, double rad)
{
    const double px = (double)width * sin(rad), py = (double)width * cos(rad);
    const double hyp = hypot(px, py);
    for (int i = 0; i < width; i++) {
        dx[i] = (int)ceil((double)(i * py) / hyp - 0.5);
        dy[i] = (int)ceil((double)(i * px) / hyp - 0.5);
    }
}

#define SA_PI 3.14159265358979323846264338327950288419716939937510

void sa__motion_kernel(double *k, int *dx, int *dy, double radius, double sigma,
                       double angle_deg)
{
    const int width = sa__motion_kernel_width(radius);
    const double s = fabs(sigma) < 1e-12 ? 1e-12 : sigma; /* MagickSigma */
    const double sq2pi = 2.50662827463100024161235523934010416269302368164062;
    double norm = 0.0;
    for (int i = 0; i < width; i++) {
        k[i] = exp(-((double)i * i) / (2.0 * s * s)) / (sq2pi * s);
        norm += k[i];
    }
    for (int i = 0; i < width; i++)
        k[i] /= norm;
    /* DegreesToRadians: pi * x / 180 */
    motion_offsets(dx, dy, width, SA_PI * angle_deg / 180.0);
}

/* Shared driver: for each output row, the taps are summed in tap order into
 * a float64 row accumulator; within a tap the source row is fixed and the
 * columns form a clamped-left / contiguous / clamped-right split, so the
 * inner loops vectorise while every value still sees the taps in order.
 * `scale` multiplies the source values (257 for ImageMagick's 16-bit
 * quantum); ntaps limits the taps (imagecorruptions' early stop). */
#define DEFINE_MOTION_ROW(SUFFIX, T)                                                               \
    static void motion_row_##SUFFIX(double *acc, const T *in, int h, int w, int c, int y,         \
                                    const double *k, const int *dx, const int *dy, int ntaps,      \
                                    double scale)                                                  \
    {                                                                                              \
        const size_t rowlen = (size_t)w * (size_t)c;                                               \
        for (size_t m = 0; m < rowlen; m++)                                                        \
            acc[m] = 0.0;                                                                          \
        for (int i = 0; i < ntaps; i++) {                                                          \
            int sy = y + dy[i];                                                                    \
            sy = sy < 0 ? 0 : sy >= h ? h - 1 : sy;                                                \
            const T *src = in + (size_t)sy * rowlen;                                               \
            const double ki = k[i];                                                                \
            const int ox = dx[i];                                                                  \
            /* columns x with x + ox < 0 clamp to 0, > w - 1 to w - 1 */                           \
            int lo = -ox < 0 ? 0 : -ox > w ? w : -ox;                                              \
            int hi = w - ox > w ? w : w - ox < lo ? lo : w - ox;                                   \
            for (int x = 0; x < lo; x++)                                                           \
                for (int ch = 0; ch < c; ch++)                                                     \
                    acc[(size_t)x * c + ch] += ki * ((double)src[ch] * scale);                     \
            {                                                                                      \
                double *a = acc + (size_t)lo * c;                                                  \
                const T *s = src + ((size_t)lo + ox) * c;                                          \
                const size_t len = (size_t)(hi - lo) * c;                                          \
                for (size_t m = 0; m < len; m++)                                                   \
                    a[m] += ki * ((double)s[m] * scale);                                           \
            }                                                                                      \
            const T *last = src + (size_t)(w - 1) * c;                                             \
            for (int x = hi; x < w; x++)                                                           \
                for (int ch = 0; ch < c; ch++)                                                     \
                    acc[(size_t)x * c + ch] += ki * ((double)last[ch] * scale);                    \
        }                                                                                          \
    }

DEFINE_MOTION_ROW(u8, uint8_t)
DEFINE_MOTION_ROW(f64, double)

typedef struct motion_taps {
    double *k;
    int *dx, *dy;
    int width;
} motion_taps;

static int motion_taps_new(motion_taps *t, double radius, double sigma, double angle_deg,
                           sa_error *err)
{
    if (!(radius > 0.0) || radius > 1e6 || !(sigma > 0.0))
        return sa_error_set(err, SA_EINVAL, "corrupt",
                            "motion blur radius %g / sigma %g must be positive", radius, sigma);
    t->width = sa__motion_kernel_width(radius);
    t->k = malloc((size_t)t->width * sizeof *t->k);
    t->dx = malloc((size_t)t->width * sizeof *t->dx);
    t->dy = malloc((size_t)t->width * sizeof *t->dy);
    if (!t->k || !t->dx || !t->dy) {
        free(t->k);
        free(t->dx);
        free(t->dy);
        return nomem(err, "motion blur");
    }
    sa__motion_kernel(t->k, t->dx, t->dy, radius, sigma, angle_deg);
    return 0;
}

static void motion_taps_free(motion_taps *t)
{
    free(t->k);
    free(t->dx);
    free(t->dy);
}

/* imagecorruptions: the first tap whose offset reaches the image size ends
 * the sum (remaining weight is dropped, not renormalised). Its kernel is
 * exp(-i^2 / (2 sigma^2)) / (sqrt(2 pi) sigma) normalised by numpy's
 * pairwise sum, and its angle conversion is numpy's; both are recomputed
 * here so that the weights and offsets match bit for bit. */
static int float_taps(motion_taps *t, int h, int w, double sigma, double angle_deg)
{
    /* np.deg2rad: x * (pi / 180), which rounds differently from
     * ImageMagick's pi * x / 180 for some angles */
    motion_offsets(t->dx, t->dy, t->width, angle_deg * (SA_PI / 180.0));
    const double sq2pi = sqrt(2.0 * 3.14159265358979323846264338327950288419716939937510);
    for (int i = 0; i < t->width; i++)
        t->k[i] = exp(-((double)i * i) / (2.0 * (sigma * sigma))) / (sq2pi * sigma);
    double z = np_pairwise_sum(t->k, (size_t)t->width);
    for (int i = 0; i < t->width; i++)
        t->k[i] /= z;
    int n = 0;
    while (n < t->width && abs(t->dy[n]) < h && abs(t->dx[n]) < w)
        n++;
    return n;
}

int sa__motion_blur_u8(uint8_t *out, const uint8_t *in, int h, int w, int c, double radius,
                       double sigma, double angle_deg, sa_error *err)
{
    motion_taps t;
    int rc = motion_taps_new(&t, radius, sigma, angle_deg, err);
    if (rc < 0)
        return rc;
    const size_t rowlen = (size_t)w * (size_t)c;
    const int nt = rowlen * (size_t)h >= PAR_MIN ? max_threads() : 1;
    double *scratch = malloc((size_t)nt * rowlen * sizeof *scratch);
    if (!scratch) {
        motion_taps_free(&t);
        return nomem(err, "motion blur");
    }
    /* ImageMagick (Q16) sums the 16-bit quanta 257 * v with the kernel,
     * rounds to a quantum ((q + 0.5) truncated, clamped to 0..65535), and
     * the 8-bit PNG sample is floor(q / 257). */
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int y = 0; y < h; y++) {
        double *acc = scratch + (size_t)thread_id() * rowlen;
        motion_row_u8(acc, in, h, w, c, y, t.k, t.dx, t.dy, t.width, 257.0);
        uint8_t *dst = out + (size_t)y * rowlen;
        for (size_t m = 0; m < rowlen; m++) {
            double v = acc[m];
            unsigned q = v <= 0.0 ? 0u : v >= 65535.0 ? 65535u : (unsigned)(v + 0.5);
            dst[m] = (uint8_t)(q / 257u);
        }
    }
    free(scratch);
    motion_taps_free(&t);
    return 0;
}

int sa__motion_blur_f64(double *out, const double *in, int h, int w, int c, double radius,
                        double sigma, double angle_deg, sa_error *err)
{
    motion_taps t;
    int rc = motion_taps_new(&t, radius, sigma, angle_deg, err);
    if (rc < 0)
        return rc;
    const int ntaps = float_taps(&t, h, w, sigma, angle_deg);
    const size_t rowlen = (size_t)w * (size_t)c;
    const int nt = rowlen * (size_t)h >= PAR_MIN ? max_threads() : 1;
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int y = 0; y < h; y++)
        motion_row_f64(out + (size_t)y * rowlen, in, h, w, c, y, t.k, t.dx, t.dy, ntaps, 1.0);
    motion_taps_free(&t);
    return 0;
}

int sa__motion_blur_u8_float(uint8_t *out, const uint8_t *in, int h, int w, int c,
                             double radius, double sigma, double angle_deg, sa_error *err)
{
    motion_taps t;
    int rc = motion_taps_new(&t, radius, sigma, angle_deg, err);
    if (rc < 0)
        return rc;
    const int ntaps = float_taps(&t, h, w, sigma, angle_deg);
    const size_t rowlen = (size_t)w * (size_t)c;
    const int nt = rowlen * (size_t)h >= PAR_MIN ? max_threads() : 1;
    double *scratch = malloc((size_t)nt * rowlen * sizeof *scratch);
    if (!scratch) {
        motion_taps_free(&t);
        return nomem(err, "motion blur");
    }
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int y = 0; y < h; y++) {
        double *acc = scratch + (size_t)thread_id() * rowlen;
        motion_row_u8(acc, in, h, w, c, y, t.k, t.dx, t.dy, ntaps, 1.0);
        uint8_t *dst = out + (size_t)y * rowlen;
        for (size_t m = 0; m < rowlen; m++) {
            double v = acc[m];
            dst[m] = !(v > 0.0) ? 0 : v >= 255.0 ? 255 : (uint8_t)v;
        }
    }
    free(scratch);
    motion_taps_free(&t);
    return 0;
}

/* ---- anti-aliased disk ------------------------------------------------------ */

/* OpenCV getGaussianKernel for an odd size n with sigma > 0: values
 * exp(x^2 * (-0.125 / sigma^2)) at x = 1-n, 3-n, ... (twice the offset),
 * sum = 2 * (outer values) + 1, each divided by the sum, stored as float. */
static void cv_gauss_kernel(float *g, int n, double sigma)
{
    const double scale2x = -0.125 / (sigma * sigma);
    const int n2 = (n - 1) / 2;
    double vals[16];
    double sum = 0.0;
    for (int i = 0, x = 1 - n; i < n2; i++, x += 2) {
        vals[i] = exp((double)(x * x) * scale2x);
        sum += vals[i];
    }
    sum *= 2.0;
    sum += 1.0;
    vals[n2] = 1.0;
    for (int i = 0; i <= n2; i++) {
        g[i] = (float)(vals[i] / sum);
        g[n - 1 - i] = g[i];
    }
}

int sa__disk_kernel(float *k, int *half, double radius, double alias_sigma, sa_error *err)
{
    if (!(radius > 0.0) || radius > 4096 || !(alias_sigma > 0.0))
        return sa_error_set(err, SA_EINVAL, "corrupt", "disk radius %g / alias sigma %g",
                            radius, alias_sigma);
    /* np.arange(-8, 9) for radius <= 8, else np.arange(-radius, radius + 1):
     * for the integral radii of the tables that is -R..R. */
    const int big = radius > 8.0;
    const int R = big ? (int)ceil(radius) : 8;
    *half = R;
    if (!k)
        return 0;
    const int n = 2 * R + 1;
    const size_t nn = (size_t)n * (size_t)n;
    float *tmp = malloc(nn * sizeof *tmp);
    if (!tmp)
        return nomem(err, "disk kernel");
    /* indicator of X^2 + Y^2 <= r^2 (float32), divided by its count
     * (float32 division, as numpy's in-place /= on a float32 array) */
    const double lo = big ? -radius : -8.0;
    int count = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double y = lo + i, x = lo + j;
            int in = x * x + y * y <= radius * radius;
            k[(size_t)i * n + j] = in ? 1.0f : 0.0f;
            count += in;
        }
    const float inv_count = (float)count;
    for (size_t i = 0; i < nn; i++)
        k[i] = k[i] / inv_count;
    /* cv2.GaussianBlur(ksize 3 or 5, sigma): separable float filter, rows
     * first, border reflect-101 at the edge of the kernel array, symmetric
     * taps summed as centre * g0 + (left + right) * g1 + ... */
    const int ks = big ? 5 : 3, kr = ks / 2;
    float g[5];
    cv_gauss_kernel(g, ks, alias_sigma);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            const float *row = k + (size_t)i * n;
            float s = row[j] * g[kr];
            for (int d = 1; d <= kr; d++)
                s += (row[sa__border_index(j - d, n, SA__BORDER_REFLECT101)] +
                      row[sa__border_index(j + d, n, SA__BORDER_REFLECT101)]) *
                     g[kr + d];
            tmp[(size_t)i * n + j] = s;
        }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            float s = tmp[(size_t)i * n + j] * g[kr];
            for (int d = 1; d <= kr; d++)
                s += (tmp[(size_t)sa__border_index(i - d, n, SA__BORDER_REFLECT101) * n + j] +
                      tmp[(size_t)sa__border_index(i + d, n, SA__BORDER_REFLECT101) * n + j]) *
                     g[kr + d];
            k[(size_t)i * n + j] = s;
        }
    free(tmp);
    return 0;
}

/* ---- 2-D correlation ---------------------------------------------------------- */

int sa__correlate2d_f64(double *out, const double *in, int h, int w, int c, const double *k,
                        int kh, int kw, sa_error *err)
{
    const int kn = 2 * kw + 1, km = 2 * kh + 1;
    const size_t rowlen = (size_t)w * (size_t)c;
    const size_t padlen = ((size_t)w + 2 * (size_t)kw) * (size_t)c;
    /* The non-zero taps, grouped by kernel row. */
    int *tx = malloc((size_t)km * kn * sizeof *tx);
    double *tv = malloc((size_t)km * kn * sizeof *tv);
    int *rstart = malloc(((size_t)km + 1) * sizeof *rstart);
    /* every input row padded horizontally with the reflect-101 rule */
    double *pad = malloc((size_t)h * padlen * sizeof *pad);
    if (!tx || !tv || !rstart || !pad) {
        free(tx);
        free(tv);
        free(rstart);
        free(pad);
        return nomem(err, "correlate2d");
    }
    int nt = 0;
    for (int i = 0; i < km; i++) {
        rstart[i] = nt;
        for (int j = 0; j < kn; j++) {
            double v = k[(size_t)i * kn + j];
            if (v != 0.0) {
                tx[nt] = j;
                tv[nt] = v;
                nt++;
            }
        }
    }
    rstart[km] = nt;
    const int nthr = (size_t)h * rowlen >= PAR_MIN ? max_threads() : 1;
#pragma omp parallel num_threads(nthr)
    {
#pragma omp for schedule(static)
        for (int y = 0; y < h; y++) {
            const double *src = in + (size_t)y * rowlen;
            double *p = pad + (size_t)y * padlen;
            for (int x = -kw; x < w + kw; x++) {
                const double *s = src + (size_t)sa__border_index(x, w, SA__BORDER_REFLECT101) * c;
                for (int ch = 0; ch < c; ch++)
                    p[(size_t)(x + kw) * c + ch] = s[ch];
            }
        }
#pragma omp for schedule(static)
        for (int y = 0; y < h; y++) {
            double *acc = out + (size_t)y * rowlen;
            for (size_t m = 0; m < rowlen; m++)
                acc[m] = 0.0;
            for (int i = 0; i < km; i++) {
                if (rstart[i] == rstart[i + 1])
                    continue;
                const double *p =
                    pad + (size_t)sa__border_index(y + i - kh, h, SA__BORDER_REFLECT101) * padlen;
                for (int t = rstart[i]; t < rstart[i + 1]; t++) {
                    const double *s = p + (size_t)tx[t] * c;
                    const double v = tv[t];
                    for (size_t m = 0; m < rowlen; m++)
                        acc[m] += v * s[m];
                }
            }
        }
    }
    free(tx);
    free(tv);
    free(rstart);
    free(pad);
    return 0;
}
