/* Noise family: gaussian, shot (Poisson) and impulse (salt & pepper).
 *
 * The numpy generator kind replays the reference's draws one by one. The
 * fast kind draws from the same output distributions with cheaper exact
 * samplers, half a 64-bit word per element (gaussian, shot; see
 * sa_rng_alias_draw32) or one word per hit (impulse):
 *  - gaussian: trunc(clip(v/255 + n) 255) = clamp(v + D) with
 *    D = floor(255 n), whose law does not depend on v: one alias table of
 *    P(D = d) = Phi((d+1)/(255 s)) - Phi(d/(255 s)), d = -255..255, the two
 *    ends holding the whole tails (they clamp to 0 and 255 for every v),
 *    its words from eight interleaved streams (sa_rng_lanes), so that the
 *    look-ups vectorise (noise_simd.h);
 *  - shot: the output byte is a function of k ~ Poisson(v/255 c), so each
 *    8-bit value gets an alias table of k = 0..ceil(c)-1 plus "k >= c"
 *    (= 255); small images, where the tables would cost more than the
 *    draws, build them for the values present only, or use the Poisson
 *    sampler directly;
 *  - impulse: hits are independent Bernoulli(amount), so only the gaps
 *    between hits are drawn (geometric, from an alias table with a
 *    "63 or more" entry that continues the gap), one bit each for salt. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "noise_simd.h"
#include "params.h"

/* Upper tail of the standard normal, accurate far out. */
static double upper_tail(double x)
{
    return 0.5 * erfc(x * M_SQRT1_2);
}

/* The alias draw of sa_rng_alias_draw32 from tables split for look-ups
 * of 32 bits: thr[e] = the top 23 bits of entry e's threshold, v[e] = its
 * two outcomes (own, alias; one 32-bit word), and clamp(v + d) by table
 * (dark and bright inputs clip at random, which a branch would
 * mispredict). */
typedef struct gauss_tabs {
    sa_rng_alias tab[512];
    uint32_t thr[512];
    int16_t v[512][2];
    uint8_t clamp[766]; /* clamp[k] = clamp(k - 255) */
} gauss_tabs;

/* One element from 32 random bits h; returns 0 when the element is at a
 * tie and needs further bits (*out is then to be overwritten). */
static inline int gauss_pix(uint8_t *out, uint8_t v, uint32_t h, const gauss_tabs *g)
{
    const uint32_t e = h >> 23, u = h & 0x7fffffu, t = g->thr[e];
    *out = g->clamp[255 + v + g->v[e][u > t]];
    return u != t;
}

#ifdef SA_NOISE_AVX512
/* Sixteen elements per step of the eight lanes (element 2l from the low
 * half of lane l's word, 2l + 1 from the high half), with gathers;
 * elements at a tie go to ties[]; returns their count. m is a multiple of
 * 16. */
SA_AVX512_TARGET static size_t gauss_block_avx512(uint8_t *dst, const uint8_t *src, size_t m,
                                                  const gauss_tabs *g, sa_rng_lanes *L,
                                                  uint32_t *tie_h, uint32_t *tie_i)
{
    __m512i s0 = _mm512_loadu_si512(L->s[0]), s1 = _mm512_loadu_si512(L->s[1]);
    __m512i s2 = _mm512_loadu_si512(L->s[2]), s3 = _mm512_loadu_si512(L->s[3]);
    const __m512i low23 = _mm512_set1_epi32(0x7fffff), zero = _mm512_setzero_si512();
    const __m512i top = _mm512_set1_epi32(255);
    size_t nt = 0;
    for (size_t i = 0; i < m; i += 16) {
        const __m512i x = _mm512_add_epi64(_mm512_slli_epi64(s1, 2), s1);
        const __m512i y = _mm512_rol_epi64(x, 7);
        const __m512i w = _mm512_add_epi64(_mm512_slli_epi64(y, 3), y);
        const __m512i t17 = _mm512_slli_epi64(s1, 17);
        s2 = _mm512_xor_si512(s2, s0);
        s3 = _mm512_xor_si512(s3, s1);
        s1 = _mm512_xor_si512(s1, s2);
        s0 = _mm512_xor_si512(s0, s3);
        s2 = _mm512_xor_si512(s2, t17);
        s3 = _mm512_rol_epi64(s3, 45);
        const __m512i e = _mm512_srli_epi32(w, 23);
        const __m512i u = _mm512_and_si512(w, low23);
        const __m512i t = _mm512_i32gather_epi32(e, (const void *)g->thr, 4);
        const __m512i pr = _mm512_i32gather_epi32(e, (const void *)g->v, 4);
        const __m512i own = _mm512_srai_epi32(_mm512_slli_epi32(pr, 16), 16);
        const __m512i alias = _mm512_srai_epi32(pr, 16);
        const __m512i d = _mm512_mask_blend_epi32(_mm512_cmpgt_epu32_mask(u, t), own, alias);
        const __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(const void *)(src + i)));
        const __m512i o = _mm512_min_epi32(_mm512_max_epi32(_mm512_add_epi32(v, d), zero), top);
        _mm_storeu_si128((__m128i *)(void *)(dst + i), _mm512_cvtepi32_epi8(o));
        __mmask16 tie = _mm512_cmpeq_epi32_mask(u, t);
        if (__builtin_expect(tie != 0, 0)) {
            uint32_t hl[16];
            _mm512_storeu_si512(hl, w);
            do {
                const int l = __builtin_ctz(tie);
                tie_h[nt] = hl[l];
                tie_i[nt++] = (uint32_t)(i + (size_t)l);
                tie &= (__mmask16)(tie - 1);
            } while (tie);
        }
    }
    _mm512_storeu_si512(L->s[0], s0);
    _mm512_storeu_si512(L->s[1], s1);
    _mm512_storeu_si512(L->s[2], s2);
    _mm512_storeu_si512(L->s[3], s3);
    return nt;
}
#endif

