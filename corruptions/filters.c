/* Shared filter blocks: Gaussian filter, clipped_zoom, motion-blur kernel,
 * anti-aliased disk and 2-D correlation.
 *
 * Each block follows the floating-point arithmetic of the library the
 * reference calls (scipy.ndimage, OpenCV, ImageMagick) closely enough that
 * the 8-bit results agree after the final truncation; the comments name the
 * operation order where it matters.
 */
#include "filters.h"
#include "simd.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(SA_VEC)
#include <immintrin.h>
#endif

#ifdef _OPENMP
#include <omp.h>
#define SA_OMP(x) _Pragma(x)
#else
#define SA_OMP(x)
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

/* ---- 8-bit conversions ----------------------------------------------------- */

/* trunc(clamp(v, 0, 255)), NaN giving 0; v * 255 for v < 1 stays below 255
 * and v >= 1 gives at least 255, so with scale 255 this is
 * np.uint8(np.clip(x, 0, 1) * 255). */
static inline uint8_t clamp_trunc_u8(double v)
{
    v = v > 0.0 ? v : 0.0;
    v = v < 255.0 ? v : 255.0;
    return (uint8_t)(int)v;
}

/* The tap sums and 8-bit stores, one variant per register width; each
 * call runs the widest one the CPU has (all give the same bytes). */
#define FL_LANES 2
#define FL_SFX _l2
#define FL_TARGET
#include "filters_lanes.h"
#undef FL_LANES
#undef FL_SFX
#undef FL_TARGET

#ifdef SA_LANE_VARIANTS
#define FL_LANES 4
#define FL_SFX _l4
#define FL_TARGET __attribute__((target(SA_LANES4_TARGET)))
#include "filters_lanes.h"
#undef FL_LANES
#undef FL_SFX
#undef FL_TARGET
#endif

#ifdef SA_LANE_VARIANTS8
#define FL_LANES 8
#define FL_SFX _l8
#define FL_TARGET __attribute__((target(SA_LANES8_TARGET)))
#include "filters_lanes.h"
#undef FL_LANES
#undef FL_SFX
#undef FL_TARGET
#endif

/* Runs name##_lN with the arguments for the widest N <= k built here. */
#if defined(SA_LANE_VARIANTS8)
#define FL_RUN(k, name, args)                                                                      \
    do {                                                                                           \
        const int k_ = (k);                                                                        \
        if (k_ >= 8)                                                                               \
            name##_l8 args;                                                                        \
        else if (k_ >= 4)                                                                          \
            name##_l4 args;                                                                        \
        else                                                                                       \
            name##_l2 args;                                                                        \
    } while (0)
#elif defined(SA_LANE_VARIANTS)
#define FL_RUN(k, name, args)                                                                      \
    do {                                                                                           \
        if ((k) >= 4)                                                                              \
            name##_l4 args;                                                                        \
        else                                                                                       \
            name##_l2 args;                                                                        \
    } while (0)
#else
#define FL_RUN(k, name, args) ((void)(k), name##_l2 args)
#endif
#define FL_PICK(name, args) FL_RUN(sa__vec_lanes(), name, args)

static void pair_sum(double *dst, const double *const *pa, const double *const *pb, size_t off,
                     const double *w, int np, size_t len)
{
    FL_PICK(pair_sum, (dst, pa, pb, off, w, np, len));
}

static void tap_sum(double *dst, const double *const *pa, size_t off, const double *w, int np,
                    size_t len)
{
    FL_PICK(tap_sum, (dst, pa, off, w, np, len));
}


void sa__store_u8(uint8_t *out, const double *x, size_t n, double scale)
{
    FL_PICK(store_u8, (out, x, n, scale));
}

int sa__filter_lanes(int lanes)
{
    const int best = sa__vec_lanes();
    return lanes >= best ? best : lanes >= 4 ? 4 : 2;
}

int sa__tap_sums_lanes(double *pair, double *taps, double *sum, const double *const *pa,
                       const double *const *pb, const double *w, int np, size_t len, int lanes)
{
    const int k = sa__filter_lanes(lanes);
    FL_RUN(k, pair_sum, (pair, pa, pb, 0, w, np, len));
    FL_RUN(k, tap_sum, (taps, pa, 0, w, np, len));
    if (np > 0)
        FL_RUN(k, add_rows, (sum, pa[0], pb[0], len));
    return k;
}

int sa__int_sums_lanes(double *sum, uint16_t *fold, const uint16_t *const *row, const int *ra,
                       const int *rb, const size_t *off, const double *w, const int *gs, int ng,
                       const uint8_t *a, const uint8_t *b, size_t len, int lanes)
{
    const int k = sa__filter_lanes(lanes);
    FL_RUN(k, group_sum_u16, (sum, row, ra, rb, off, w, gs, ng, len));
    FL_RUN(k, fold_u16, (fold, a, b, len));
    return k;
}

int sa__stores_u8_lanes(uint8_t *trunc, uint8_t *quantum, const double *x, size_t n, double scale,
                        int lanes)
{
    const int k = sa__filter_lanes(lanes);
    FL_RUN(k, store_u8, (trunc, x, n, scale));
    FL_RUN(k, quantum_u8, (quantum, x, n));
    return k;
}

/* The 8-byte to 8-double conversions below use 64-bit lanes (a variable
 * shift per lane, a 64-bit integer to double conversion) that only
 * AVX-512 has as single instructions; other CPUs run the scalar loops. */
#if defined(SA_LANE_VARIANTS8) && defined(__BYTE_ORDER__) &&                                       \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SA_BYTE_LANES8 1

/* Eight bytes become eight doubles without a widening instruction: each
 * 64-bit lane takes its byte under the exponent of 2^52 (the double
 * 2^52 + byte, exactly), and 2^52 is subtracted. Returns the values done. */
__attribute__((target(SA_LANES8_TARGET))) static size_t load_u8_l8(double *x, const uint8_t *b,
                                                                  size_t n, double scale)
{
    size_t m = 0;
    const v8l shifts = {0, 8, 16, 24, 32, 40, 48, 56};
    const v8l exp52 = {0x4330000000000000LL, 0x4330000000000000LL, 0x4330000000000000LL,
                       0x4330000000000000LL, 0x4330000000000000LL, 0x4330000000000000LL,
                       0x4330000000000000LL, 0x4330000000000000LL};
    const v8d two52 = SPLAT8(4503599627370496.0), s = SPLAT8(scale);
    for (; m + 8 <= n; m += 8) {
        long long u;
        memcpy(&u, b + m, sizeof u);
        v8l lanes = {u, u, u, u, u, u, u, u};
        lanes = ((lanes >> shifts) & 0xff) | exp52;
        ST8(x + m, ((v8d)lanes - two52) * s);
    }
    return m;
}

