/* Digital family: contrast and jpeg_compression (elastic_transform and
 * pixelate are in geometric.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "params.h"
#include "simd.h"

/* Grid increments of binade e >= 8: once a running sum s lies in
 * [2^e, 2^(e+1)) it is a multiple of g = 2^(e-52), and while s + u stays
 * below 2^(e+1) the rounded sum fl(s + u) is s + g k(u), k(u) = u / g
 * rounded to the nearest integer (were u / g a half-integer, the rounding
 * would depend on s). For u = fl(v / 255) and m = 52 - e <= 44, write
 * 2^m = 255 q + 2^j (j = m mod 8, as 2^8 = 1 mod 255): then u / g =
 * v q + v 2^j / 255 + d with |d| <= 2^m 2^-53 <= 2^-9, while v 2^j / 255
 * is a multiple of 1/255 and so at least 1/510 > 2^-9 from any
 * half-integer. Hence k = v q + round(v 2^j / 255), never a tie. */
typedef struct grid {
    int64_t q;
    int j;
} grid;

static inline unsigned round_div255(unsigned v, int j)
{
    const unsigned w = (v << j) + 127u; /* at most 32767 */
    return (w + 1u + (w >> 8)) >> 8;    /* w / 255 for w < 65535 */
}

static grid grid_of(int e)
{
    grid gr = {(int64_t)(((uint64_t)1 << (52 - e)) / 255u), (52 - e) % 8};
    return gr;
}

#if defined(__GNUC__) && !defined(__clang__)
typedef uint16_t dg_u16x16 __attribute__((vector_size(32)));
typedef uint8_t dg_u8x16 __attribute__((vector_size(16)));

/* Over `chunks` (<= 256) runs of 48 bytes from b: per byte position (48
 * of them), the sum of the values and of round_div255(v, j) with 2^j =
 * pw[pos], in 16 bits (at most 256 * 255). */
SA_CLONES static void grid_chunk_sums(const uint8_t *b, size_t chunks, const uint16_t pw[48],
                                      uint16_t sv[48], uint16_t sr[48])
{
    dg_u16x16 p[3];
    memcpy(p, pw, sizeof p);
    dg_u16x16 v0 = {0}, v1 = {0}, v2 = {0}, r0 = {0}, r1 = {0}, r2 = {0};
    for (size_t c = 0; c < chunks; c++, b += 48) {
        dg_u8x16 x8[3];
        memcpy(x8, b, 48);
        const dg_u16x16 x0 = __builtin_convertvector(x8[0], dg_u16x16);
        const dg_u16x16 x1 = __builtin_convertvector(x8[1], dg_u16x16);
        const dg_u16x16 x2 = __builtin_convertvector(x8[2], dg_u16x16);
        const dg_u16x16 w0 = x0 * p[0] + 127, w1 = x1 * p[1] + 127, w2 = x2 * p[2] + 127;
        v0 += x0;
        v1 += x1;
        v2 += x2;
        r0 += (w0 + 1 + (w0 >> 8)) >> 8;
        r1 += (w1 + 1 + (w1 >> 8)) >> 8;
        r2 += (w2 + 1 + (w2 >> 8)) >> 8;
    }
    const dg_u16x16 sums[6] = {v0, v1, v2, r0, r1, r2};
    memcpy(sv, sums, 3 * sizeof *sums);
    memcpy(sr, sums + 3, 3 * sizeof *sums);
}
#define DG_CHUNKS 1
#endif

/* sum[k] = the float64 running sum, pixel after pixel, of unit[v] over
 * channel k's values (numpy.mean's order for this layout). The same
 * doubles as that loop, faster: a block of up to 256 pixels whose sums
 * stay within their binades ([2^e, 2^(e+1)), e >= 8, as every increment
 * is at most 1) adds exact integer grid increments (see grid_table) and
 * converts once; its sum, at most 2^52 grid steps, is exact in a double.
 * Other blocks (sums below 256, blocks that may cross a power of two) add
 * one value at a time. */
