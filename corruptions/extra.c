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
#include "noise_simd.h"
#include "simd.h"

/* The row loops below get an AVX2 clone picked at load time (simd.h); the
 * build is ISO C (no contraction), so both variants round identically. */
#define SA__CLONES SA_CLONES_AVX2

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

/* Fast kind: the normal draw fused into the pixel loop, eight elements at
 * a time from eight interleaved streams (sa_rng_lanes: element i0 + l of
 * a group takes lane l's word), in blocks of 256; the 1.5 % of words the
 * ziggurat cannot settle alone are finished after each block from the
 * generator's own stream, and their pixels recomputed.
 * trunc(clip(x + x c z) 255) for x = v / 255 is computed as
 * clamp(trunc(v + (v c) z)) (the same law: the two differ only by
 * rounding, about 1e-16 of a level); |z| < 13.8 (the ziggurat's tail ends
 * at r - log(2^-53) / r), so |v c z| < 255 * 0.6 * 13.8 < 2112 stays far
 * inside int32. Every operation is integer or one IEEE operation lane by
 * lane, so the vector loop, its CPU variants and the scalar form below
 * give the same bytes. */
static inline uint8_t speckle_pix(uint8_t v, double c, double z)
{
    const double d = (double)v;
    int32_t t = (int32_t)(d + (d * c) * z);
    t = t < 0 ? 0 : t;
    t = t > 255 ? 255 : t;
    return (uint8_t)t;
}

/* Eight elements from one word per lane; returns the lanes to finish as
 * bits. */
static inline unsigned speckle_group_scalar(uint8_t *dst, const uint8_t *src, int m, double c,
                                            const uint64_t w[8])
{
    unsigned rej = 0;
    for (int l = 0; l < m; l++) {
        int ok;
        const double z = sa_rng_zig_first(w[l], &ok);
        dst[l] = speckle_pix(src[l], c, z);
        rej |= (unsigned)!ok << l;
    }
    return rej;
}

#ifdef SA_RNG_LANES_VEC
typedef uint64_t spk_u8 __attribute__((vector_size(64)));
typedef int64_t spk_l8 __attribute__((vector_size(64)));
typedef double spk_d8 __attribute__((vector_size(64)));
typedef int32_t spk_i8 __attribute__((vector_size(32)));
typedef uint8_t spk_b8 __attribute__((vector_size(8)));

/* m elements (a multiple of 8) of one block; rejected words and their
 * indices go to rej_w, rej_i; returns their count. */
SA_CLONES static size_t speckle_block_vec(uint8_t *dst, const uint8_t *src, size_t m, double c,
                                          sa_rng_lanes *L, uint64_t *rej_w, uint32_t *rej_i)
{
    sa_u64x8 s[4];
    memcpy(s, L->s, sizeof s);
    const spk_d8 cc = {c, c, c, c, c, c, c, c};
    size_t nrej = 0;
    for (size_t i = 0; i < m; i += 8) {
        sa_u64x8 w;
        sa_rng_lanes_step(s, &w);
        const spk_u8 u = w >> 11;
        uint64_t wl[8], kl[8];
        double scl[8];
        memcpy(wl, &w, sizeof wl);
        for (int l = 0; l < 8; l++) {
            kl[l] = sa__zig_k[wl[l] & 255u];
            scl[l] = sa__zig_w[wl[l] & 511u];
        }
        spk_u8 k;
        spk_d8 sc;
        memcpy(&k, kl, sizeof k);
        memcpy(&sc, scl, sizeof sc);
        const spk_d8 z = __builtin_convertvector((spk_l8)u, spk_d8) * sc;
        spk_b8 vb;
        memcpy(&vb, src + i, 8);
        const spk_d8 d = __builtin_convertvector(__builtin_convertvector(vb, spk_i8), spk_d8);
        spk_i8 t = __builtin_convertvector(d + (d * cc) * z, spk_i8);
        t &= ~(t < 0);
        const spk_i8 big = t > 255;
        t = (t & ~big) | (255 & big);
        const spk_b8 ob = __builtin_convertvector(t, spk_b8);
        memcpy(dst + i, &ob, 8);
        const spk_l8 bad = (spk_l8)(u >= k);
        spk_l8 any = bad | __builtin_shuffle(bad, (spk_l8){4, 5, 6, 7, 0, 1, 2, 3});
        any |= __builtin_shuffle(any, (spk_l8){2, 3, 0, 1, 6, 7, 4, 5});
        if (any[0] | any[1]) {
            for (int l = 0; l < 8; l++) {
                rej_w[nrej] = w[l];
                rej_i[nrej] = (uint32_t)(i + (size_t)l);
                nrej += bad[l] != 0;
            }
        }
    }
    memcpy(L->s, s, sizeof s);
    return nrej;
}
#endif

#ifdef SA_NOISE_AVX512
/* The vector loop above with AVX-512 gathers for the two ziggurat tables
 * (the same operations lane by lane, so the same bytes). */