/* sa__u8_to_unit on eight values at a time; returns the values done. */
__attribute__((target(SA_LANES8_TARGET))) static size_t u8_to_unit_l8(double *x, const uint8_t *b,
                                                                     size_t n)
{
    size_t m = 0;
    typedef unsigned long long v8q __attribute__((vector_size(64)));
    const v8q shifts = {0, 8, 16, 24, 32, 40, 48, 56};
    const v8d scale = SPLAT8(0x1p-63);
    for (; m + 8 <= n; m += 8) {
        unsigned long long u;
        memcpy(&u, b + m, sizeof u);
        v8q lanes = {u, u, u, u, u, u, u, u};
        lanes = ((lanes >> shifts) & 0xff) * 0x0101010101010101ULL;
        ST8(x + m, __builtin_convertvector((v8l)(lanes >> 1), v8d) * scale);
    }
    return m;
}
#endif

void sa__load_u8(double *x, const uint8_t *b, size_t n, double scale)
{
    size_t m = 0;
#ifdef SA_BYTE_LANES8
    if (sa__vec_lanes() == 8)
        m = load_u8_l8(x, b, n, scale);
#endif
    for (; m < n; m++)
        x[m] = (double)b[m] * scale;
}

/* b / 255 in float64, exactly the division. In base 256, b / 255 is
 * 0.bbbb... (the byte repeated for ever), so the 64-bit integer
 * M = b * 0x0101010101010101 holds its first 64 bits; converting M / 2 to
 * double rounds at the 53rd significant bit like the division does (the
 * dropped bits are never a tie, and the bits past M cannot carry across the
 * rounding point: checked for all 256 values by the unit tests), and the
 * scaling by 2^-63 is exact. No table lookup, so it vectorises. */
void sa__u8_to_unit(double *x, const uint8_t *b, size_t n)
{
    size_t m = 0;
#ifdef SA_BYTE_LANES8
    if (sa__vec_lanes() == 8)
        m = u8_to_unit_l8(x, b, n);
#endif
    for (; m < n; m++) {
        const uint64_t q = (uint64_t)b[m] * 0x0101010101010101ULL;
        x[m] = (double)(int64_t)(q >> 1) * 0x1p-63;
    }
}

/* ---- random offsets ------------------------------------------------------ */

/* Bounded integers in bulk. The numpy kind replays NumPy's legacy draw, as
 * sa_rng_randint makes it: 32-bit words masked to the range's bit width,
 * rejected while above the range (the mask is formed once for all n draws).
 * The fast kind runs the same masked rejection on k-bit pieces of 64-bit
 * words (k the range's bit width, 64 / k pieces per word, the leftover
 * bits dropped): each piece is uniform on [0, 2^k) and independent of the
 * others, so every draw is uniform on [lo, hi) and independent, with one
 * generator step per 64 / k pieces instead of one per draw. */