void sa__running_sums(double sum[4], const uint8_t *src, size_t pixels, int ch)
{
    double unit[256]; /* v / 255, exactly as a per-element division */
    for (int v = 0; v < 256; v++)
        unit[v] = v / 255.0;
    grid gr[4];
    double s[4] = {0, 0, 0, 0};
    /* fast blocks: at most 256 runs of 48 bytes (16-bit sums) */
    const size_t cap = ch == 3 ? 4096 : (ch == 1 ? 12288 : 256);
    for (size_t p0 = 0, m; p0 < pixels; p0 += m) {
        m = pixels - p0 < cap ? pixels - p0 : cap;
        const uint8_t *b = src + p0 * (size_t)ch;
        int fast = 1, e[4] = {0, 0, 0, 0};
        for (int k = 0; k < ch; k++) {
            int ex;
            (void)frexp(s[k], &ex);
            e[k] = ex - 1;
            /* room before 2^(e+1), exact (Sterbenz); m < room keeps the
             * block's sums in the binade */
            const double room = ldexp(1.0, e[k] + 1) - s[k];
            if (!(s[k] >= 256.0) || room < 257.0) {
                fast = 0;
                break;
            }
            size_t fit = room > (double)cap ? cap : (size_t)room;
            if ((double)fit == room)
                fit--;
            m = m < fit ? m : fit;
            gr[k] = grid_of(e[k]);
        }
        if (!fast)
            m = pixels - p0 < 256 ? pixels - p0 : 256;
        if (fast) {
            /* m < room for every channel: K grid steps, exact */
            int64_t kk[4] = {0, 0, 0, 0};
            const size_t bytes = m * (size_t)ch;
            size_t done = 0;
#ifdef DG_CHUNKS
            if (ch == 1 || ch == 3) {
                /* blocks start at a pixel, so byte t has channel t % ch
                 * and each of the 48 positions of a run keeps its channel */
                uint16_t pw[48], sv[48], sr[48];
                for (int t = 0, k = 0; t < 48; t++, k = k + 1 == ch ? 0 : k + 1)
                    pw[t] = (uint16_t)(1u << gr[k].j);
                const size_t chunks = bytes / 48;
                grid_chunk_sums(b, chunks, pw, sv, sr);
                int64_t v[3] = {0, 0, 0}, r[3] = {0, 0, 0};
                for (int t = 0, k = 0; t < 48; t++, k = k + 1 == ch ? 0 : k + 1) {
                    v[k] += sv[t];
                    r[k] += sr[t];
                }
                for (int k = 0; k < ch; k++)
                    kk[k] = v[k] * gr[k].q + r[k];
                done = chunks * 48;
            }
#endif
            for (size_t t = done, k = 0; t < bytes; t++, k = k + 1 == (size_t)ch ? 0 : k + 1)
                kk[k] += b[t] * gr[k].q + (int64_t)round_div255(b[t], gr[k].j); /* done: a multiple of ch */
            for (int k = 0; k < ch; k++)
                s[k] += (double)kk[k] * ldexp(1.0, e[k] - 52);
        } else if (ch == 3) {
            double s0 = s[0], s1 = s[1], s2 = s[2];
            for (size_t p = 0; p < m; p++) {
                s0 += unit[b[3 * p]];
                s1 += unit[b[3 * p + 1]];
                s2 += unit[b[3 * p + 2]];
            }
            s[0] = s0;
            s[1] = s1;
            s[2] = s2;
        } else {
            for (size_t p = 0; p < m; p++)
                for (int k = 0; k < ch; k++)
                    s[k] += unit[b[p * (size_t)ch + (size_t)k]];
        }
    }
    for (int k = 0; k < ch; k++)
        sum[k] = s[k];
}

/* x86-64 GCC or Clang: the 8-bit table mapping also has an AVX-512 VBMI
 * variant (byte permutes over the table held in registers), picked at run
 * time; a look-up is a look-up, so the bytes are the same. */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(SA_NO_CPU_DISPATCH) &&                   \
    !defined(SA_CPU_MAX_AVX2)
#define DIGITAL_VBMI 1
#include <immintrin.h>

/* lut[x] for the 64 bytes of x, the table in four registers. */
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) static inline __m512i
lut64(__m512i x, const __m512i t[4])
{
    const __m512i lo = _mm512_permutex2var_epi8(t[0], x, t[1]);
    const __m512i hi = _mm512_permutex2var_epi8(t[2], x, t[3]);
    return _mm512_mask_blend_epi8(_mm512_movepi8_mask(x), lo, hi);
}