SA_AVX512_TARGET static size_t speckle_block_avx512(uint8_t *dst, const uint8_t *src, size_t m,
                                                    double c, sa_rng_lanes *L, uint64_t *rej_w,
                                                    uint32_t *rej_i)
{
    __m512i s0 = _mm512_loadu_si512(L->s[0]), s1 = _mm512_loadu_si512(L->s[1]);
    __m512i s2 = _mm512_loadu_si512(L->s[2]), s3 = _mm512_loadu_si512(L->s[3]);
    const __m512d cc = _mm512_set1_pd(c);
    const __m512i m255 = _mm512_set1_epi64(255), m511 = _mm512_set1_epi64(511);
    const __m256i zero = _mm256_setzero_si256();
    uint64_t words[256];
    uint8_t bad[32];
    SA_ASSERT(m <= 256);
    size_t nrej = 0;
    for (size_t i = 0; i < m; i += 8) {
        const __m512i x = _mm512_add_epi64(_mm512_slli_epi64(s1, 2), s1);
        const __m512i y = _mm512_rol_epi64(x, 7);
        const __m512i w = _mm512_add_epi64(_mm512_slli_epi64(y, 3), y);
        const __m512i t = _mm512_slli_epi64(s1, 17);
        s2 = _mm512_xor_si512(s2, s0);
        s3 = _mm512_xor_si512(s3, s1);
        s1 = _mm512_xor_si512(s1, s2);
        s0 = _mm512_xor_si512(s0, s3);
        s2 = _mm512_xor_si512(s2, t);
        s3 = _mm512_rol_epi64(s3, 45);
        const __m512i u = _mm512_srli_epi64(w, 11);
        const __m512i k = _mm512_i64gather_epi64(_mm512_and_si512(w, m255), (const void *)sa__zig_k, 8);
        const __m512d sc = _mm512_i64gather_pd(_mm512_and_si512(w, m511), (const void *)sa__zig_w, 8);
        const __m512d z = _mm512_mul_pd(_mm512_cvtepi64_pd(u), sc);
        const __m512d d = _mm512_cvtepi32_pd(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(src + i))));
        __m256i v = _mm512_cvttpd_epi32(_mm512_add_pd(d, _mm512_mul_pd(_mm512_mul_pd(d, cc), z)));
        /* clamp: negatives to 0, then an unsigned saturating narrowing */
        v = _mm256_max_epi32(v, zero);
        _mm_storel_epi64((__m128i *)(void *)(dst + i), _mm256_cvtusepi32_epi8(v));
        /* the words and which of them the ziggurat rejected, sorted out
         * after the loop (one store each here, no branch) */
        _mm512_storeu_si512(words + i, w);
        bad[i / 8] = (uint8_t)_mm512_cmpge_epu64_mask(u, k);
    }
    for (size_t g = 0; g < m / 8; g++)
        for (unsigned b = bad[g]; b; b &= b - 1) {
            const size_t e = g * 8 + (size_t)__builtin_ctz(b);
            rej_w[nrej] = words[e];
            rej_i[nrej++] = (uint32_t)e;
        }
    _mm512_storeu_si512(L->s[0], s0);
    _mm512_storeu_si512(L->s[1], s1);
    _mm512_storeu_si512(L->s[2], s2);
    _mm512_storeu_si512(L->s[3], s3);
    return nrej;
}
#endif

#ifdef SA_NOISE_AVX2
/* (double)u for u < 2^53, exactly, without AVX-512's conversion: the two
 * 32-bit halves through the 2^52 bias, then their exact sum. */
SA_AVX2_TARGET static inline __m256d u53_to_pd(__m256i u)
{
    const __m256i bias = _mm256_set1_epi64x(0x4330000000000000LL);
    const __m256d b = _mm256_castsi256_pd(bias);
    const __m256d h = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(_mm256_srli_epi64(u, 32), bias)), b);
    const __m256d l = _mm256_sub_pd(
        _mm256_castsi256_pd(_mm256_or_si256(_mm256_and_si256(u, _mm256_set1_epi64x(0xffffffffLL)), bias)), b);
    return _mm256_add_pd(_mm256_mul_pd(h, _mm256_set1_pd(4294967296.0)), l);
}

/* The AVX-512 loop above in AVX2: the eight lanes as two halves of four,
 * gathers for the two ziggurat tables (the same operations lane by lane). */
