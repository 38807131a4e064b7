/* Resampling and cropping with Pillow's and torchvision's arithmetic.
 *
 * sa_image_resample follows Pillow 9's ImagingResample for 8-bit images:
 * separable, horizontal pass first into an 8-bit intermediate, filter
 * support scaled by the downscale factor, weights normalised in double and
 * turned into fixed-point coefficients with 22 fractional bits, each sum
 * started at 2^21 (rounding) and clamped to 0..255.
 *
 * The work is done by a streaming resampler (resample.h): source rows go
 * through the horizontal pass as they arrive into a ring of as many rows
 * as the vertical kernel has taps, and each output row is made as soon as
 * its last source row is in. Only a window of the result can be asked
 * for: its coefficients are those of the full geometry, so its bytes are
 * the same window of the full result. On x86-64 with AVX2 both passes run
 * several lanes at a time with the same 32-bit integer arithmetic
 * (building with -DSA_NO_SIMD keeps the scalar loops only). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "resample.h"

#define PRECISION_BITS (32 - 8 - 2)

static double filter_box(double x)
{
    return (x > -0.5 && x <= 0.5) ? 1.0 : 0.0;
}

static double filter_triangle(double x)
{
    if (x < 0.0)
        x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

/* Fixed-point coefficients of outputs [first, first + count) when
 * resampling in_size -> out_size along one axis. The coefficients depend on
 * the full geometry only, so any subrange equals the same outputs of a full
 * pass. Returns the kernel size, or 0 when out of memory; *bounds holds
 * (first input, count) per output, *coefs ksize ints per output. */
static int precompute(int in_size, int out_size, int first, int count, sa_resample_filter f,
                      int **bounds_out, int32_t **coefs_out)
{
    double (*filter)(double) = f == SA_RESAMPLE_BOX ? filter_box : filter_triangle;
    double support = f == SA_RESAMPLE_BOX ? 0.5 : 1.0;
    double scale = (double)in_size / out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    support *= filterscale;
    int ksize = (int)ceil(support) * 2 + 1;
    int *bounds = malloc(sizeof *bounds * 2 * (size_t)count);
    int32_t *coefs = malloc(sizeof *coefs * (size_t)ksize * (size_t)count);
    double *k = malloc(sizeof *k * (size_t)ksize);
    if (!bounds || !coefs || !k) {
        free(bounds);
        free(coefs);
        free(k);
        return 0;
    }
    for (int i = 0; i < count; i++) {
        int xx = first + i;
        double center = (xx + 0.5) * scale;
        double ww = 0.0, ss = 1.0 / filterscale;
        int xmin = (int)(center - support + 0.5);
        if (xmin < 0)
            xmin = 0;
        int xmax = (int)(center + support + 0.5);
        if (xmax > in_size)
            xmax = in_size;
        xmax -= xmin;
        int x;
        for (x = 0; x < xmax; x++) {
            double w = filter((x + xmin - center + 0.5) * ss);
            k[x] = w;
            ww += w;
        }
        for (x = 0; x < xmax; x++)
            if (ww != 0.0)
                k[x] /= ww;
        for (; x < ksize; x++)
            k[x] = 0.0;
        for (x = 0; x < ksize; x++) {
            double v = k[x] * (1 << PRECISION_BITS);
            coefs[i * ksize + x] = (int32_t)(v < 0 ? v - 0.5 : v + 0.5);
        }
        bounds[2 * i] = xmin;
        bounds[2 * i + 1] = xmax;
    }
    free(k);
    *bounds_out = bounds;
    *coefs_out = coefs;
    return ksize;
}

static inline uint8_t clip8(int32_t v)
{
    v >>= PRECISION_BITS;
    return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)v;
}

/* Horizontal pass for one row: orow[x] for `count` outputs from `row`,
 * whose pixel 0 is input column x0. */