#ifdef SA_NOISE_AVX2
/* The AVX-512 loop above in AVX2: the eight lanes as two halves of four,
 * each half's words giving 8 elements; gathers for the alias table. */
SA_AVX2_TARGET static size_t gauss_block_avx2(uint8_t *dst, const uint8_t *src, size_t m,
                                              const gauss_tabs *g, sa_rng_lanes *L,
                                              uint32_t *tie_h, uint32_t *tie_i)
{
    __m256i lo[4], hi[4];
    sa__xoshiro4_load(lo, L->s, 0);
    sa__xoshiro4_load(hi, L->s, 1);
    const __m256i low23 = _mm256_set1_epi32(0x7fffff), zero = _mm256_setzero_si256();
    const __m256i top = _mm256_set1_epi32(255);
    size_t nt = 0;
    for (size_t i = 0; i < m; i += 16)
        for (int half = 0; half < 2; half++) {
            const __m256i w = sa__xoshiro4_step(half ? hi : lo);
            const size_t i8 = i + 8 * (size_t)half;
            const __m256i e = _mm256_srli_epi32(w, 23);
            const __m256i u = _mm256_and_si256(w, low23);
            const __m256i t = _mm256_i32gather_epi32((const int *)(const void *)g->thr, e, 4);
            const __m256i pr = _mm256_i32gather_epi32((const int *)(const void *)g->v, e, 4);
            const __m256i own = _mm256_srai_epi32(_mm256_slli_epi32(pr, 16), 16);
            const __m256i alias = _mm256_srai_epi32(pr, 16);
            /* u and t are below 2^23: the signed comparison is the unsigned one */
            const __m256i d = _mm256_blendv_epi8(own, alias, _mm256_cmpgt_epi32(u, t));
            const __m256i v = _mm256_cvtepu8_epi32(
                _mm_loadl_epi64((const __m128i *)(const void *)(src + i8)));
            const __m256i o = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(v, d), zero), top);
            const __m128i p16 =
                _mm_packus_epi32(_mm256_castsi256_si128(o), _mm256_extracti128_si256(o, 1));
            _mm_storel_epi64((__m128i *)(void *)(dst + i8), _mm_packus_epi16(p16, p16));
            unsigned tie = (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(u, t)));
            if (__builtin_expect(tie != 0, 0)) {
                uint32_t hl[8];
                _mm256_storeu_si256((__m256i *)(void *)hl, w);
                do {
                    const int l = __builtin_ctz(tie);
                    tie_h[nt] = hl[l];
                    tie_i[nt++] = (uint32_t)(i8 + (size_t)l);
                    tie &= tie - 1;
                } while (tie);
            }
        }
    sa__xoshiro4_store(L->s, lo, 0);
    sa__xoshiro4_store(L->s, hi, 1);
    return nt;
}
#endif

#ifdef SA_RNG_LANES_VEC
/* The same draws with the lanes stepped in generic vectors and the look-ups
 * done one element at a time. */