SA_AVX2_TARGET static size_t speckle_block_avx2(uint8_t *dst, const uint8_t *src, size_t m,
                                                double c, sa_rng_lanes *L, uint64_t *rej_w,
                                                uint32_t *rej_i)
{
    __m256i lo[4], hi[4];
    sa__xoshiro4_load(lo, L->s, 0);
    sa__xoshiro4_load(hi, L->s, 1);
    const __m256d cc = _mm256_set1_pd(c);
    const __m256i m255 = _mm256_set1_epi64x(255), m511 = _mm256_set1_epi64x(511);
    const __m128i zero = _mm_setzero_si128(), top = _mm_set1_epi32(255);
    uint64_t words[256];
    uint8_t bad[32];
    SA_ASSERT(m <= 256);
    size_t nrej = 0;
    for (size_t i = 0; i < m; i += 8) {
        __m128i v[2];
        unsigned b = 0;
        for (int half = 0; half < 2; half++) {
            const __m256i w = sa__xoshiro4_step(half ? hi : lo);
            const size_t i4 = i + 4 * (size_t)half;
            const __m256i u = _mm256_srli_epi64(w, 11);
            const __m256i k = _mm256_i64gather_epi64((const long long *)(const void *)sa__zig_k,
                                                     _mm256_and_si256(w, m255), 8);
            const __m256d sc = _mm256_i64gather_pd(sa__zig_w, _mm256_and_si256(w, m511), 8);
            const __m256d z = _mm256_mul_pd(u53_to_pd(u), sc);
            uint32_t px;
            memcpy(&px, src + i4, sizeof px);
            const __m256d d = _mm256_cvtepi32_pd(_mm_cvtepu8_epi32(_mm_cvtsi32_si128((int)px)));
            v[half] = _mm_min_epi32(
                _mm_max_epi32(
                    _mm256_cvttpd_epi32(_mm256_add_pd(d, _mm256_mul_pd(_mm256_mul_pd(d, cc), z))),
                    zero),
                top);
            _mm256_storeu_si256((__m256i *)(void *)(words + i4), w);
            /* both below 2^63: the signed comparison is the unsigned one */
            b |= (~(unsigned)_mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpgt_epi64(k, u))) & 15u)
                 << (4 * half);
        }
        /* clamped to 0..255 as the AVX-512 loop's saturating narrowing does */
        const __m128i p16 = _mm_packus_epi32(v[0], v[1]);
        _mm_storel_epi64((__m128i *)(void *)(dst + i), _mm_packus_epi16(p16, p16));
        bad[i / 8] = (uint8_t)b;
    }
    for (size_t g = 0; g < m / 8; g++)
        for (unsigned b = bad[g]; b; b &= b - 1) {
            const size_t e = g * 8 + (size_t)__builtin_ctz(b);
            rej_w[nrej] = words[e];
            rej_i[nrej++] = (uint32_t)e;
        }
    sa__xoshiro4_store(L->s, lo, 0);
    sa__xoshiro4_store(L->s, hi, 1);
    return nrej;
}
#endif