static void hpass_row(uint8_t *restrict orow, const uint8_t *restrict row, int x0, int c,
                      int count, const int *bounds, const int32_t *coefs, int ksize)
{
    const int32_t half = 1 << (PRECISION_BITS - 1);
    for (int x = 0; x < count; x++) {
        const int xn = bounds[2 * x + 1];
        const int32_t *k = coefs + (size_t)x * ksize;
        const uint8_t *p = row + (size_t)(bounds[2 * x] - x0) * c;
        if (c == 3) {
            int32_t s0 = half, s1 = half, s2 = half;
            for (int j = 0; j < xn; j++, p += 3) {
                s0 += p[0] * k[j];
                s1 += p[1] * k[j];
                s2 += p[2] * k[j];
            }
            orow[3 * x] = clip8(s0);
            orow[3 * x + 1] = clip8(s1);
            orow[3 * x + 2] = clip8(s2);
            continue;
        }
        for (int ch = 0; ch < c; ch++) {
            int32_t ss = half;
            for (int j = 0; j < xn; j++)
                ss += p[j * c + ch] * k[j];
            orow[x * c + ch] = clip8(ss);
        }
    }
}

/* Vertical pass for one output row of `len` bytes from rows[0..yn). */
static void vpass_row(uint8_t *restrict orow, const uint8_t *const *rows, int yn,
                      const int32_t *k, size_t from, size_t len)
{
    for (size_t i = from; i < len; i++) {
        int32_t ss = 1 << (PRECISION_BITS - 1);
        for (int j = 0; j < yn; j++)
            ss += rows[j][i] * k[j];
        orow[i] = clip8(ss);
    }
}

/* The horizontal coefficients of an RGB pass laid out for AVX2: outputs go
 * in pairs, one per 128-bit half, each tap's weight repeated over a
 * pixel's lanes; weights past an output's own taps are zero. */
typedef struct hpairs {
    int pairs;      /* count / 2 */
    int *off;       /* per pair: first input column of each output, from x0 */
    int *taps;      /* per pair: the larger tap count */
    int32_t *k;     /* per pair and tap: 8 weights */
} hpairs;

static void hpairs_free(hpairs *h)
{
    free(h->off);
    free(h->taps);
    free(h->k);
    h->off = h->taps = NULL;
    h->k = NULL;
}

/* AVX2 versions, chosen at run time: the same 32-bit integer sums, several
 * lanes at a time, so the bytes are the same as the scalar loops'. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(SA_NO_SIMD)
#include <immintrin.h>
#define SA_HAVE_AVX2_PATH 1

static int cpu_has_avx2(void)
{
    return __builtin_cpu_supports("avx2");
}

static int hpairs_make(hpairs *h, int count, int x0, const int *bounds, const int32_t *coefs,
                       int ksize)
{
    h->pairs = count / 2;
    h->off = malloc(sizeof *h->off * 2 * (size_t)(h->pairs + 1));
    h->taps = malloc(sizeof *h->taps * (size_t)(h->pairs + 1));
    h->k = malloc(sizeof *h->k * 8 * (size_t)ksize * (size_t)(h->pairs + 1));
    if (!h->off || !h->taps || !h->k) {
        hpairs_free(h);
        return -1;
    }
    for (int q = 0; q < h->pairs; q++) {
        const int a = 2 * q, b = 2 * q + 1;
        h->off[2 * q] = bounds[2 * a] - x0;
        h->off[2 * q + 1] = bounds[2 * b] - x0;
        h->taps[q] = bounds[2 * a + 1] > bounds[2 * b + 1] ? bounds[2 * a + 1] : bounds[2 * b + 1];
        for (int j = 0; j < ksize; j++)
            for (int l = 0; l < 4; l++) {
                h->k[((size_t)q * ksize + j) * 8 + l] = coefs[(size_t)a * ksize + j];
                h->k[((size_t)q * ksize + j) * 8 + 4 + l] = coefs[(size_t)b * ksize + j];
            }
    }
    return 0;
}

/* RGB rows only. `row`: the row's pixels from x0, followed by at least
 * 3 * ksize + 1 readable bytes (zeros): the fourth byte read with each
 * pixel and the taps of the shorter output of a pair, whose weights are
 * zero. */