SA_CLONES
void sa__randint_fill(sa_rng *r, int *out, size_t n, int lo, int hi)
{
    const uint32_t range = (uint32_t)((int64_t)hi - 1 - lo);
    if (range == 0) {
        for (size_t i = 0; i < n; i++)
            out[i] = lo;
        return;
    }
    const uint32_t mask = (uint32_t)sa_rng_range_mask(range);
    if (r->kind == SA_RNG_FAST) {
        int k = 0;
        while (k < 32 && (mask >> k) != 0)
            k++;
        const int per_word = 64 / k;
        sa_rng_stream st = sa_rng_stream_take(r);
        size_t i = 0;
        if (mask == range) {
            /* a power-of-two range never rejects: whole words at a time */
#ifdef SA_VEC
            typedef unsigned long long v8q __attribute__((vector_size(64)));
            v8q sh[8]; /* the shifts of pieces 8b .. 8b + 7 */
            const int nsh = per_word / 8;
            for (int b = 0; b < nsh; b++)
                for (int l = 0; l < 8; l++)
                    sh[b][l] = (unsigned long long)((8 * b + l) * k);
#endif
            for (; i + (size_t)per_word <= n; i += (size_t)per_word) {
                const uint64_t word = sa_rng_stream_next(&st);
                int *o = out + i;
                int j = 0;
#ifdef SA_VEC
                const v8q w8 = {word, word, word, word, word, word, word, word};
                for (int b = 0; b < nsh; b++, j += 8) {
                    const v8i v = __builtin_convertvector((w8 >> sh[b]) & mask, v8i) + lo;
                    memcpy(o + j, &v, sizeof v);
                }
#endif
                for (; j < per_word; j++)
                    o[j] = lo + (int)((uint32_t)(word >> (j * k)) & mask);
            }
        }
        /* the pieces in order, each kept when in range (branch-free: a
         * rejected piece is written and then overwritten) */
        while (i < n) {
            uint64_t word = sa_rng_stream_next(&st);
            for (int j = 0; j < per_word && i < n; j++, word >>= k) {
                const uint32_t v = (uint32_t)word & mask;
                out[i] = (int)((int64_t)lo + v);
                i += v <= range;
            }
        }
        sa_rng_stream_give(r, &st);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t v;
        do
            v = sa_rng_u32(r) & mask;
        while (v > range);
        out[i] = (int)((int64_t)lo + v);
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

/* Width of the column strips that vertical passes walk down: the rows of a
 * filter window, cut to one strip, stay in the first-level cache. */
#define STRIP 128

/* One row of w pixels (c values each) padded by `pad` pixels on each side
 * with the border rule: dst holds (w + 2 pad) * c values. */
static void pad_row_f64(double *dst, const double *src, int w, int c, int pad, sa__border border)
{
    const size_t cc = (size_t)c;
    memcpy(dst + (size_t)pad * cc, src, (size_t)w * cc * sizeof *dst);
    for (int x = -pad; x < 0; x++) {
        const double *q = src + (size_t)sa__border_index(x, w, border) * cc;
        for (int k = 0; k < c; k++)
            dst[(size_t)(x + pad) * cc + k] = q[k];
    }
    for (int x = w; x < w + pad; x++) {
        const double *q = src + (size_t)sa__border_index(x, w, border) * cc;
        for (int k = 0; k < c; k++)
            dst[(size_t)(x + pad) * cc + k] = q[k];
    }
}

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

/* Pixels x0 .. x0 + npx - 1 of a row of w pixels, indices outside the row
 * mapped by the border rule, into dst (npx * c values). */
static void pad_span_f64(double *dst, const double *src, int w, int c, int x0, int npx,
                         sa__border border)
{
    const size_t cc = (size_t)c;
    /* the pixels inside the row in one copy, the others one by one */
    const int a = x0 < 0 ? -x0 : 0;
    const int b = x0 + npx > w ? w - x0 : npx;
    if (b > a)
        memcpy(dst + (size_t)a * cc, src + (size_t)(x0 + a) * cc,
               (size_t)(b - a) * cc * sizeof *dst);
    for (int i = 0; i < npx; i++) {
        if (i >= a && i < b)
            continue;
        const double *q = src + (size_t)sa__border_index(x0 + i, w, border) * cc;
        for (int k = 0; k < c; k++)
            dst[(size_t)i * cc + k] = q[k];
    }
}

/* pair_sum operands of the horizontal pass around centre `ctr`: the centre
 * twice, then the pairs at distance r .. 1 pixels */
static void row_taps(const double **pa, const double **pb, const double *ctr, int r, int c)
{
    pa[0] = pb[0] = ctr;
    for (int j = r; j >= 1; j--) {
        pa[1 + r - j] = ctr - (size_t)j * (size_t)c;
        pb[1 + r - j] = ctr + (size_t)j * (size_t)c;
    }
}

/* Where the Gaussian core reads and writes: float64 arrays, or 8-bit ones
 * (in8: the values v / 255 as float64, converted one strip of columns at a
 * time; out8: each output row stored as trunc(clip(y * scale, 0, 255))
 * straight from the cache instead of a float64 image). */
typedef struct gauss_io {
    const double *in;
    const uint8_t *in8;
    double *out;
    uint8_t *out8;
    double out_scale;
    int as_f32; /* float32 rounding after every pass */
} gauss_io;

/* scipy's symmetric correlate1d: acc = x[i] * w0, then the pairs from the
 * outermost inwards, acc += (x[i-j] + x[i+j]) * w[j]. The vertical pass runs
 * first (axis 0), then the horizontal one; each pass stores its result in
 * the array type (as_f32: float32 rounds after every pass). Both passes
 * vectorise over contiguous values with pair_sum; the per-value operation
 * order is unchanged. The output may be the input. */
static int gaussian_core(const gauss_io *io, int h, int w, int c, double sigma, double truncate,
                         sa__border border, sa_error *err)
{
    const size_t rowlen = (size_t)w * (size_t)c;
    const size_t n = rowlen * (size_t)h;
    double rr = floor(truncate * sigma + 0.5);
    if (!(rr >= 0.0) || rr > 1e6)
        return sa_error_set(err, SA_EINVAL, "corrupt",
                            "gaussian filter radius %g out of range (sigma %g)", rr, sigma);
    const int r = (int)rr;
    const int np = r + 1;
    const int as_f32 = io->as_f32;
    double *wt = gauss_half_kernel(sigma, r);
    /* weights in application order: centre (halved, see pair_sum), r .. 1 */
    double *wo = malloc((size_t)np * sizeof *wo);
    const int nt = n >= PAR_MIN ? max_threads() : 1;
    const size_t padlen = ((size_t)w + 2 * (size_t)r) * (size_t)c;
    /* per thread: the padded edge span, then (8-bit input) one strip of
     * converted columns, then (8-bit output) one output row */
    const size_t slen = io->in8 ? (size_t)h * STRIP : 0, olen = io->out8 ? rowlen : 0;
    const size_t per = (padlen + slen + olen + 7) & ~(size_t)7;
    double *tmp = sa__alloc_f64(n);
    double *scratch = sa__alloc_f64((size_t)nt * per);
    const double **ptrs = malloc((size_t)nt * 2 * (size_t)np * sizeof *ptrs);
    /* rows read by the vertical pass: rows[y * 2r + 2(j - 1) + {0, 1}] are
     * the rows y - j and y + j under the border rule */
    int *rows = malloc(((size_t)h * 2 * (size_t)r + 1) * sizeof *rows);
    if (!wt || !wo || !tmp || !scratch || !ptrs || !rows) {
        free(wt);
        free(wo);
        sa__free_f64(tmp);
        sa__free_f64(scratch);
        free(ptrs);
        free(rows);
        return nomem(err, "gaussian filter");
    }
    wo[0] = wt[0] * 0.5;
    for (int j = r; j >= 1; j--)
        wo[1 + r - j] = wt[j];
    for (int y = 0; y < h; y++)
        for (int j = 1; j <= r; j++) {
            rows[(size_t)y * 2 * r + 2 * (j - 1)] = sa__border_index(y - j, h, border);
            rows[(size_t)y * 2 * r + 2 * (j - 1) + 1] = sa__border_index(y + j, h, border);
        }
    const size_t nstrips = (rowlen + STRIP - 1) / STRIP;
    SA_OMP("omp parallel num_threads(nt)")
    {
        const double **pa = ptrs + (size_t)thread_id() * 2 * (size_t)np, **pb = pa + np;
        double *pad = scratch + (size_t)thread_id() * per;
        double *sbuf = pad + padlen, *obuf = sbuf + slen;
        /* axis 0: rows of the input combine into rows of tmp, one strip of
         * columns at a time so that the rows of the window stay cached */
        SA_OMP("omp for schedule(static)")
        for (size_t s = 0; s < nstrips; s++) {
            const size_t m0 = s * STRIP, len = rowlen - m0 < STRIP ? rowlen - m0 : STRIP;
            /* source rows: the input's, or the strip's converted columns */
            const double *src = io->in + m0;
            size_t stride = rowlen;
            if (io->in8) {
                for (int y = 0; y < h; y++)
                    sa__u8_to_unit(sbuf + (size_t)y * len, io->in8 + (size_t)y * rowlen + m0,
                                   len);
                src = sbuf;
                stride = len;
            }
            for (int y = 0; y < h; y++) {
                const int *ry = rows + (size_t)y * 2 * r;
                pa[0] = pb[0] = src + (size_t)y * stride;
                for (int j = r; j >= 1; j--) {
                    pa[1 + r - j] = src + (size_t)ry[2 * (j - 1)] * stride;
                    pb[1 + r - j] = src + (size_t)ry[2 * (j - 1) + 1] * stride;
                }
                double *dst = tmp + (size_t)y * rowlen + m0;
                pair_sum(dst, pa, pb, 0, wo, np, len);
                if (as_f32)
                    for (size_t m = 0; m < len; m++)
                        dst[m] = (double)(float)dst[m];
            }
        }
        /* axis 1: each row of tmp into out; the pixels within r of an edge
         * read a copy padded by the border rule, the others the row */
        SA_OMP("omp for schedule(static)")
        for (int y = 0; y < h; y++) {
            const double *src = tmp + (size_t)y * rowlen;
            double *dst = io->out8 ? obuf : io->out + (size_t)y * rowlen;
            const size_t rc = (size_t)r * (size_t)c;
            if (w > 2 * r) {
                /* interior: pixels r .. w - r - 1 */
                row_taps(pa, pb, src + rc, r, c);
                pair_sum(dst + rc, pa, pb, 0, wo, np, rowlen - 2 * rc);
                /* left edge: pixels -r .. 2r - 1 padded, outputs 0 .. r - 1 */
                pad_span_f64(pad, src, w, c, -r, 3 * r, border);
                row_taps(pa, pb, pad + rc, r, c);
                pair_sum(dst, pa, pb, 0, wo, np, rc);
                /* right edge: pixels w - 2r .. w + r - 1, outputs w - r .. */
                pad_span_f64(pad, src, w, c, w - 2 * r, 3 * r, border);
                row_taps(pa, pb, pad + rc, r, c);
                pair_sum(dst + rowlen - rc, pa, pb, 0, wo, np, rc);
            } else {
                pad_row_f64(pad, src, w, c, r, border);
                row_taps(pa, pb, pad + rc, r, c);
                pair_sum(dst, pa, pb, 0, wo, np, rowlen);
            }
            if (as_f32)
                for (size_t m = 0; m < rowlen; m++)
                    dst[m] = (double)(float)dst[m];
            if (io->out8)
                sa__store_u8(io->out8 + (size_t)y * rowlen, dst, rowlen, io->out_scale);
        }
    }
    free(wt);
    free(wo);
    sa__free_f64(tmp);
    sa__free_f64(scratch);
    free(ptrs);
    free(rows);
    return 0;
}

int sa__gaussian_filter_f64(double *out, const double *in, int h, int w, int c, double sigma,
                            double truncate, sa__border border, sa_error *err)
{
    const size_t n = (size_t)w * (size_t)c * (size_t)h;
    if (!(sigma > 1e-15)) {
        if (out != in)
            memmove(out, in, n * sizeof *out);
        return 0;
    }
    const gauss_io io = {.in = in, .out = out};
    return gaussian_core(&io, h, w, c, sigma, truncate, border, err);
}

int sa__gaussian_filter_u8(uint8_t *out, const uint8_t *in, int h, int w, int c, double sigma,
                           double truncate, sa__border border, sa_error *err)
{
    const size_t n = (size_t)w * (size_t)c * (size_t)h;
    if (!(sigma > 1e-15)) {
        /* the copy as float64, then trunc(clip(v / 255 * 255)) */
        double unit[256];
        for (int v = 0; v < 256; v++)
            unit[v] = v / 255.0;
        for (size_t i = 0; i < n; i++) {
            double v = unit[in[i]] * 255.0;
            out[i] = (uint8_t)(int)(v < 255.0 ? v : 255.0);
        }
        return 0;
    }
    const gauss_io io = {.in8 = in, .out8 = out, .out_scale = 255.0};
    return gaussian_core(&io, h, w, c, sigma, truncate, border, err);
}

/* float32 data: scipy computes in float64 and stores float32 after each
 * pass, which the double core reproduces by rounding through float. */
int sa__gaussian_filter_f32(float *out, const float *in, int h, int w, int c, double sigma,
                            double truncate, sa__border border, sa_error *err)
{
    const size_t n = (size_t)w * (size_t)c * (size_t)h;
    if (!(sigma > 1e-15)) {
        if (out != in)
            memmove(out, in, n * sizeof *out);
        return 0;
    }
    double *d = n ? sa__alloc_f64(n) : NULL;
    if (!d)
        return n ? nomem(err, "gaussian filter") : 0;
    for (size_t i = 0; i < n; i++)
        d[i] = in[i];
    const gauss_io io = {.in = d, .out = d, .as_f32 = 1};
    int rc = gaussian_core(&io, h, w, c, sigma, truncate, border, err);
    if (rc == 0)
        for (size_t i = 0; i < n; i++)
            out[i] = (float)d[i];
    sa__free_f64(d);
    return rc;
}

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

/* Number of leading valid entries: the invalid ones form a suffix, since
 * the coordinate grows with the output index. */
static int zoom_valid_prefix(const zoom_axis *a, int n)
{
    int v = 0;
    while (v < n && a->valid[v])
        v++;
    return v;
}

/* A run of kept output columns [x0, x1) whose two source columns are
 * x + d0 and x + d1 (constant shifts), as value offsets d * c. */
typedef struct zoom_run {
    int m0, m1;             /* value range [x0 * c, x1 * c) */
    ptrdiff_t off0, off1;   /* source value = m + off */
} zoom_run;

/* One kept output row from source rows r0 and r1 (weights wr0, wr1):
 * scipy's sum over the 2 x 2 footprint (x the channel axis, whose second
 * weight is 0), in this order, with a = v * wr0 and b = v * wr1:
 * t = 0 + a[c0] * wc0 + a[c1] * wc1 + b[c0] * wc0 + b[c1] * wc1.
 * Runs are taken in order eight values at a time; the last group of a run
 * spills into the next run's values, which that run then rewrites (t and
 * the source rows carry 8 values of slack). */
#define ZOOM_SCALAR(m)                                                                             \
    do {                                                                                           \
        double s = 0.0;                                                                            \
        s += (r0[(m) + o0] * wr0) * wc0[m];                                                        \
        s += (r0[(m) + o1] * wr0) * wc1[m];                                                        \
        s += (r1[(m) + o0] * wr1) * wc0[m];                                                        \
        s += (r1[(m) + o1] * wr1) * wc1[m];                                                        \
        t[m] = s;                                                                                  \
    } while (0)
#ifdef SA_VEC
/* A group may spill past its run only while all its lanes stay in the row. */
#define ZOOM_RUNS_BODY(LOAD)                                                                       \
    const v8d a8 = SPLAT8(wr0), b8 = SPLAT8(wr1);                                                  \
    for (int r = 0; r < nruns; r++) {                                                              \
        const ptrdiff_t o0 = runs[r].off0, o1 = runs[r].off1, omax = o0 > o1 ? o0 : o1;            \
        const int m1 = runs[r].m1;                                                                 \
        int m = runs[r].m0;                                                                        \
        for (; m + 8 <= m1 || (ptrdiff_t)m + 8 + omax <= (ptrdiff_t)rowlen; m += 8) {              \
            if (m >= m1)                                                                           \
                break;                                                                             \
            const v8d w0 = LD8(wc0 + m), w1 = LD8(wc1 + m);                                        \
            v8d s = SPLAT8(0.0);                                                                   \
            s += (LOAD(r0 + m + o0) * a8) * w0;                                                    \
            s += (LOAD(r0 + m + o1) * a8) * w1;                                                    \
            s += (LOAD(r1 + m + o0) * b8) * w0;                                                    \
            s += (LOAD(r1 + m + o1) * b8) * w1;                                                    \
            ST8(t + m, s);                                                                         \
        }                                                                                          \
        for (; m < m1; m++)                                                                        \
            ZOOM_SCALAR(m);                                                                        \
    }
#else
#define ZOOM_RUNS_BODY(LOAD)                                                                       \
    for (int r = 0; r < nruns; r++) {                                                              \
        const ptrdiff_t o0 = runs[r].off0, o1 = runs[r].off1;                                      \
        for (int m = runs[r].m0; m < runs[r].m1; m++)                                              \
            ZOOM_SCALAR(m);                                                                        \
    }
#endif

SA_CLONES
static void zoom_runs_f64(double *t, const double *r0, const double *r1, double wr0, double wr1,
                          const double *wc0, const double *wc1, const zoom_run *runs, int nruns,
                          size_t rowlen)
{
    ZOOM_RUNS_BODY(LD8)
}

/* d = zoomed (rounded to the array type) or, with add, d += it in the
 * array type (float32 additions for float32 arrays, as numpy's +=). */
SA_CLONES
static void zoom_emit_f32(float *d, const double *t, size_t n, int add)
{
    size_t m = 0;
#ifdef SA_VEC
    for (; m + 8 <= n; m += 8) {
        v8f v = __builtin_convertvector(LD8(t + m), v8f);
        ST8F(d + m, add ? LD8F(d + m) + v : v);
    }
#endif
    for (; m < n; m++)
        d[m] = add ? d[m] + (float)t[m] : (float)t[m];
}

SA_CLONES
static void zoom_emit_f64(double *d, const double *t, size_t n, int add)
{
    size_t m = 0;
#ifdef SA_VEC
    for (; m + 8 <= n; m += 8)
        ST8(d + m, add ? LD8(d + m) + LD8(t + m) : LD8(t + m));
#endif
    for (; m < n; m++)
        d[m] = add ? d[m] + t[m] : t[m];
}

/* Column plan of a clipped zoom: per-value column weights and the runs. */
typedef struct zoom_cols {
    double *wc0, *wc1; /* rowlen + 8 values */
    zoom_run *runs;
    int nruns, nvalid; /* runs, kept values per row (valid columns * c) */
} zoom_cols;

static void zoom_cols_free(zoom_cols *z)
{
    free(z->wc0);
    free(z->wc1);
    free(z->runs);
}

static int zoom_cols_init(zoom_cols *z, const zoom_axis *ac, int w, int c)
{
    const size_t rowlen = (size_t)w * (size_t)c;
    z->wc0 = calloc(rowlen + 8, sizeof *z->wc0);
    z->wc1 = calloc(rowlen + 8, sizeof *z->wc1);
    z->runs = malloc((size_t)w * sizeof *z->runs);
    if (!z->wc0 || !z->wc1 || !z->runs) {
        zoom_cols_free(z);
        return -1;
    }
    const int vc = zoom_valid_prefix(ac, w);
    z->nvalid = vc * c;
    z->nruns = 0;
    for (int x = 0; x < vc; x++) {
        for (int k = 0; k < c; k++) {
            z->wc0[(size_t)x * c + k] = ac->w0[x];
            z->wc1[(size_t)x * c + k] = ac->w1[x];
        }
        const ptrdiff_t o0 = (ptrdiff_t)(ac->i0[x] - x) * c, o1 = (ptrdiff_t)(ac->i1[x] - x) * c;
        zoom_run *last = z->nruns ? &z->runs[z->nruns - 1] : NULL;
        if (last && last->off0 == o0 && last->off1 == o1) {
            last->m1 = (x + 1) * c;
        } else {
            zoom_run r = {x * c, (x + 1) * c, o0, o1};
            z->runs[z->nruns++] = r;
        }
    }
    return 0;
}

/* The clipped zoom of `in` (float64, or float32 values held as float64)
 * into out32 or out64 (the other NULL): with `add`, out += zoomed in the
 * array type, else out = zoomed. */
static int zoom_core(float *out32, double *out64, const double *in, int h, int w, int c,
                     double z, sa__zoom_trim trim, int add, sa_error *err)
{
    if (!(z >= 1.0) || !isfinite(z) || h < 1 || w < 1 || c < 1)
        return sa_error_set(err, SA_EINVAL, "corrupt",
                            "clipped_zoom: factor %g (>= 1 required) on %dx%dx%d", z, h, w, c);
    const size_t rowlen = (size_t)w * (size_t)c;
    const size_t n = rowlen * (size_t)h;
    const int nt = n >= PAR_MIN ? max_threads() : 1;
    zoom_axis ar = {0}, ac = {0};
    zoom_cols zc = {0};
    double *scratch = calloc((size_t)nt * (rowlen + 8), sizeof *scratch);
    int ok = scratch && zoom_axis_init(&ar, h, z, trim) == 0;
    ok = ok && zoom_axis_init(&ac, w, z, trim) == 0;
    ok = ok && zoom_cols_init(&zc, &ac, w, c) == 0;
    if (!ok) {
        zoom_axis_free(&ar);
        zoom_axis_free(&ac);
        free(scratch);
        return nomem(err, "clipped_zoom");
    }
    const int vr = zoom_valid_prefix(&ar, h);
    const size_t kept = (size_t)zc.nvalid;
    SA_OMP("omp parallel for schedule(static) num_threads(nt)")
    for (int y = 0; y < h; y++) {
        float *d32 = out32 ? out32 + (size_t)y * rowlen : NULL;
        double *d64 = out64 ? out64 + (size_t)y * rowlen : NULL;
        if (y >= vr) {
            if (!add && d32)
                memset(d32, 0, rowlen * sizeof *d32);
            if (!add && d64)
                memset(d64, 0, rowlen * sizeof *d64);
            continue;
        }
        double *t = scratch + (size_t)thread_id() * (rowlen + 8);
        zoom_runs_f64(t, in + (size_t)ar.i0[y] * rowlen, in + (size_t)ar.i1[y] * rowlen, ar.w0[y],
                      ar.w1[y], zc.wc0, zc.wc1, zc.runs, zc.nruns, rowlen);
        if (d32) {
            zoom_emit_f32(d32, t, kept, add);
            if (!add)
                memset(d32 + kept, 0, (rowlen - kept) * sizeof *d32);
        } else {
            zoom_emit_f64(d64, t, kept, add);
            if (!add)
                memset(d64 + kept, 0, (rowlen - kept) * sizeof *d64);
        }
    }
    zoom_axis_free(&ar);
    zoom_axis_free(&ac);
    zoom_cols_free(&zc);
    free(scratch);
    return 0;
}

/* float32 input: its values held as float64 (exact), then the float64 core */
static int zoom_f32(float *out, const float *in, int h, int w, int c, double z,
                    sa__zoom_trim trim, int add, sa_error *err)
{
    const size_t n = (size_t)(h > 0 ? h : 0) * (size_t)(w > 0 ? w : 0) * (size_t)(c > 0 ? c : 0);
    double *d = malloc((n ? n : 1) * sizeof *d);
    if (!d)
        return nomem(err, "clipped_zoom");
    for (size_t i = 0; i < n; i++)
        d[i] = in[i];
    int rc = zoom_core(out, NULL, d, h, w, c, z, trim, add, err);
    free(d);
    return rc;
}

int sa__clipped_zoom_ex_f32(float *out, const float *in, int h, int w, int c, double z,
                            sa__zoom_trim trim, sa_error *err)
{
    return zoom_f32(out, in, h, w, c, z, trim, 0, err);
}

int sa__clipped_zoom_add_f32(float *acc, const float *in, int h, int w, int c, double z,
                             sa__zoom_trim trim, sa_error *err)
{
    return zoom_f32(acc, in, h, w, c, z, trim, 1, err);
}

int sa__clipped_zoom_add_f32_wide(float *acc, const double *in, int h, int w, int c, double z,
                                  sa__zoom_trim trim, sa_error *err)
{
    return zoom_core(acc, NULL, in, h, w, c, z, trim, 1, err);
}

int sa__clipped_zoom_ex_f64(double *out, const double *in, int h, int w, int c, double z,
                            sa__zoom_trim trim, sa_error *err)
{
    return zoom_core(NULL, out, in, h, w, c, z, trim, 0, err);
}

int sa__clipped_zoom_add_f64(double *acc, const double *in, int h, int w, int c, double z,
                             sa__zoom_trim trim, sa_error *err)
{
    return zoom_core(NULL, acc, in, h, w, c, z, trim, 1, err);
}

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

/* Every row of the image padded left and right by `pad` columns with its
 * edge pixel (ImageMagick's edge virtual pixels, numpy's shift fill), values
 * multiplied by `scale` (exact for 8-bit values and scale 257). The 8-bit
 * rows are converted first (vectorised), then the edges replicated. */
static void pad_edges(double *d, int w, int c, int pad)
{
    const size_t cc = (size_t)c;
    const double *first = d + (size_t)pad * cc, *last = d + (size_t)(pad + w - 1) * cc;
    if (c == 3) {
        const double f0 = first[0], f1 = first[1], f2 = first[2];
        const double l0 = last[0], l1 = last[1], l2 = last[2];
        double *dl = d, *dr = d + (size_t)(pad + w) * 3;
        for (int x = 0; x < pad; x++, dl += 3, dr += 3) {
            dl[0] = f0;
            dl[1] = f1;
            dl[2] = f2;
            dr[0] = l0;
            dr[1] = l1;
            dr[2] = l2;
        }
        return;
    }
    for (int x = 0; x < pad; x++)
        for (int k = 0; k < c; k++) {
            d[(size_t)x * cc + k] = first[k];
            d[(size_t)(pad + w + x) * cc + k] = last[k];
        }
}

static void pad_rows_u8(double *dst, const uint8_t *in, int h, int w, int c, int pad,
                        double scale, int nt)
{
    const size_t plen = ((size_t)w + 2 * (size_t)pad) * (size_t)c, rowlen = (size_t)w * c;
    (void)nt;
    SA_OMP("omp parallel for schedule(static) num_threads(nt)")
    for (int y = 0; y < h; y++) {
        double *d = dst + (size_t)y * plen;
        sa__load_u8(d + (size_t)pad * c, in + (size_t)y * rowlen, rowlen, scale);
        pad_edges(d, w, c, pad);
    }
}

static void pad_rows_f64(double *dst, const double *in, int h, int w, int c, int pad,
                         double scale, int nt)
{
    const size_t plen = ((size_t)w + 2 * (size_t)pad) * (size_t)c, rowlen = (size_t)w * c;
    (void)nt;
    SA_OMP("omp parallel for schedule(static) num_threads(nt)")
    for (int y = 0; y < h; y++) {
        double *d = dst + (size_t)y * plen + (size_t)pad * c;
        const double *src = in + (size_t)y * rowlen;
        for (size_t m = 0; m < rowlen; m++)
            d[m] = src[m] * scale;
        pad_edges(d - (size_t)pad * c, w, c, pad);
    }
}

/* The taps in order (tap_sum), tap i reading the padded row clamp(y + dy[i])
 * shifted by dx[i]; a strip of columns at a time, down the rows, so that
 * the rows the taps read stay cached. `emit` turns the sums of values
 * [m0, m0 + len) of row y into the output. */
typedef struct motion_job {
    const double *padded;
    int h, w, c, pad, ntaps;
    const motion_taps *t;
} motion_job;

typedef struct emit_ctx {
    uint8_t *u8;
    double *f64;
    size_t rowlen;
} emit_ctx;

#define MOTION_STRIP 128

static int motion_run(const motion_job *j, int nt,
                      void (*emit)(const emit_ctx *, int, size_t, const double *, size_t),
                      const emit_ctx *ctx, sa_error *err)
{
    const size_t rowlen = (size_t)j->w * (size_t)j->c;
    const size_t plen = ((size_t)j->w + 2 * (size_t)j->pad) * (size_t)j->c;
    const size_t nstrips = (rowlen + MOTION_STRIP - 1) / MOTION_STRIP;
    double *scratch = malloc((size_t)nt * MOTION_STRIP * sizeof *scratch);
    const double **ptrs = malloc((size_t)nt * ((size_t)j->ntaps + 1) * sizeof *ptrs);
    /* where tap i of output row y starts reading, relative to the padded
     * image: row clamp(y + dy[i]), column offset dx[i] */
    size_t *offs = malloc((size_t)j->h * (size_t)j->ntaps * sizeof *offs + 1);
    if (!scratch || !ptrs || !offs) {
        free(scratch);
        free(ptrs);
        free(offs);
        return nomem(err, "motion blur");
    }
    for (int y = 0; y < j->h; y++)
        for (int i = 0; i < j->ntaps; i++) {
            int sy = y + j->t->dy[i];
            sy = sy < 0 ? 0 : sy >= j->h ? j->h - 1 : sy;
            offs[(size_t)y * j->ntaps + i] =
                (size_t)sy * plen + (size_t)(j->pad + j->t->dx[i]) * j->c;
        }
    SA_OMP("omp parallel for schedule(static) num_threads(nt)")
    for (size_t s = 0; s < nstrips; s++) {
        double *acc = scratch + (size_t)thread_id() * MOTION_STRIP;
        const double **pa = ptrs + (size_t)thread_id() * ((size_t)j->ntaps + 1);
        const size_t m0 = s * MOTION_STRIP;
        const size_t len = rowlen - m0 < MOTION_STRIP ? rowlen - m0 : MOTION_STRIP;
        for (int y = 0; y < j->h; y++) {
            const size_t *oy = offs + (size_t)y * j->ntaps;
            for (int i = 0; i < j->ntaps; i++)
                pa[i] = j->padded + oy[i];
            tap_sum(acc, pa, m0, j->t->k, j->ntaps, len);
            emit(ctx, y, m0, acc, len);
        }
    }
    free(scratch);
    free(ptrs);
    free(offs);
    return 0;
}

/* ImageMagick (Q16) sums the 16-bit quanta 257 * v with the kernel, rounds
 * to a quantum ((q + 0.5) truncated, clamped to 0..65535), and the 8-bit
 * PNG sample is floor(q / 257), which is (q * 65281) >> 24 for every
 * 16-bit q. */
static void emit_imagemagick(const emit_ctx *e, int y, size_t m0, const double *acc, size_t len)
{
    FL_PICK(quantum_u8, (e->u8 + (size_t)y * e->rowlen + m0, acc, len));
}

/* imagecorruptions: clip to [0, 255], then numpy's uint8 truncation */
static void emit_truncate(const emit_ctx *e, int y, size_t m0, const double *acc, size_t len)
{
    sa__store_u8(e->u8 + (size_t)y * e->rowlen + m0, acc, len, 1.0);
}

static void emit_copy(const emit_ctx *e, int y, size_t m0, const double *acc, size_t len)
{
    memcpy(e->f64 + (size_t)y * e->rowlen + m0, acc, len * sizeof *acc);
}

static int max_abs_dx(const motion_taps *t, int ntaps)
{
    int p = 0;
    for (int i = 0; i < ntaps; i++)
        p = abs(t->dx[i]) > p ? abs(t->dx[i]) : p;
    return p;
}

static int motion_u8(uint8_t *out, const uint8_t *in, int h, int w, int c, double radius,
                     double sigma, double angle_deg, int imagemagick, sa_error *err)
{
    motion_taps t;
    int rc = motion_taps_new(&t, radius, sigma, angle_deg, err);
    if (rc < 0)
        return rc;
    const int ntaps = imagemagick ? t.width : float_taps(&t, h, w, sigma, angle_deg);
    const int pad = max_abs_dx(&t, ntaps);
    const size_t n = (size_t)w * (size_t)c * (size_t)h;
    const int nt = n >= PAR_MIN ? max_threads() : 1;
    double *padded = malloc(((size_t)w + 2 * (size_t)pad) * (size_t)c * (size_t)h * sizeof *padded);
    if (!padded) {
        motion_taps_free(&t);
        return nomem(err, "motion blur");
    }
    pad_rows_u8(padded, in, h, w, c, pad, imagemagick ? 257.0 : 1.0, nt);
    motion_job j = {padded, h, w, c, pad, ntaps, &t};
    emit_ctx e = {out, NULL, (size_t)w * (size_t)c};
    rc = motion_run(&j, nt, imagemagick ? emit_imagemagick : emit_truncate, &e, err);
    free(padded);
    motion_taps_free(&t);
    return rc;
}

int sa__motion_blur_u8(uint8_t *out, const uint8_t *in, int h, int w, int c, double radius,
                       double sigma, double angle_deg, sa_error *err)
{
    return motion_u8(out, in, h, w, c, radius, sigma, angle_deg, 1, err);
}

int sa__motion_blur_u8_float(uint8_t *out, const uint8_t *in, int h, int w, int c,
                             double radius, double sigma, double angle_deg, sa_error *err)
{
    return motion_u8(out, in, h, w, c, radius, sigma, angle_deg, 0, err);
}

int sa__motion_blur_f64(double *out, const double *in, int h, int w, int c, double radius,
                        double sigma, double angle_deg, sa_error *err)
{
    motion_taps t;
    int rc = motion_taps_new(&t, radius, sigma, angle_deg, err);
    if (rc < 0)
        return rc;
    const int ntaps = float_taps(&t, h, w, sigma, angle_deg);
    const int pad = max_abs_dx(&t, ntaps);
    const size_t n = (size_t)w * (size_t)c * (size_t)h;
    const int nt = n >= PAR_MIN ? max_threads() : 1;
    double *padded = malloc(((size_t)w + 2 * (size_t)pad) * (size_t)c * (size_t)h * sizeof *padded);
    if (!padded) {
        motion_taps_free(&t);
        return nomem(err, "motion blur");
    }
    pad_rows_f64(padded, in, h, w, c, pad, 1.0, nt);
    motion_job j = {padded, h, w, c, pad, ntaps, &t};
    emit_ctx e = {NULL, out, (size_t)w * (size_t)c};
    rc = motion_run(&j, nt, emit_copy, &e, err);
    free(padded);
    motion_taps_free(&t);
    return rc;
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
     * first, border reflect-101 at the edge of the kernel array. OpenCV's
     * vectorised float filters fuse multiply-adds on FMA hardware (every
     * x86-64 with AVX2), and the reference's kernels carry that in their
     * last bits; the order that reproduces them for every table entry:
     * rows, 3 taps: fma(centre, g0, (l1 + r1) * g1); rows, 5 taps and
     * columns: s = centre * g0, then s = fma(l_d + r_d, g_d, s) for d = 1, 2.
     * fmaf rounds once on any machine. */
    const int ks = big ? 5 : 3, kr = ks / 2;
    float g[5];
    cv_gauss_kernel(g, ks, alias_sigma);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            const float *row = k + (size_t)i * n;
            float p1 = row[sa__border_index(j - 1, n, SA__BORDER_REFLECT101)] +
                       row[sa__border_index(j + 1, n, SA__BORDER_REFLECT101)];
            float s;
            if (kr == 1) {
                s = fmaf(row[j], g[1], p1 * g[2]);
            } else {
                float p2 = row[sa__border_index(j - 2, n, SA__BORDER_REFLECT101)] +
                           row[sa__border_index(j + 2, n, SA__BORDER_REFLECT101)];
                s = fmaf(p2, g[4], fmaf(p1, g[3], row[j] * g[2]));
            }
            tmp[(size_t)i * n + j] = s;
        }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            float s = tmp[(size_t)i * n + j] * g[kr];
            for (int d = 1; d <= kr; d++)
                s = fmaf(tmp[(size_t)sa__border_index(i - d, n, SA__BORDER_REFLECT101) * n + j] +
                             tmp[(size_t)sa__border_index(i + d, n, SA__BORDER_REFLECT101) * n + j],
                         g[kr + d], s);
            k[(size_t)i * n + j] = s;
        }
    free(tmp);
    return 0;
}