void sa__speckle_fast(uint8_t *dst, const uint8_t *src, size_t n, double c, sa_rng *rng, int path)
{
    SA_ASSERT(c > 0.0 && c <= 0.6);
    const int best = sa__noise_best_path();
    if (path < 0 || path > best)
        path = best;
    sa_rng_lanes L;
    sa_rng_lanes_seed(&L, rng);
    uint64_t rej_w[256 + 8];
    uint32_t rej_i[256 + 8];
    sa_rng_stream st = sa_rng_stream_take(rng);
    for (size_t i0 = 0; i0 < n; i0 += 256) {
        const size_t m = n - i0 < 256 ? n - i0 : 256;
        size_t nrej = 0, i = 0;
#ifdef SA_NOISE_AVX512
        if (path == 3) {
            i = m & ~(size_t)7;
            nrej = speckle_block_avx512(dst + i0, src + i0, i, c, &L, rej_w, rej_i);
        }
#endif
#ifdef SA_NOISE_AVX2
        if (path == 2) {
            i = m & ~(size_t)7;
            nrej = speckle_block_avx2(dst + i0, src + i0, i, c, &L, rej_w, rej_i);
        }
#endif
#ifdef SA_RNG_LANES_VEC
        if (path == 1) {
            i = m & ~(size_t)7;
            nrej = speckle_block_vec(dst + i0, src + i0, i, c, &L, rej_w, rej_i);
        }
#endif
        for (; i < m; i += 8) {
            uint64_t w[8];
            sa_rng_lanes_next8(&L, w);
            const int g = m - i < 8 ? (int)(m - i) : 8;
            const unsigned rej = speckle_group_scalar(dst + i0 + i, src + i0 + i, g, c, w);
            for (int l = 0; l < g; l++)
                if (rej >> l & 1u) {
                    rej_w[nrej] = w[l];
                    rej_i[nrej++] = (uint32_t)(i + (size_t)l);
                }
        }
        for (size_t j = 0; j < nrej; j++) {
            const size_t e = i0 + rej_i[j];
            dst[e] = speckle_pix(src[e], c, sa_rng_zig_finish(&st, rej_w[j]));
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
        sa__speckle_fast(dst, src, n, c, rng, -1);
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

/* Scratch of canny_inv(): zero-padded magnitude, Sobel derivatives,
 * padded edge map and the hysteresis stack, carved from one block of
 * canny_scratch_size(h, w) bytes (8-byte aligned). */
typedef struct canny_buf {
    int *mag;      /* (h+2) x (w+2) */
    int *stack;    /* (h+2) x (w+2) */
    int16_t *dx;   /* h x w */
    int16_t *dy;   /* h x w */
    uint8_t *map;  /* (h+2) x (w+2): 0 weak candidate, 1 none, 2 edge */
} canny_buf;

static size_t canny_scratch_size(int h, int w)
{
    const size_t pad = (size_t)(h + 2) * (size_t)(w + 2), n = (size_t)h * w;
    return 2 * sizeof(int) * pad + 2 * sizeof(int16_t) * n + pad;
}

static canny_buf canny_carve(void *block, int h, int w)
{
    const size_t pad = (size_t)(h + 2) * (size_t)(w + 2), n = (size_t)h * w;
    canny_buf b;
    b.mag = block;
    b.stack = b.mag + pad;
    b.dx = (int16_t *)(b.stack + pad);
    b.dy = b.dx + n;
    b.map = (uint8_t *)(b.dy + n);
    return b;
}

/* Sobel derivatives and L1 magnitude of row y (3x3, replicated border),
 * one branch-free loop over the interior columns. */
SA__CLONES
static void sobel_row(int16_t *restrict dx, int16_t *restrict dy, int *restrict mag,
                      const uint8_t *r0, const uint8_t *r1, const uint8_t *r2, int w)
{
    for (int e = 0; e < 2 && e < w; e++) {
        const int x = e == 0 ? 0 : w - 1;
        const int xl = clampi(x - 1, 0, w - 1), xr = clampi(x + 1, 0, w - 1);
        int gx = (r0[xr] - r0[xl]) + 2 * (r1[xr] - r1[xl]) + (r2[xr] - r2[xl]);
        int gy = (r2[xl] + 2 * r2[x] + r2[xr]) - (r0[xl] + 2 * r0[x] + r0[xr]);
        dx[x] = (int16_t)gx;
        dy[x] = (int16_t)gy;
        mag[x] = abs(gx) + abs(gy);
    }
    for (int x = 1; x < w - 1; x++) {
        int gx = (r0[x + 1] - r0[x - 1]) + 2 * (r1[x + 1] - r1[x - 1]) + (r2[x + 1] - r2[x - 1]);
        int gy = (r2[x - 1] + 2 * r2[x] + r2[x + 1]) - (r0[x - 1] + 2 * r0[x] + r0[x + 1]);
        dx[x] = (int16_t)gx;
        dy[x] = (int16_t)gy;
        mag[x] = abs(gx) + abs(gy);
    }
}

/* Non-maximum suppression of one row (OpenCV's tie rules): map entries 2
 * (strong), 0 (weak candidate) or 1 (none). mp is the padded magnitude row,
 * mprev / mnext its neighbours. Branch-free, so it vectorises. */
SA__CLONES
static void nms_row(uint8_t *restrict mr, const int *mp, const int *mprev, const int *mnext,
                    const int16_t *dx, const int16_t *dy, int w, int low, int high)
{
    const int TG22 = 13573; /* tan(22.5 deg) * 2^15 */
    for (int x = 0; x < w; x++) {
        const int m = mp[x];
        const int xs = dx[x], ys = dy[x];
        const int ax = xs < 0 ? -xs : xs, ayv = ys < 0 ? -ys : ys;
        /* |gx|, |gy| <= 1020: every product fits in 32 bits. */
        const int ay = ayv << 15, tg22x = ax * TG22, tg67x = tg22x + (ax << 16);
        /* Every neighbour is loaded, then selected: no branches. */
        const int pl = mp[x - 1], pr = mp[x + 1];
        const int ul = mprev[x - 1], uc = mprev[x], ur = mprev[x + 1];
        const int dl = mnext[x - 1], dc = mnext[x], dr = mnext[x + 1];
        const int horiz = ay < tg22x, vert = !horiz & (ay > tg67x);
        const int same = (xs ^ ys) >= 0; /* diagonal through (-1,-1) and (1,1) */
        const int dprev = same ? ul : ur;
        const int dnext = same ? dr : dl;
        const int n1 = horiz ? pl : (vert ? uc : dprev);
        const int n2 = horiz ? pr : (vert ? dc : dnext);
        const int diag = !horiz & !vert;
        const int keep = (m > low) & (m > n1) & (diag ? m > n2 : m >= n2);
        mr[x] = (uint8_t)(keep ? (m > high ? 2 : 0) : 1);
    }
}

/* Canny edge map of an 8-bit image (3x3 Sobel with replicated border, L1
 * magnitude, 4-direction non-maximum suppression with OpenCV's tie rules,
 * hysteresis with 8-connectivity), inverted: 0 on edges, 255 elsewhere. */
static void canny_inv(uint8_t *notedge, const uint8_t *src, int h, int w, int low, int high,
                      const canny_buf *buf)
{
    const int mw = w + 2;
    int *mag = buf->mag, *stack = buf->stack;
    int16_t *dx = buf->dx, *dy = buf->dy;
    uint8_t *map = buf->map;

    memset(mag, 0, sizeof(int) * (size_t)(h + 2) * mw);
    for (int y = 0; y < h; y++)
        sobel_row(dx + (size_t)y * w, dy + (size_t)y * w, mag + (size_t)(y + 1) * mw + 1,
                  src + (size_t)clampi(y - 1, 0, h - 1) * w, src + (size_t)y * w,
                  src + (size_t)clampi(y + 1, 0, h - 1) * w, w);
    memset(map, 1, (size_t)mw);
    memset(map + (size_t)(h + 1) * mw, 1, (size_t)mw);
    size_t sp = 0;
    for (int y = 0; y < h; y++) {
        const int *mp = mag + (size_t)(y + 1) * mw + 1;
        uint8_t *mr = map + (size_t)(y + 1) * mw;
        mr[0] = mr[w + 1] = 1;
        nms_row(mr + 1, mp, mp - mw, mp + mw, dx + (size_t)y * w, dy + (size_t)y * w, w, low,
                high);
        for (int x = 1; x <= w; x++) { /* push strong pixels, without branches */
            stack[sp] = (y + 1) * mw + x;
            sp += mr[x] == 2;
        }
    }
    /* Hysteresis: grow edges into weak candidates, 8-connected (the
     * result is the closure, whatever the visiting order). */
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
    for (int y = 0; y < h; y++) {
        const uint8_t *mr = map + (size_t)(y + 1) * mw + 1;
        uint8_t *o = notedge + (size_t)y * w;
        for (int x = 0; x < w; x++)
            o[x] = mr[x] == 2 ? 0 : 255;
    }
}

static inline unsigned umin(unsigned a, unsigned b)
{
    return a < b ? a : b;
}

/* t[j] = min(row[j], t[j -/+ 1] + step) along a row, from the left
 * (dir = 1, t[-1] = edge) or from the right (dir = -1, t[w] = edge). Four
 * texels a step: the minima within the four do not wait for the previous
 * four, so the sequential part is one add and one minimum per four. */
static inline void minplus_scan(unsigned *t, const unsigned *row, int w, unsigned edge,
                                unsigned step, int dir)
{
    unsigned c = edge;
    int j = 0;
    for (; j + 4 <= w; j += 4) {
        const int j0 = dir > 0 ? j : w - 1 - j, j1 = j0 + dir, j2 = j1 + dir, j3 = j2 + dir;
        const unsigned p0 = row[j0], p1 = umin(row[j1], p0 + step), p2 = umin(row[j2], p1 + step),
                       p3 = umin(row[j3], p2 + step);
        t[j0] = umin(p0, c + step);
        t[j1] = umin(p1, c + 2 * step);
        t[j2] = umin(p2, c + 3 * step);
        t[j3] = c = umin(p3, c + 4 * step);
    }
    for (; j < w; j++) {
        const int jj = dir > 0 ? j : w - 1 - j;
        t[jj] = c = umin(row[jj], c + step);
    }
}

/* OpenCV distanceTransform(DIST_L2, mask 5) of the non-zero pixels of src,
 * clipped at 20: two-pass 5x5 chamfer in 16.16 fixed point with steps 1,
 * 1.4, 2.1969; pixels beyond the border are never zeros. Each pass takes
 * the minimum over the neighbours in the finished rows for a whole row at
 * once (vectorised; a minimum of unsigned sums is the same in any order),
 * then scans the one term along the row (left, or right).
 *
 * Two rewrites that leave every output value unchanged: values are capped
 * at INIT (a minimum capped at K equals the minimum of the capped terms,
 * capped at K, as every step is positive, and outputs saturate at
 * DMAX < INIT), which also keeps every sum far from 2^32; and the backward
 * pass updates every pixel, not only those above one step (a pixel of at
 * most one step cannot be lowered: every term adds at least one step).
 * tmp: (h+4)*(w+4) uints, row: w uints. */
SA__CLONES
static void distance_5x5(float *dist, const uint8_t *src, int h, int w, unsigned *tmp,
                         unsigned *restrict row)
{
    const int B = 2, st = w + 4;
    const unsigned HV = (unsigned)lrint(1.0f * 65536.0), DG = (unsigned)lrint(1.4f * 65536.0),
                   LG = (unsigned)lrint(2.1969f * 65536.0);
    const unsigned INIT = INT_MAX, DMAX = INT_MAX >> 2;
    const float scale = 1.f / 65536.f;
    /* Only the border is read before it is written: two rows above and
     * below, two columns either side. */
    for (int i = 0; i < 2 * st; i++)
        tmp[i] = tmp[(size_t)(h + 2) * st + i] = INIT;
    for (int i = 0; i < h; i++) {
        unsigned *t = tmp + (size_t)(i + B) * st;
        t[0] = t[1] = t[w + 2] = t[w + 3] = INIT;
    }
    for (int i = 0; i < h; i++) {
        const uint8_t *s = src + (size_t)i * w;
        unsigned *t = tmp + (size_t)(i + B) * st + B;
        const unsigned *u2 = t - 2 * st, *u1 = t - st;
        for (int j = 0; j < w; j++) {
            unsigned t0 = umin(u2[j - 1] + LG, u2[j + 1] + LG);
            t0 = umin(t0, u1[j - 2] + LG);
            t0 = umin(t0, u1[j - 1] + DG);
            t0 = umin(t0, u1[j] + HV);
            t0 = umin(t0, u1[j + 1] + DG);
            t0 = umin(t0, u1[j + 2] + LG);
            t0 = umin(t0, INIT);
            row[j] = s[j] ? t0 : 0; /* a zero pixel stays 0 whatever its left */
        }
        minplus_scan(t, row, w, INIT, HV, 1);
    }
    for (int i = h - 1; i >= 0; i--) {
        float *d = dist + (size_t)i * w;
        unsigned *t = tmp + (size_t)(i + B) * st + B;
        const unsigned *d1 = t + st, *d2 = t + 2 * st;
        for (int j = 0; j < w; j++) {
            unsigned t0 = umin(t[j], d2[j + 1] + LG);
            t0 = umin(t0, d2[j - 1] + LG);
            t0 = umin(t0, d1[j + 2] + LG);
            t0 = umin(t0, d1[j + 1] + DG);
            t0 = umin(t0, d1[j] + HV);
            t0 = umin(t0, d1[j - 1] + DG);
            t0 = umin(t0, d1[j - 2] + LG);
            row[j] = t0;
        }
        minplus_scan(t, row, w, INIT, HV, -1);
        for (int j = 0; j < w; j++) {
            unsigned t0 = umin(t[j], DMAX);
            float v = (float)(int)t0 * scale;
            d[j] = v > 20.f ? 20.f : v;
        }
    }
}

/* OpenCV equalizeHist, in place. */
static void equalize_hist(uint8_t *a, size_t n)
{
    int hs[4][256] = {{0}}; /* four partial histograms: independent counters */
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        hs[0][a[i]]++;
        hs[1][a[i + 1]]++;
        hs[2][a[i + 2]]++;
        hs[3][a[i + 3]]++;
    }
    for (; i < n; i++)
        hs[0][a[i]]++;
    int hist[256];
    for (int k = 0; k < 256; k++)
        hist[k] = hs[0][k] + hs[1][k] + hs[2][k] + hs[3][k];
    int i0 = 0;
    while (!hist[i0])
        ++i0;
    if (hist[i0] == (int)n)
        return;
    uint8_t lut[256];
    float scale = (255.f) / (float)(n - (size_t)hist[i0]);
    int sum = 0;
    for (int k = 0; k < 256; k++)
        lut[k] = 0;
    for (int k = i0 + 1; k < 256; k++) {
        sum += hist[k];
        int v = (int)lrintf((float)sum * scale);
        lut[k] = (uint8_t)(v < 0 ? 0 : (v > 255 ? 255 : v));
    }
    for (i = 0; i < n; i++)
        a[i] = lut[a[i]];
}

/* 3x3 box mean of the clipped distances, reflect-101, sums in double
 * (exact: multiples of 2^-16 up to 20), truncated to uint8: the sum of the
 * three row sums ((double)r[x-1] + r[x]) + r[x+1], top row first. A row's
 * sums are computed once and serve the three output rows that use them. */
SA__CLONES
static void hsum3_row(double *restrict hs, const float *restrict r, int w)
{
    hs[0] = ((double)r[r101(-1, w)] + r[0]) + r[r101(1, w)];
    for (int x = 1; x < w - 1; x++)
        hs[x] = ((double)r[x - 1] + r[x]) + r[x + 1];
    if (w > 1)
        hs[w - 1] = ((double)r[w - 2] + r[w - 1]) + r[r101(w, w)];
}

SA__CLONES
static void box_dist_row(uint8_t *restrict o, const double *s0, const double *s1, const double *s2,
                         int w)
{
    for (int x = 0; x < w; x++) {
        double s = (s0[x] + s1[x]) + s2[x];
        float v = (float)(s * (1.0 / 9.0));
        o[x] = (uint8_t)(int)v;
    }
}

/* Emboss [[-2,-1,0],[-1,1,1],[0,1,2]], reflect-101, saturated. */
static inline uint8_t emboss_px(const uint8_t *r0, const uint8_t *r1, const uint8_t *r2, int l,
                                int x, int r)
{
    int v = -2 * r0[l] - r0[x] - r1[l] + r1[x] + r1[r] + r2[x] + 2 * r2[r];
    return (uint8_t)(v < 0 ? 0 : (v > 255 ? 255 : v));
}

SA__CLONES
static void emboss_row(uint8_t *restrict o, const uint8_t *r0, const uint8_t *r1,
                       const uint8_t *r2, int w)
{
    o[0] = emboss_px(r0, r1, r2, r101(-1, w), 0, r101(1, w));
    for (int x = 1; x < w - 1; x++)
        o[x] = emboss_px(r0, r1, r2, x - 1, x, x + 1);
    if (w > 1)
        o[w - 1] = emboss_px(r0, r1, r2, w - 2, w - 1, r101(w, w));
}

/* 3x3 box mean of uint8, rounded as OpenCV's fixed-point division by 9
 * ((s + 4) * 932068 >> 23; at most 2299 * 932068 < 2^32), times L8. */
static inline float box_u8(const uint8_t *r0, const uint8_t *r1, const uint8_t *r2,
                           const uint8_t *lr, int l, int x, int r)
{
    unsigned s = (unsigned)(r0[l] + r0[x] + r0[r] + r1[l] + r1[x] + r1[r] + r2[l] + r2[x] + r2[r]);
    unsigned v = ((s + 4u) * 932068u) >> 23;
    return (float)lr[x] * (float)(int)v;
}

SA__CLONES
static void box_u8_row(float *restrict o, const uint8_t *r0, const uint8_t *r1, const uint8_t *r2,
                       const uint8_t *lr, int w)
{
    o[0] = box_u8(r0, r1, r2, lr, r101(-1, w), 0, r101(1, w));
    for (int x = 1; x < w - 1; x++)
        o[x] = box_u8(r0, r1, r2, lr, x - 1, x, x + 1);
    if (w > 1)
        o[w - 1] = box_u8(r0, r1, r2, lr, w - 2, w - 1, r101(w, w));
}

/* The water texture m (h*w floats, before normalisation) from L8. The
 * distance transform, then the box mean's row sums, reuse the scratch of
 * the edge detector. */
static int water(float *m, const uint8_t *l8, int h, int w, sa_error *err)
{
    const size_t n = (size_t)h * w;
    const size_t dist_bytes = sizeof(unsigned) * ((size_t)(h + 4) * (w + 4) + (size_t)w);
    const size_t c_bytes = canny_scratch_size(h, w);
    const size_t hs_bytes = sizeof(double) * 3 * (size_t)w;
    size_t scratch = c_bytes > dist_bytes ? c_bytes : dist_bytes;
    scratch = scratch > hs_bytes ? scratch : hs_bytes;
    /* scratch (8-byte multiples first), distances, then two byte planes */
    const size_t off_dist = (scratch + 7) / 8 * 8, off_a = off_dist + sizeof(float) * n;
    unsigned char *block = malloc(off_a + 2 * n);
    if (!block)
        return sa_error_set(err, SA_ENOMEM, "corrupt", "out of memory (spatter %dx%d)", w, h);
    const canny_buf cb = canny_carve(block, h, w);
    unsigned *tmp = (unsigned *)block;
    float *dist = (float *)(block + off_dist);
    uint8_t *a = block + off_a, *b = a + n;
    canny_inv(a, l8, h, w, 50, 150, &cb);
    distance_5x5(dist, a, h, w, tmp, tmp + (size_t)(h + 4) * (w + 4));
    /* Row sums of the distances in three rolling rows (row r in slot
     * r % 3): output row y reads rows y - 1, y, y + 1, reflected. */
    double *hs = (double *)block; /* the distance scratch is free again */
    int done_rows = 0;
    for (int y = 0; y < h; y++) {
        const int need = y + 1 < h ? y + 1 : h - 1;
        for (; done_rows <= need; done_rows++)
            hsum3_row(hs + (size_t)(done_rows % 3) * w, dist + (size_t)done_rows * w, w);
        box_dist_row(a + (size_t)y * w, hs + (size_t)(r101(y - 1, h) % 3) * w,
                     hs + (size_t)(y % 3) * w, hs + (size_t)(r101(y + 1, h) % 3) * w, w);
    }
    equalize_hist(a, n);
    for (int y = 0; y < h; y++)
        emboss_row(b + (size_t)y * w, a + (size_t)r101(y - 1, h) * w, a + (size_t)y * w,
                   a + (size_t)r101(y + 1, h) * w, w);
    for (int y = 0; y < h; y++)
        box_u8_row(m + (size_t)y * w, b + (size_t)r101(y - 1, h) * w, b + (size_t)y * w,
                   b + (size_t)r101(y + 1, h) * w, l8 + (size_t)y * w, w);
    free(block);
    return 0;
}

/* Water colour on a 3-channel row: out[j] = uint8(clip(in[j] / 255 +
 * mv[j] col[j], 0, 1) * 255) (float32), with mv and col spread to one
 * entry per element. */
SA__CLONES
static void water_row(uint8_t *restrict out, const uint8_t *restrict in, const float *restrict mv,
                      const float *restrict col, int n)
{
    for (int j = 0; j < n; j++) {
        float v = in[j] / 255.f + mv[j] * col[j];
        v = v > 0.f ? v : 0.f; /* NaN (an all-zero texture) gives 0 */
        v = v < 1.f ? v : 1.f;
        out[j] = (uint8_t)(int32_t)(v * 255.f);
    }
}

/* l8[i] = uint8(int(liq[i] * 255)) where liq[i] >= thr, else 0. */
SA__CLONES
static void water_layer(uint8_t *restrict l8, const double *restrict liq, size_t n, double thr)
{
    for (size_t i = 0; i < n; i++) {
        double v = liq[i] < thr ? 0.0 : liq[i];
        l8[i] = (uint8_t)(int32_t)(v * 255.0);
    }
}

/* Largest of m[0..n) (n >= 1; no NaN), in independent lanes. */
SA__CLONES
static float max_f(const float *m, size_t n)
{
    float l[16];
    size_t i = 0;
    for (int k = 0; k < 16; k++)
        l[k] = m[0];
    for (; i + 16 <= n; i += 16)
        for (int k = 0; k < 16; k++)
            l[k] = m[i + k] > l[k] ? m[i + k] : l[k];
    for (; i < n; i++)
        l[0] = m[i] > l[0] ? m[i] : l[0];
    for (int k = 1; k < 16; k++)
        l[0] = l[k] > l[0] ? l[k] : l[0];
    return l[0];
}

/* mv[3x + k] = (m[x] / mx) * kf for the three channels (0/0 gives NaN). */
SA__CLONES
static void water_mv_row(float *restrict mv, const float *restrict m, int w, float mx, float kf)
{
    for (int x = 0; x < w; x++) {
        float v = (m[x] / mx) * kf;
        mv[3 * x] = mv[3 * x + 1] = mv[3 * x + 2] = v;
    }
}

/* Mud on a 3-channel row of w pixels, mv the weight of each element:
 * x = in / 255 * (1 - mv) in float32, plus the colour times mv; here the sum
 * in float32, clipped (the ImageNet and CIFAR tables), */
SA__CLONES
static void mud_row_f32(uint8_t *restrict out, const uint8_t *restrict in, const float *restrict mv,
                        int w, const double *cold)
{
    const float c0 = (float)cold[0], c1 = (float)cold[1], c2 = (float)cold[2];
    for (int x = 0; x < w; x++)
        for (int k = 0; k < 3; k++) {
            const int j = 3 * x + k;
            const float c = k == 0 ? c0 : (k == 1 ? c1 : c2);
            float v = (in[j] / 255.f) * (1.f - mv[j]) + c * mv[j];
            v = v > 0.f ? v : 0.f;
            v = v < 1.f ? v : 1.f;
            out[j] = (uint8_t)(int32_t)(v * 255.f);
        }
}

/* and here in float64 (the size-generic table). */
SA__CLONES
static void mud_row_f64(uint8_t *restrict out, const uint8_t *restrict in, const float *restrict mv,
                        int w, const double *cold)
{
    const double c0 = cold[0], c1 = cold[1], c2 = cold[2];
    for (int x = 0; x < w; x++)
        for (int k = 0; k < 3; k++) {
            const int j = 3 * x + k;
            const double c = k == 0 ? c0 : (k == 1 ? c1 : c2);
            float xv = (in[j] / 255.f) * (1.f - mv[j]);
            out[j] = sa__to_u8_sel((double)xv + c * (double)mv[j]);
        }
}

int sa__spatter(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err)
{
    (void)opt;
    const spatter_param *p = &spatter_p[table == SA_PARAMS_CIFAR][severity - 1];
    const int H = in->h, W = in->w, C = in->c;
    const size_t n = (size_t)H * W;
    double *liq = malloc(sizeof(double) * (n ? n : 1)); /* every value is drawn below */
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
    if (p->mode == 0) {
        /* Threshold, then the uint8 cast: truncation, wrapping modulo 256
         * above 255 (values stay far below 2^31: the layer is a blurred
         * normal of sigma <= 0.4). */
        water_layer(l8, liq, n, p->thr);
        rc = water(m, l8, H, W, err);
        if (rc < 0)
            goto done;
        const float mx = max_f(m, n);
        const float kf = (float)p->k;
        const float col[3] = {(float)(175 / 255.), (float)(238 / 255.), (float)(238 / 255.)};
        if (C == 3) {
            float *mv = malloc(sizeof(float) * 6 * (size_t)W);
            if (!mv) {
                rc = sa_error_set(err, SA_ENOMEM, "corrupt", "out of memory (spatter)");
                goto done;
            }
            float *col3 = mv + 3 * (size_t)W;
            for (int x = 0; x < W; x++)
                for (int k = 0; k < 3; k++)
                    col3[3 * x + k] = col[k];
            for (int y = 0; y < H; y++) {
                const float *mr = m + (size_t)y * W;
                water_mv_row(mv, mr, W, mx, kf);
                water_row(out->data + (size_t)y * W * 3, in->data + (size_t)y * W * 3, mv, col3,
                          3 * W);
            }
            free(mv);
        } else {
            for (size_t q = 0; q < n; q++) {
                float mv = (m[q] / mx) * kf;
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
        /* Thresholded to 0 below thr (> 0), so "> thr" reads the raw layer. */
        for (size_t i = 0; i < n; i++)
            m[i] = liq[i] > p->thr ? 1.f : 0.f;
        rc = sa__gaussian_filter_f32(m, m, H, W, 1, p->k, 4.0, SA__BORDER_NEAREST, err);
        if (rc < 0)
            goto done;
        const double cold[3] = {63 / 255., 42 / 255., 20 / 255.};
        const int f64 = table == SA_PARAMS_ANY; /* imagecorruptions builds the colour in float64 */
        if (C == 3) {
            /* Per row: the mud weight of every element, then the row. */
            float *mv = malloc(sizeof(float) * 3 * (size_t)W);
            if (!mv) {
                rc = sa_error_set(err, SA_ENOMEM, "corrupt", "out of memory (spatter)");
                goto done;
            }
            for (int y = 0; y < H; y++) {
                const float *mr = m + (size_t)y * W;
                for (int x = 0; x < W; x++) {
                    float v = mr[x] < 0.8f ? 0.f : mr[x];
                    mv[3 * x] = mv[3 * x + 1] = mv[3 * x + 2] = v;
                }
                uint8_t *o = out->data + (size_t)y * W * 3;
                const uint8_t *x8 = in->data + (size_t)y * W * 3;
                if (f64)
                    mud_row_f64(o, x8, mv, W, cold);
                else
                    mud_row_f32(o, x8, mv, W, cold);
            }
            free(mv);
        } else {
            for (size_t q = 0; q < n; q++) {
                float mv = m[q] < 0.8f ? 0.f : m[q];
                float keep = 1.f - mv;
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