__attribute__((target("avx2"))) static void hpass_row_avx2(uint8_t *restrict orow,
                                                           const uint8_t *restrict row, int x0,
                                                           int count, const int *bounds,
                                                           const int32_t *coefs, int ksize,
                                                           const hpairs *hp)
{
    const __m256i half = _mm256_set1_epi32(1 << (PRECISION_BITS - 1));
    for (int q = 0; q < hp->pairs; q++) {
        const uint8_t *pa = row + (size_t)hp->off[2 * q] * 3;
        const uint8_t *pb = row + (size_t)hp->off[2 * q + 1] * 3;
        const int32_t *k = hp->k + (size_t)q * ksize * 8;
        __m256i acc = half;
        for (int j = 0; j < hp->taps[q]; j++, pa += 3, pb += 3, k += 8) {
            int32_t ua, ub;
            memcpy(&ua, pa, 4);
            memcpy(&ub, pb, 4);
            const __m256i v = _mm256_cvtepu8_epi32(
                _mm_unpacklo_epi32(_mm_cvtsi32_si128(ua), _mm_cvtsi32_si128(ub)));
            acc = _mm256_add_epi32(acc,
                                   _mm256_mullo_epi32(v, _mm256_loadu_si256((const __m256i *)k)));
        }
        acc = _mm256_srai_epi32(acc, PRECISION_BITS);
        __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
        w = _mm_packus_epi16(w, w); /* clamps to 0..255 */
        const uint32_t va = (uint32_t)_mm_cvtsi128_si32(w);
        const uint32_t vb = (uint32_t)_mm_extract_epi32(w, 1);
        uint8_t *o = orow + 6 * q;
        memcpy(o, &va, 4); /* its fourth byte is overwritten next */
        if (2 * q + 2 < count) {
            memcpy(o + 3, &vb, 4);
        } else {
            o[3] = (uint8_t)vb;
            o[4] = (uint8_t)(vb >> 8);
            o[5] = (uint8_t)(vb >> 16);
        }
    }
    const __m128i half4 = _mm_set1_epi32(1 << (PRECISION_BITS - 1));
    for (int x = 2 * hp->pairs; x < count; x++) {
        const int xn = bounds[2 * x + 1];
        const int32_t *k = coefs + (size_t)x * ksize;
        const uint8_t *p = row + (size_t)(bounds[2 * x] - x0) * 3;
        __m128i acc = half4;
        for (int j = 0; j < xn; j++, p += 3) {
            int32_t u;
            memcpy(&u, p, 4);
            acc = _mm_add_epi32(acc, _mm_mullo_epi32(_mm_cvtepu8_epi32(_mm_cvtsi32_si128(u)),
                                                     _mm_set1_epi32(k[j])));
        }
        acc = _mm_srai_epi32(acc, PRECISION_BITS);
        acc = _mm_packus_epi16(_mm_packs_epi32(acc, acc), acc);
        const uint32_t v = (uint32_t)_mm_cvtsi128_si32(acc);
        orow[3 * x] = (uint8_t)v;
        orow[3 * x + 1] = (uint8_t)(v >> 8);
        orow[3 * x + 2] = (uint8_t)(v >> 16);
    }
}

/* Returns how many leading bytes it wrote; the scalar loop does the rest. */
__attribute__((target("avx2"))) static size_t vpass_row_avx2(uint8_t *restrict orow,
                                                             const uint8_t *const *rows, int yn,
                                                             const int32_t *k, size_t len)
{
    const __m256i half = _mm256_set1_epi32(1 << (PRECISION_BITS - 1));
    size_t i = 0;
    for (; i + 16 <= len; i += 16) {
        __m256i a = half, b = half;
        for (int j = 0; j < yn; j++) {
            const __m128i v = _mm_loadu_si128((const __m128i *)(rows[j] + i));
            const __m256i kj = _mm256_set1_epi32(k[j]);
            a = _mm256_add_epi32(a, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(v), kj));
            b = _mm256_add_epi32(
                b, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(_mm_srli_si128(v, 8)), kj));
        }
        a = _mm256_srai_epi32(a, PRECISION_BITS);
        b = _mm256_srai_epi32(b, PRECISION_BITS);
        const __m128i wa = _mm_packs_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
        const __m128i wb = _mm_packs_epi32(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1));
        _mm_storeu_si128((__m128i *)(orow + i), _mm_packus_epi16(wa, wb));
    }
    return i;
}
#endif