/* ---- 2-D correlation ---------------------------------------------------------- */

static int kernel_symmetric(const double *k, int km, int kn)
{
    for (int i = 0; i < km; i++)
        for (int j = 0; j < kn; j++) {
            double v = k[(size_t)i * kn + j];
            if (v != k[(size_t)(km - 1 - i) * kn + j] || v != k[(size_t)i * kn + (kn - 1 - j)])
                return 0;
        }
    return 1;
}

/* One term (a + b) * w of the correlation, a and b read from column
 * operand `col` of the rows y + ra and y + rb (ra == rb: a single operand,
 * a read from row y + ra and b from a row of zeros, so that it joins the
 * other terms of its weight). */
typedef struct corr_term {
    double w;
    int col, ra, rb;
} corr_term;

/* by weight, then place: terms of equal weight become one group */
static int corr_term_cmp(const void *pa, const void *pb)
{
    const corr_term *a = pa, *b = pb;
    if (a->w != b->w)
        return a->w < b->w ? -1 : 1;
    if (a->col != b->col)
        return a->col < b->col ? -1 : 1;
    return (a->ra > b->ra) - (a->ra < b->ra);
}

/* Output values per strip (a multiple of every variant's 16-bit register):
 * the column operands of the window's rows, cut to a strip, stay in the
 * first-level cache. */