SA_CLONES static size_t gauss_block_vec(uint8_t *dst, const uint8_t *src, size_t m,
                                        const gauss_tabs *g, sa_rng_lanes *L, uint32_t *tie_h,
                                        uint32_t *tie_i)
{
    sa_u64x8 s[4];
    memcpy(s, L->s, sizeof s);
    size_t nt = 0;
    for (size_t i = 0; i < m; i += 16) {
        sa_u64x8 w;
        sa_rng_lanes_step(s, &w);
        uint32_t h[16];
        memcpy(h, &w, sizeof h);
        for (size_t j = 0; j < 16; j++)
            if (!gauss_pix(dst + i + j, src[i + j], h[j], g)) {
                tie_h[nt] = h[j];
                tie_i[nt++] = (uint32_t)(i + j);
            }
    }
    memcpy(L->s, s, sizeof s);
    return nt;
}
#endif

/* gaussian: clamp(v + D) with D from the alias table, two elements per
 * lane word (see the comment at the top), 256 elements per block; the
 * rare ties (2^-23 per element) are settled after each block with words
 * of the generator's own stream. */
void sa__gaussian_fast(uint8_t *out, const uint8_t *in, size_t n, double sigma, sa_rng *rng,
                       int path)
{
    gauss_tabs tabs;
    gauss_tabs *g = &tabs;
    double w[511];
    int32_t val[511];
    const double s = 255.0 * sigma;
    for (int d = -255; d <= 255; d++) {
        double p;
        if (d == -255)
            p = upper_tail(254.0 / s); /* 255 n < -254 */
        else if (d == 255)
            p = upper_tail(255.0 / s); /* 255 n >= 255 */
        else if (d >= 0)
            p = upper_tail(d / s) - upper_tail((d + 1) / s);
        else
            p = upper_tail(-(d + 1) / s) - upper_tail(-d / s);
        w[d + 255] = p;
        val[d + 255] = d;
    }
    sa_rng_alias_build(g->tab, 9, w, val, 511);
    for (int e = 0; e < 512; e++) {
        g->thr[e] = (uint32_t)(g->tab[e].thr >> 41);
        g->v[e][0] = (int16_t)g->tab[e].v[0];
        g->v[e][1] = (int16_t)g->tab[e].v[1];
    }
    for (int k = 0; k < 766; k++)
        g->clamp[k] = (uint8_t)(k < 255 ? 0 : (k > 510 ? 255 : k - 255));
    const int best = sa__noise_best_path();
    if (path < 0 || path > best)
        path = best;
    sa_rng_lanes L;
    sa_rng_lanes_seed(&L, rng);
    sa_rng_stream st = sa_rng_stream_take(rng);
    uint32_t tie_h[256], tie_i[256];
    for (size_t i0 = 0; i0 < n; i0 += 256) {
        const size_t m = n - i0 < 256 ? n - i0 : 256;
        size_t nt = 0, i = 0;
#ifdef SA_NOISE_AVX512
        if (path == 3) {
            i = m & ~(size_t)15;
            nt = gauss_block_avx512(out + i0, in + i0, i, g, &L, tie_h, tie_i);
        }
#endif
#ifdef SA_NOISE_AVX2
        if (path == 2) {
            i = m & ~(size_t)15;
            nt = gauss_block_avx2(out + i0, in + i0, i, g, &L, tie_h, tie_i);
        }
#endif
#ifdef SA_RNG_LANES_VEC
        if (path == 1) {
            i = m & ~(size_t)15;
            nt = gauss_block_vec(out + i0, in + i0, i, g, &L, tie_h, tie_i);
        }
#endif
        for (; i < m; i += 16) {
            uint64_t wl[8];
            sa_rng_lanes_next8(&L, wl);
            const size_t k = m - i < 16 ? m - i : 16;
            for (size_t j = 0; j < k; j++) {
                const uint32_t h = (uint32_t)(wl[j >> 1] >> (32 * (j & 1)));
                if (!gauss_pix(out + i0 + i + j, in[i0 + i + j], h, g)) {
                    tie_h[nt] = h;
                    tie_i[nt++] = (uint32_t)(i + j);
                }
            }
        }
        for (size_t j = 0; j < nt; j++) {
            const size_t e = i0 + tie_i[j];
            const int32_t x = in[e] + sa_rng_alias_tie(&g->tab[tie_h[j] >> 23], 9, &st);
            out[e] = (uint8_t)(x < 0 ? 0 : (x > 255 ? 255 : x));
        }
    }
    sa_rng_stream_give(rng, &st);
}