/* ---- streaming resampler ---------------------------------------------- */

struct sa__resampler {
    sa_image *out;            /* the window being filled (borrowed) */
    int c, cw, ch;
    int need_h, need_v;
    int *hb, *vb;             /* bounds of the window's outputs */
    int32_t *hk, *vk;
    int hks, vks;
    int x0, y0, x1, y1;       /* the source pixels read */
    int y;                    /* next source row expected */
    int next;                 /* next output row */
    int avx2;
    hpairs hp;                /* AVX2 horizontal pass (RGB) */
    uint8_t *line;            /* a source row and zeros after it, for the AVX2 pass */
    uint8_t *ring;            /* horizontally resampled rows, row y at (y - y0) % vks */
    const uint8_t **rows;
};

void sa__resampler_free(sa__resampler *r)
{
    if (!r)
        return;
    free(r->hb);
    free(r->hk);
    free(r->vb);
    free(r->vk);
    hpairs_free(&r->hp);
    free(r->line);
    free(r->ring);
    free(r->rows);
    free(r);
}

int sa__resampler_new(sa__resampler **out, sa_image *win, int fw, int fh, int ow, int oh, int ox,
                      int oy, sa_resample_filter filter, sa_error *err)
{
    if (filter != SA_RESAMPLE_BOX && filter != SA_RESAMPLE_BILINEAR)
        return sa_error_set(err, SA_EINVAL, "image", "resample: unknown filter %d", (int)filter);
    const int cw = win->w, ch = win->h, c = win->c;
    if (fw <= 0 || fh <= 0 || ow <= 0 || oh <= 0 || ox < 0 || oy < 0 || ox + cw > ow ||
        oy + ch > oh)
        return sa_error_set(err, SA_EINVAL, "image",
                            "resample: window %dx%d+%d+%d outside a %dx%d result", cw, ch, ox, oy,
                            ow, oh);
    sa__resampler *r = calloc(1, sizeof *r);
    if (!r)
        return sa_error_set(err, SA_ENOMEM, "image", "resample: out of memory");
    r->out = win;
    r->c = c;
    r->cw = cw;
    r->ch = ch;
    r->need_h = ow != fw;
    r->need_v = oh != fh;
    r->x0 = ox, r->x1 = ox + cw, r->y0 = oy, r->y1 = oy + ch;
    if (r->need_h) {
        if (!(r->hks = precompute(fw, ow, ox, cw, filter, &r->hb, &r->hk)))
            goto nomem;
        r->x0 = r->hb[0];
        r->x1 = r->hb[2 * (cw - 1)] + r->hb[2 * (cw - 1) + 1];
    }
    if (r->need_v) {
        if (!(r->vks = precompute(fh, oh, oy, ch, filter, &r->vb, &r->vk)))
            goto nomem;
        r->y0 = r->vb[0];
        r->y1 = r->vb[2 * (ch - 1)] + r->vb[2 * (ch - 1) + 1];
        r->ring = malloc((size_t)r->vks * (size_t)cw * (size_t)c);
        r->rows = malloc((size_t)r->vks * sizeof *r->rows);
        if (!r->ring || !r->rows)
            goto nomem;
    }
    r->y = r->y0;
#ifdef SA_HAVE_AVX2_PATH
    r->avx2 = cpu_has_avx2();
    if (r->need_h && c == 3 && r->avx2) {
        const size_t len = (size_t)(r->x1 - r->x0) * 3, pad = 3 * (size_t)r->hks + 4;
        r->line = malloc(len + pad);
        if (!r->line || hpairs_make(&r->hp, cw, r->x0, r->hb, r->hk, r->hks) < 0)
            goto nomem;
        memset(r->line + len, 0, pad);
    }
#endif
    *out = r;
    return 0;
nomem:
    sa__resampler_free(r);
    return sa_error_set(err, SA_ENOMEM, "image", "resample: out of memory");
}