#define CORR_STRIP 64
/* terms per group: each adds at most 4 * 255, and a group's sum stays
 * below 2^16 */
#define CORR_GROUP_MAX 64

/* The correlation works on the bytes, in two passes, horizontal first.
 * Column operand j of a row is, for a kernel symmetric under both flips,
 * the folded sum b(x - j) + b(x + j) (j = 0: b(x) itself), else the row
 * shifted by j - kw, as 16-bit integers. They are made once per row, into
 * a ring of the window's rows; the terms then read the operands of rows
 * y +- i at aligned places for every output row, add those of equal
 * weight as integers (exact) and multiply each such sum by its weight in
 * double: the value in byte units, sum of w * b = 255 * sum of w * b / 255
 * (the reference's input), stored as trunc(clamp(v, 0, 255)). */
int sa__correlate2d_u8(uint8_t *out, const uint8_t *in, int h, int w, int c, const double *k,
                       int kh, int kw, sa_error *err)
{
    /* the kernel cut to its non-zero taps (the tables' small disks sit in
     * 17 x 17 arrays) */
    int eh = 0, ew = 0;
    for (int i = 0; i < 2 * kh + 1; i++)
        for (int j = 0; j < 2 * kw + 1; j++)
            if (k[(size_t)i * (2 * kw + 1) + j] != 0.0) {
                eh = abs(i - kh) > eh ? abs(i - kh) : eh;
                ew = abs(j - kw) > ew ? abs(j - kw) : ew;
            }
    if (eh < kh || ew < kw) {
        double *kc = malloc((size_t)(2 * eh + 1) * (size_t)(2 * ew + 1) * sizeof *kc);
        if (!kc)
            return nomem(err, "correlate2d");
        for (int i = 0; i < 2 * eh + 1; i++)
            for (int j = 0; j < 2 * ew + 1; j++)
                kc[(size_t)i * (2 * ew + 1) + j] =
                    k[(size_t)(i + kh - eh) * (2 * kw + 1) + (size_t)(j + kw - ew)];
        const int rc = sa__correlate2d_u8(out, in, h, w, c, kc, eh, ew, err);
        free(kc);
        return rc;
    }
    const int kn = 2 * kw + 1, km = 2 * kh + 1;
    const size_t cc = (size_t)c;
    const size_t rowlen = (size_t)w * cc;
    const size_t lead = (size_t)kw * cc;
    const size_t padlen = lead + rowlen + (size_t)kw * cc;
    const int ph = h + 2 * kh;
    const size_t kk = (size_t)km * (size_t)kn;
    const int sym = kernel_symmetric(k, km, kn);
    const int ncol = sym ? kw + 1 : kn;
    const int nthr = (size_t)h * rowlen >= PAR_MIN ? max_threads() : 1;
    corr_term *t = malloc(kk * sizeof *t);
    int *gs = malloc((kk + 1) * sizeof *gs);
    int *ra = malloc((kk + 1) * sizeof *ra), *rb = malloc((kk + 1) * sizeof *rb);
    size_t *off = malloc((kk + 1) * sizeof *off);
    double *gw = malloc(kk * sizeof *gw);
    int *slot_of = malloc((size_t)ncol * sizeof *slot_of); /* operand's place in a row, or -1 */
    uint8_t *pad = malloc((size_t)ph * padlen);
    double *scratch = NULL;
    const uint16_t **ptrs = NULL;
    int rc = 0;
    if (!t || !gs || !ra || !rb || !off || !gw || !slot_of || !pad) {
        rc = nomem(err, "correlate2d");
        goto done;
    }
    for (int j = 0; j < ncol; j++)
        slot_of[j] = -1;
    int nt = 0;
    for (int i = sym ? kh : 0; i < km; i++)
        for (int j = sym ? kw : 0; j < kn; j++) {
            const double v = k[(size_t)i * kn + j];
            if (v == 0.0)
                continue;
            corr_term *q = &t[nt++];
            q->col = sym ? j - kw : j;
            q->ra = sym ? kh - i : i - kh;
            q->rb = i - kh;
            q->w = v;
            slot_of[q->col] = 0;
        }
    int nop = 0; /* operands kept per row */
    for (int j = 0; j < ncol; j++)
        if (slot_of[j] == 0)
            slot_of[j] = nop++;
    qsort(t, (size_t)nt, sizeof *t, corr_term_cmp);
    int ng = 0;
    for (int q = 0; q < nt; q++) {
        if (q == 0 || t[q].w != t[q - 1].w || q - gs[ng - 1] == CORR_GROUP_MAX) {
            gs[ng] = q;
            gw[ng++] = t[q].w;
        }
        /* rows of the window counted from its top, y - kh */
        ra[q] = t[q].ra + kh;
        rb[q] = t[q].ra == t[q].rb ? km : t[q].rb + kh; /* a single tap: + 0 */
        off[q] = (size_t)slot_of[t[q].col] * CORR_STRIP;
    }
    gs[ng] = nt;
    const size_t rowsz = (size_t)nop * CORR_STRIP; /* one row's operands */
    /* per thread: the ring (16-bit, 64-byte aligned by sa__alloc_f64),
     * then the strip's sums */
    const size_t per = (((size_t)km + 1) * rowsz * sizeof(uint16_t) + 63) / 64 * 8 + CORR_STRIP;
    scratch = sa__alloc_f64((size_t)nthr * per);
    ptrs = malloc((size_t)nthr * ((size_t)km + 1) * sizeof *ptrs);
    if (!scratch || !ptrs) {
        rc = nomem(err, "correlate2d");
        goto done;
    }
    const int lanes = sa__vec_lanes();
    const size_t nstrips = (rowlen + CORR_STRIP - 1) / CORR_STRIP;
    SA_OMP("omp parallel num_threads(nthr)")
    {
        const int id = thread_id();
        const uint16_t **rows = ptrs + (size_t)id * ((size_t)km + 1);
        double *mine = scratch + (size_t)id * per;
        uint16_t *ring = (uint16_t *)(void *)mine;
        /* after the ring, a row of zeros: the second operand of single taps */
        rows[km] = ring + (size_t)km * rowsz;
        memset(ring + (size_t)km * rowsz, 0, rowsz * sizeof *ring);
        double *acc = mine + per - CORR_STRIP;
        /* padded rows, reflect-101 both ways */
        SA_OMP("omp for schedule(static)")
        for (int r = 0; r < ph; r++) {
            uint8_t *mid = pad + (size_t)r * padlen + lead;
            const int y = sa__border_index(r - kh, h, SA__BORDER_REFLECT101);
            memcpy(mid, in + (size_t)y * rowlen, rowlen);
            for (int x = -kw; x < 0; x++)
                memcpy(mid - (size_t)(-x) * cc,
                       mid + (size_t)sa__border_index(x, w, SA__BORDER_REFLECT101) * cc, cc);
            for (int x = w; x < w + kw; x++)
                memcpy(mid + (size_t)x * cc,
                       mid + (size_t)sa__border_index(x, w, SA__BORDER_REFLECT101) * cc, cc);
        }
        SA_OMP("omp for schedule(static)")
        for (size_t s = 0; s < nstrips; s++) {
            const size_t m0 = s * CORR_STRIP;
            const size_t len = rowlen - m0 < CORR_STRIP ? rowlen - m0 : CORR_STRIP;
            /* the operands of padded row r into ring row r mod km */
#define CORR_OPERANDS(r)                                                                           \
    do {                                                                                           \
        const uint8_t *src = pad + (size_t)(r) * padlen + lead + m0;                               \
        uint16_t *dst = ring + (size_t)((r) % km) * rowsz;                                         \
        for (int j = 0; j < ncol; j++) {                                                           \
            if (slot_of[j] < 0)                                                                    \
                continue;                                                                          \
            uint16_t *o = dst + (size_t)slot_of[j] * CORR_STRIP;                                   \
            const uint8_t *a = sym ? src - (size_t)j * cc : src + ((ptrdiff_t)j - kw) * c;         \
            const uint8_t *b = sym ? src + (size_t)j * cc : a;                                     \
            FL_RUN(lanes, fold_u16, (o, a, b, len));                                               \
        }                                                                                          \
    } while (0)
            for (int r = 0; r < 2 * kh; r++)
                CORR_OPERANDS(r);
            for (int y = 0; y < h; y++) {
                CORR_OPERANDS(y + 2 * kh);
                for (int i = 0, r = y % km; i < km; i++, r = r + 1 == km ? 0 : r + 1)
                    rows[i] = ring + (size_t)r * rowsz;
                FL_RUN(lanes, group_sum_u16, (acc, rows, ra, rb, off, gw, gs, ng, len));
                FL_RUN(lanes, store_u8, (out + (size_t)y * rowlen + m0, acc, len, 1.0));
            }
#undef CORR_OPERANDS
        }
    }
done:
    free(t);
    free(gs);
    free(ra);
    free(rb);
    free(off);
    free(gw);
    free(slot_of);
    free(pad);
    sa__free_f64(scratch);
    free(ptrs);
    return rc;
}