int sa__gaussian_noise(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err)
{
    (void)opt;
    (void)err;
    const double sigma = sa__gaussian_sigma[table == SA_PARAMS_CIFAR][severity - 1];
    const size_t n = sa_image_size(in);
    if (rng->kind == SA_RNG_FAST) {
        sa__gaussian_fast(out->data, in->data, n, sigma, rng, -1);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        double noise = sa_rng_normal(rng, 0.0, sigma);
        out->data[i] = sa__to_u8(in->data[i] / 255.0 + noise);
    }
    return 0;
}

/* One draw per element from its value's table, two per 64-bit word. */
static inline void shot_draw(uint8_t *out, const uint8_t *in, size_t n,
                             const sa_rng_alias *const *base, const int bits, sa_rng *rng)
{
    sa_rng_stream st = sa_rng_stream_take(rng);
    size_t i = 0;
    for (; i + 1 < n; i += 2) {
        const uint64_t word = sa_rng_stream_next(&st);
        out[i] = (uint8_t)sa_rng_alias_draw32(base[in[i]], bits, (uint32_t)(word >> 32), &st);
        out[i + 1] = (uint8_t)sa_rng_alias_draw32(base[in[i + 1]], bits, (uint32_t)word, &st);
    }
    if (i < n)
        out[i] = (uint8_t)sa_rng_alias_draw32(base[in[i]], bits,
                                              (uint32_t)(sa_rng_stream_next(&st) >> 32), &st);
    sa_rng_stream_give(rng, &st);
}

/* Alias tables for the values present; returns 0, or 1 when the direct
 * sampler is the better deal (few elements per table entry), or a negative
 * code when out of memory. */
static int shot_fast(uint8_t *out, const uint8_t *in, size_t n, double c, sa_rng *rng,
                     sa_error *err)
{
    const int kmax = (int)ceil(c); /* k >= kmax means k >= c: output 255 */
    if (!(c > 0.0) || kmax + 1 > 4096 || c > 700.0)
        return 1;
    int bits = 1;
    while ((1 << bits) < kmax + 1)
        bits++;
    /* Large images get a table for every value (cheaper than finding the
     * values present); smaller ones for the values present, or none. */
    uint8_t seen[256];
    memset(seen, 1, sizeof seen);
    if (((size_t)256 << bits) * 2 > n) {
        memset(seen, 0, sizeof seen);
        for (size_t i = 0; i < n; i++)
            seen[in[i]] = 1;
    }
    int slot[256], present = 0;
    for (int v = 0; v < 256; v++)
        slot[v] = seen[v] ? present++ : -1;
    if (((size_t)present << bits) * 2 > n)
        return 1;
    sa_rng_alias *tabs = malloc(sizeof(sa_rng_alias) * ((size_t)present << bits));
    double *w = malloc(sizeof(double) * (size_t)(kmax + 1));
    int32_t *val = malloc(sizeof(int32_t) * (size_t)(kmax + 1));
    if (!tabs || !w || !val) {
        free(tabs);
        free(w);
        free(val);
        return sa_error_set(err, SA_ENOMEM, "corrupt", "out of memory (shot_noise tables)");
    }
    for (int k = 0; k < kmax; k++)
        val[k] = sa__to_u8((double)k / c);
    val[kmax] = 255;
    for (int v = 0; v < 256; v++) {
        if (slot[v] < 0)
            continue;
        const double lam = v / 255.0 * c; /* as the direct path computes it */
        sa_rng_alias *tab = tabs + ((size_t)slot[v] << bits);
        if (!(lam > 0.0)) {
            w[0] = 1.0;
            sa_rng_alias_build(tab, bits, w, val, 1);
            continue;
        }
        /* pmf by p(k) = p(k-1) lam / k from p(0) = exp(-lam) (> 1e-304 for
         * lam <= 700); the tail k >= kmax summed until it stops changing. */
        double p = exp(-lam);
        for (int k = 0; k < kmax; k++) {
            w[k] = p;
            p *= lam / (k + 1);
        }
        double tail = 0.0;
        for (int k = kmax; k < kmax + 100000; k++) {
            double t = tail + p;
            if (t == tail && (double)k > lam)
                break;
            tail = t;
            p *= lam / (k + 1);
        }
        w[kmax] = tail;
        sa_rng_alias_build(tab, bits, w, val, kmax + 1);
    }
    const sa_rng_alias *base[256];
    for (int v = 0; v < 256; v++)
        base[v] = slot[v] < 0 ? NULL : tabs + ((size_t)slot[v] << bits);
    switch (bits) { /* constant shifts in each copy of the loop */
    case 1: shot_draw(out, in, n, base, 1, rng); break;
    case 2: shot_draw(out, in, n, base, 2, rng); break;
    case 3: shot_draw(out, in, n, base, 3, rng); break;
    case 4: shot_draw(out, in, n, base, 4, rng); break;
    case 5: shot_draw(out, in, n, base, 5, rng); break;
    case 6: shot_draw(out, in, n, base, 6, rng); break;
    case 7: shot_draw(out, in, n, base, 7, rng); break;
    case 8: shot_draw(out, in, n, base, 8, rng); break;
    default: shot_draw(out, in, n, base, bits, rng); break;
    }
    free(tabs);
    free(w);
    free(val);
    return 0;
}