void sa__resampler_source(const sa__resampler *r, int *x0, int *y0, int *x1, int *y1)
{
    *x0 = r->x0, *y0 = r->y0, *x1 = r->x1, *y1 = r->y1;
}

int sa__resampler_done(const sa__resampler *r)
{
    return r->y >= r->y1;
}

void sa__resampler_push(sa__resampler *r, const uint8_t *row)
{
    SA_ASSERT(r->y < r->y1);
    const int y = r->y++;
    const size_t out_row = (size_t)r->cw * (size_t)r->c;
    uint8_t *dst = r->need_v ? r->ring + (size_t)((y - r->y0) % r->vks) * out_row
                             : r->out->data + (size_t)(y - r->y0) * out_row;
    if (!r->need_h)
        memcpy(dst, row, out_row);
#ifdef SA_HAVE_AVX2_PATH
    else if (r->line) {
        memcpy(r->line, row, (size_t)(r->x1 - r->x0) * 3);
        hpass_row_avx2(dst, r->line, r->x0, r->cw, r->hb, r->hk, r->hks, &r->hp);
    }
#endif
    else
        hpass_row(dst, row, r->x0, r->c, r->cw, r->hb, r->hk, r->hks);
    if (!r->need_v)
        return;
    /* Every output whose taps end at this row. */
    while (r->next < r->ch && r->vb[2 * r->next] + r->vb[2 * r->next + 1] <= y + 1) {
        const int o = r->next++, ymin = r->vb[2 * o], yn = r->vb[2 * o + 1];
        for (int j = 0; j < yn; j++)
            r->rows[j] = r->ring + (size_t)((ymin + j - r->y0) % r->vks) * out_row;
        uint8_t *orow = r->out->data + (size_t)o * out_row;
        const int32_t *k = r->vk + (size_t)o * r->vks;
        size_t done = 0;
#ifdef SA_HAVE_AVX2_PATH
        if (r->avx2)
            done = vpass_row_avx2(orow, r->rows, yn, k, out_row);
#endif
        vpass_row(orow, r->rows, yn, k, done, out_row);
    }
}

/* ---- whole-image resampling ------------------------------------------- */

int sa_image_resample_window(sa_image *out, const sa_image *in, int sx, int sy, int fw, int fh,
                             int ow, int oh, int ox, int oy, sa_resample_filter filter,
                             sa_error *err)
{
    if (out->c != in->c)
        return sa_error_set(err, SA_EINVAL, "image", "resample: %d channels into %d", in->c,
                            out->c);
    sa__resampler *r = NULL;
    int rc = sa__resampler_new(&r, out, fw, fh, ow, oh, ox, oy, filter, err);
    if (rc < 0)
        return rc;
    int x0, y0, x1, y1;
    sa__resampler_source(r, &x0, &y0, &x1, &y1);
    if (x0 < sx || y0 < sy || x1 > sx + in->w || y1 > sy + in->h) {
        sa__resampler_free(r);
        return sa_error_set(err, SA_EINVAL, "image",
                            "resample: source window %dx%d+%d+%d misses pixels %d..%d x %d..%d",
                            in->w, in->h, sx, sy, x0, x1, y0, y1);
    }
    const size_t in_row = (size_t)in->w * (size_t)in->c;
    for (int y = y0; y < y1; y++)
        sa__resampler_push(r, in->data + (size_t)(y - sy) * in_row + (size_t)(x0 - sx) * in->c);
    sa__resampler_free(r);
    return 0;
}