/* dst[i] = lut[i % c][src[i]] for c = 1 or 3 and whole 64-byte blocks;
 * returns the bytes done. Byte j of the block at offset o has channel
 * (o + j) % 3, and 64 = 1 (mod 3), so the channel masks rotate with o. */
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) static size_t
contrast_map_vbmi(uint8_t *dst, const uint8_t *src, size_t nbytes, int c, const uint8_t lut[4][256])
{
    __m512i t[3][4];
    for (int k = 0; k < c; k++)
        for (int q = 0; q < 4; q++)
            t[k][q] = _mm512_loadu_si512(lut[k] + 64 * q);
    size_t i = 0;
    if (c == 1) {
        for (; i + 64 <= nbytes; i += 64)
            _mm512_storeu_si512(dst + i, lut64(_mm512_loadu_si512(src + i), t[0]));
        return i;
    }
    __mmask64 m[3][3]; /* m[phase][k]: bytes of channel k when o % 3 = phase */
    for (int ph = 0; ph < 3; ph++)
        for (int k = 0; k < 3; k++) {
            uint64_t bits = 0;
            for (int j = 0; j < 64; j++)
                bits |= (uint64_t)((ph + j) % 3 == k) << j;
            m[ph][k] = (__mmask64)bits;
        }
    int ph = 0;
    for (; i + 64 <= nbytes; i += 64) {
        const __m512i x = _mm512_loadu_si512(src + i);
        __m512i r = lut64(x, t[0]);
        r = _mm512_mask_mov_epi8(r, m[ph][1], lut64(x, t[1]));
        r = _mm512_mask_mov_epi8(r, m[ph][2], lut64(x, t[2]));
        _mm512_storeu_si512(dst + i, r);
        ph = ph == 2 ? 0 : ph + 1;
    }
    return i;
}
#endif

int sa__contrast(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err)
{
    (void)opt;
    (void)rng;
    (void)err;
    const double c = sa__contrast_factor[table == SA_PARAMS_CIFAR][severity - 1];
    const size_t pixels = (size_t)in->w * (size_t)in->h;
    const int ch = in->c;
    const uint8_t *src = in->data;
    double unit[256]; /* v / 255, exactly as a per-element division */
    for (int v = 0; v < 256; v++)
        unit[v] = v / 255.0;
    /* Per-channel mean of x/255 over all pixels, float64 as numpy.mean:
     * with the channel axis innermost its reduction adds the pixels of each
     * channel one after another: sa__running_sums gives those doubles. */
    double sum[4] = {0, 0, 0, 0};
    sa__running_sums(sum, src, pixels, ch);
    /* The output is a function of the 8-bit value per channel: one table
     * per channel with the per-element formula. */
    uint8_t lut[4][256];
    for (int k = 0; k < ch; k++) {
        const double mean = sum[k] / (double)pixels;
        for (int v = 0; v < 256; v++)
            lut[k][v] = sa__to_u8((unit[v] - mean) * c + mean);
    }
    uint8_t *dst = out->data;
#ifdef DIGITAL_VBMI
    if ((ch == 1 || ch == 3) && __builtin_cpu_supports("avx512vbmi") &&
        __builtin_cpu_supports("avx512bw")) {
        const size_t nbytes = pixels * (size_t)ch;
        size_t i = contrast_map_vbmi(dst, src, nbytes, ch, (const uint8_t(*)[256])lut);
        for (; i < nbytes; i++)
            dst[i] = lut[i % (size_t)ch][src[i]];
        return 0;
    }
#endif
    if (ch == 3) {
        for (size_t p = 0; p < pixels; p++) {
            dst[3 * p] = lut[0][src[3 * p]];
            dst[3 * p + 1] = lut[1][src[3 * p + 1]];
            dst[3 * p + 2] = lut[2][src[3 * p + 2]];
        }
    } else {
        for (size_t p = 0; p < pixels; p++)
            for (int k = 0; k < ch; k++)
                dst[p * ch + k] = lut[k][src[p * ch + k]];
    }
    return 0;
}

/* jpeg_compression: quality per severity, [IN, C10]. */
static const int jpeg_quality[2][5] = {
    {25, 18, 15, 10, 7},
    {80, 65, 58, 50, 40},
};

/* Pillow's save(format='JPEG', quality=q) then decode: libjpeg defaults
 * (baseline-clamped tables, 4:2:0, islow DCT, standard Huffman tables),
 * decoded with islow IDCT and fancy upsampling. */
int sa__jpeg_compression(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err)
{
    (void)opt;
    (void)rng;
    sa_jpeg_options jo = sa_jpeg_options_default();
    jo.quality = jpeg_quality[table == SA_PARAMS_CIFAR][severity - 1];
    jo.optimize = 0;
    void *buf = NULL;
    size_t size = 0;
    int rc = sa_image_encode_jpeg_opts(&buf, &size, in, &jo, err);
    if (rc < 0)
        return rc;
    sa_image *dec = NULL;
    rc = sa_image_decode(&dec, buf, size, in->c, "jpeg_compression", err);
    free(buf);
    if (rc < 0)
        return rc;
    if (dec->w != in->w || dec->h != in->h || dec->c != in->c) {
        sa_image_free(dec);
        return sa_error_set(err, SA_EFORMAT, "corrupt", "jpeg_compression: decoded size differs");
    }
    memcpy(out->data, dec->data, sa_image_size(in));
    sa_image_free(dec);
    return 0;
}