int sa__shot_noise(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err)
{
    (void)opt;
    (void)err;
    const double c = sa__shot_photons[table == SA_PARAMS_CIFAR][severity - 1];
    const size_t n = sa_image_size(in);
    if (rng->kind == SA_RNG_FAST) {
        int rc = shot_fast(out->data, in->data, n, c, rng, err);
        if (rc <= 0)
            return rc;
    }
    for (size_t i = 0; i < n; i++) {
        double x = in->data[i] / 255.0;
        double k = (double)sa_rng_poisson(rng, x * c);
        out->data[i] = sa__to_u8(k / c);
    }
    return 0;
}

static void impulse_fast(uint8_t *out, const uint8_t *in, size_t n, double amount, sa_rng *rng)
{
    uint8_t lut[256];
    int identity = 1;
    for (int v = 0; v < 256; v++) {
        lut[v] = sa__to_u8(v / 255.0);
        identity &= lut[v] == v;
    }
    if (identity) {
        memcpy(out, in, n);
    } else {
        for (size_t i = 0; i < n; i++)
            out[i] = lut[in[i]];
    }
    if (!(amount > 0.0))
        return;
    /* Misses before the next hit: P(g) = (1-a)^g a for g < 63, and the
     * entry 63 (probability (1-a)^63) skips 63 misses and draws again. */
    enum { CONT = 63 };
    sa_rng_alias tab[64];
    double w[64];
    int32_t val[64];
    double q = 1.0;
    for (int g = 0; g < CONT; g++) {
        w[g] = q * amount;
        val[g] = g;
        q *= 1.0 - amount;
    }
    w[CONT] = q;
    val[CONT] = CONT;
    sa_rng_alias_build(tab, 6, w, val, 64);
    sa_rng_stream st = sa_rng_stream_take(rng);
    uint64_t salt_bits = 0;
    int salt_left = 0;
    size_t pos = 0;
    for (;;) {
        int32_t g;
        while ((g = sa_rng_alias_draw(tab, 6, sa_rng_stream_next(&st))) == CONT) {
            pos += CONT;
            if (pos >= n)
                goto done;
        }
        pos += (size_t)g;
        if (pos >= n)
            break;
        if (salt_left == 0) {
            salt_bits = sa_rng_stream_next(&st);
            salt_left = 64;
        }
        out[pos++] = (salt_bits & 1u) ? 255 : 0;
        salt_bits >>= 1;
        salt_left--;
    }
done:
    sa_rng_stream_give(rng, &st);
}

/* scikit-image's random_noise(mode='s&p') as of the versions that made
 * ImageNet-C: first one uniform per element for the "hit" mask (u < amount),
 * then one per element for salt (u < 0.5) versus pepper. The second pass
 * reads the hit decisions back from `out`, so no scratch memory is needed:
 * out holds the untouched value for a miss and a marker is not required,
 * because hit elements are recorded in the low bit of a second sweep. */
int sa__impulse_noise(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err)
{
    (void)opt;
    (void)err;
    const double amount = sa__impulse_amount[table == SA_PARAMS_CIFAR][severity - 1];
    const size_t n = sa_image_size(in);
    if (rng->kind == SA_RNG_FAST) {
        impulse_fast(out->data, in->data, n, amount, rng);
        return 0;
    }
    /* Pass 1: hit mask, stored as 1/0 in out. */
    for (size_t i = 0; i < n; i++)
        out->data[i] = sa_rng_double(rng) < amount;
    /* Pass 2: salt or pepper for every element (all draws are consumed,
     * as the reference draws the whole mask). */
    for (size_t i = 0; i < n; i++) {
        int salt = sa_rng_double(rng) < 0.5;
        if (out->data[i])
            out->data[i] = salt ? 255 : 0;
        else
            out->data[i] = sa__to_u8(in->data[i] / 255.0);
    }
    return 0;
}