int sa_image_resample_into(sa_image *out, const sa_image *in, sa_resample_filter filter,
                           sa_error *err)
{
    return sa_image_resample_window(out, in, 0, 0, in->w, in->h, out->w, out->h, 0, 0, filter,
                                    err);
}

int sa_image_resample_source(int fw, int fh, int ow, int oh, int ox, int oy, int cw, int ch,
                             sa_resample_filter filter, int *x0, int *y0, int *x1, int *y1)
{
    int *b = NULL;
    int32_t *k = NULL;
    *x0 = ox, *x1 = ox + cw, *y0 = oy, *y1 = oy + ch;
    if (ow != fw) {
        if (!precompute(fw, ow, ox, cw, filter, &b, &k))
            return SA_ENOMEM;
        *x0 = b[0];
        *x1 = b[2 * (cw - 1)] + b[2 * (cw - 1) + 1];
        free(b);
        free(k);
    }
    if (oh != fh) {
        if (!precompute(fh, oh, oy, ch, filter, &b, &k))
            return SA_ENOMEM;
        *y0 = b[0];
        *y1 = b[2 * (ch - 1)] + b[2 * (ch - 1) + 1];
        free(b);
        free(k);
    }
    return 0;
}

int sa_image_resample(sa_image **out, const sa_image *in, int w, int h,
                      sa_resample_filter filter, sa_error *err)
{
    sa_image *im;
    int rc = sa_image_new(&im, w, h, in->c, err);
    if (rc < 0)
        return rc;
    rc = sa_image_resample_into(im, in, filter, err);
    if (rc < 0) {
        sa_image_free(im);
        return rc;
    }
    *out = im;
    return 0;
}

void sa_image_shorter_side_size(int w, int h, int size, int *ow, int *oh)
{
    if (w <= h) {
        *ow = size;
        *oh = (int)((double)size * h / w);
    } else {
        *oh = size;
        *ow = (int)((double)size * w / h);
    }
}

int sa_image_resize_shorter(sa_image **out, const sa_image *in, int size, sa_error *err)
{
    if (size <= 0)
        return sa_error_set(err, SA_EINVAL, "image", "resize: size %d must be positive", size);
    int w, h;
    sa_image_shorter_side_size(in->w, in->h, size, &w, &h);
    if (w < 1)
        w = 1;
    if (h < 1)
        h = 1;
    return sa_image_resample(out, in, w, h, SA_RESAMPLE_BILINEAR, err);
}

int sa_image_center_crop(sa_image **out, const sa_image *in, int w, int h, sa_error *err)
{
    if (w <= 0 || h <= 0 || w > in->w || h > in->h)
        return sa_error_set(err, SA_EINVAL, "image", "crop %dx%d does not fit in a %dx%d image", w,
                            h, in->w, in->h);
    int top, left;
    sa_image_center_crop_offsets(in->w, in->h, w, h, &left, &top);
    sa_image *im;
    int rc = sa_image_new(&im, w, h, in->c, err);
    if (rc < 0)
        return rc;
    const size_t row = (size_t)w * in->c;
    for (int y = 0; y < h; y++)
        memcpy(im->data + (size_t)y * row,
               in->data + ((size_t)(top + y) * in->w + (size_t)left) * in->c, row);
    *out = im;
    return 0;
}

void sa_image_center_crop_offsets(int iw, int ih, int w, int h, int *left, int *top)
{
    /* torchvision: int(round((H - h) / 2.0)), Python's round half to even. */
    *top = (int)nearbyint((ih - h) / 2.0);
    *left = (int)nearbyint((iw - w) / 2.0);
}

int sa_image_imagenet_geometry(sa_image **out, const sa_image *in, sa_error *err)
{
    sa_image *r = NULL;
    int rc = sa_image_resize_shorter(&r, in, 256, err);
    if (rc < 0)
        return rc;
    rc = sa_image_center_crop(out, r, 224, 224, err);
    sa_image_free(r);
    return rc;
}
