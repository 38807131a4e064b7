/* filters_lanes.h - the filter kernels' tap sums and 8-bit stores on
 * FL_LANES doubles at a time (internal; included by filters.c only, once
 * per lane count).
 *
 * Before each inclusion filters.c defines FL_LANES (2, 4 or 8), FL_SFX (the
 * suffix of the names defined: pair_sum FL_SFX, tap_sum FL_SFX, ...) and
 * FL_TARGET (function attributes, possibly empty). The lane count matches
 * the instruction set's register (2 for SSE2 or NEON, 4 for AVX2, 8 for
 * AVX-512): vectors wider than the registers are kept in memory by GCC and
 * run slower than the scalar loops.
 *
 * Every lane computes one output value with the scalar code's operations in
 * the scalar code's order (no fused multiply-add: the build is ISO C, so
 * -ffp-contract=off), so every lane count gives the same bytes. Without
 * GCC's generic vectors (SA_VEC unset) only the scalar loops remain.
 */

#define FL_CAT_(a, b) a##b
#define FL_CAT(a, b) FL_CAT_(a, b)
#define FL_FN(name) FL_CAT(name, FL_SFX)

#ifdef SA_VEC
#define FL_VD FL_FN(fl_vd)
#define FL_VDU FL_FN(fl_vdu)
#define FL_VL FL_FN(fl_vl)
#define FL_VI FL_FN(fl_vi)
#define FL_VU FL_FN(fl_vu)
#define FL_VB FL_FN(fl_vb)
typedef double FL_VD __attribute__((vector_size(8 * FL_LANES)));
typedef double FL_VDU __attribute__((vector_size(8 * FL_LANES), aligned(8)));
typedef long long FL_VL __attribute__((vector_size(8 * FL_LANES)));
typedef int FL_VI __attribute__((vector_size(4 * FL_LANES)));
typedef unsigned FL_VU __attribute__((vector_size(4 * FL_LANES)));
typedef unsigned char FL_VB __attribute__((vector_size(FL_LANES)));
#define FL_LD(p) (*(const FL_VDU *)(const void *)(p))
#define FL_ST(p, v) (*(FL_VDU *)(void *)(p) = (v))
/* x in every lane (x - 0 is x exactly, -0 and NaN included) */
#define FL_SPLAT(x) ((x) - (FL_VD){0})
#define FL_SEL(m, a, b) ((FL_VD)(((FL_VL)(a) & (m)) | ((FL_VL)(b) & ~(m))))
/* 16-bit integers: a full register (4 per double lane) and a half; 32-bit
 * integers, a full register */
#define FL_VW FL_FN(fl_vw)
#define FL_VWU FL_FN(fl_vwu)
#define FL_VWH FL_FN(fl_vwh)
#define FL_VN FL_FN(fl_vn)
#define FL_VB4 FL_FN(fl_vb4)
typedef uint16_t FL_VW __attribute__((vector_size(8 * FL_LANES)));
typedef uint16_t FL_VWU __attribute__((vector_size(8 * FL_LANES), aligned(2)));
typedef uint16_t FL_VWH __attribute__((vector_size(4 * FL_LANES)));
typedef int32_t FL_VN __attribute__((vector_size(8 * FL_LANES)));
typedef unsigned char FL_VB4 __attribute__((vector_size(4 * FL_LANES)));
#define FL_LDW(p) (*(const FL_VWU *)(const void *)(p))
/* lo, hi = the two halves of v, for the portable 16-bit to double
 * conversion (x86-64 converts with intrinsics; elsewhere only the 2-lane
 * variant is built) */
#if __GNUC__ >= 12 && FL_LANES == 2
#define FL_HALVES_W(lo, hi, v)                                                                     \
    ((lo) = __builtin_shufflevector((v), (v), 0, 1, 2, 3),                                         \
     (hi) = __builtin_shufflevector((v), (v), 4, 5, 6, 7))
#define FL_HALVES_N(lo, hi, v)                                                                     \
    ((lo) = __builtin_shufflevector((v), (v), 0, 1), (hi) = __builtin_shufflevector((v), (v), 2, 3))
#else
#define FL_HALVES_W(lo, hi, v)                                                                     \
    (memcpy(&(lo), (const char *)&(v), sizeof(lo)),                                                \
     memcpy(&(hi), (const char *)&(v) + sizeof(lo), sizeof(hi)))
#define FL_HALVES_N FL_HALVES_W
#endif
#define FL_STW(p, v) (*(FL_VWU *)(void *)(p) = (v))
#endif

/* dst[m] = sum over p, in order, of (a_p[off + m] + b_p[off + m]) * w[p],
 * starting from 0, for m < len. A centre tap is passed as a = b with half
 * its weight: (x + x) * (w / 2) == x * w exactly. Blocks of 8 or 4 vectors
 * keep their partial sums in registers while the taps stream past. */
FL_TARGET static void FL_FN(pair_sum)(double *dst, const double *const *pa,
                                      const double *const *pb, size_t off, const double *w,
                                      int np, size_t len)
{
    size_t m = 0;
#ifdef SA_VEC
    enum { L = FL_LANES };
    for (; m + 8 * L <= len; m += 8 * L) {
        FL_VD s0 = FL_SPLAT(0.0), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
        for (int p = 0; p < np; p++) {
            const double *a = pa[p] + off + m, *b = pb[p] + off + m;
            const FL_VD wp = FL_SPLAT(w[p]);
            s0 += (FL_LD(a) + FL_LD(b)) * wp;
            s1 += (FL_LD(a + L) + FL_LD(b + L)) * wp;
            s2 += (FL_LD(a + 2 * L) + FL_LD(b + 2 * L)) * wp;
            s3 += (FL_LD(a + 3 * L) + FL_LD(b + 3 * L)) * wp;
            s4 += (FL_LD(a + 4 * L) + FL_LD(b + 4 * L)) * wp;
            s5 += (FL_LD(a + 5 * L) + FL_LD(b + 5 * L)) * wp;
            s6 += (FL_LD(a + 6 * L) + FL_LD(b + 6 * L)) * wp;
            s7 += (FL_LD(a + 7 * L) + FL_LD(b + 7 * L)) * wp;
        }
        FL_ST(dst + m, s0);
        FL_ST(dst + m + L, s1);
        FL_ST(dst + m + 2 * L, s2);
        FL_ST(dst + m + 3 * L, s3);
        FL_ST(dst + m + 4 * L, s4);
        FL_ST(dst + m + 5 * L, s5);
        FL_ST(dst + m + 6 * L, s6);
        FL_ST(dst + m + 7 * L, s7);
    }
    for (; m + 4 * L <= len; m += 4 * L) {
        FL_VD s0 = FL_SPLAT(0.0), s1 = s0, s2 = s0, s3 = s0;
        for (int p = 0; p < np; p++) {
            const double *a = pa[p] + off + m, *b = pb[p] + off + m;
            const FL_VD wp = FL_SPLAT(w[p]);
            s0 += (FL_LD(a) + FL_LD(b)) * wp;
            s1 += (FL_LD(a + L) + FL_LD(b + L)) * wp;
            s2 += (FL_LD(a + 2 * L) + FL_LD(b + 2 * L)) * wp;
            s3 += (FL_LD(a + 3 * L) + FL_LD(b + 3 * L)) * wp;
        }
        FL_ST(dst + m, s0);
        FL_ST(dst + m + L, s1);
        FL_ST(dst + m + 2 * L, s2);
        FL_ST(dst + m + 3 * L, s3);
    }
    for (; m + L <= len; m += L) {
        FL_VD s0 = FL_SPLAT(0.0);
        for (int p = 0; p < np; p++)
            s0 += (FL_LD(pa[p] + off + m) + FL_LD(pb[p] + off + m)) * FL_SPLAT(w[p]);
        FL_ST(dst + m, s0);
    }
#endif
    for (; m < len; m++) {
        double acc = 0.0;
        for (int p = 0; p < np; p++)
            acc += (pa[p][off + m] + pb[p][off + m]) * w[p];
        dst[m] = acc;
    }
}

/* dst[m] = sum over groups g < ng, in order, of (double)G_g[m] * w[g],
 * starting from 0, where G_g[m] = sum over p in [gs[g], gs[g + 1]) of
 * row[ra[p]][off[p] + m] + row[rb[p]][off[p] + m], for m < len: the taps
 * of equal weight are added as integers (exactly: the caller keeps each
 * G_g below 2^16) before their one multiplication. Every group holds at
 * least one term. */
FL_TARGET static void FL_FN(group_sum_u16)(double *dst, const uint16_t *const *row,
                                           const int *ra, const int *rb, const size_t *off,
                                           const double *w, const int *gs, int ng, size_t len)
{
    size_t m = 0;
#ifdef SA_VEC
    enum { L = FL_LANES, W = 4 * FL_LANES };
    for (; m + W <= len; m += W) {
        FL_VD s0 = FL_SPLAT(0.0), s1 = s0, s2 = s0, s3 = s0;
        for (int g = 0; g < ng; g++) {
            int p = gs[g];
            FL_VW t = FL_LDW(row[ra[p]] + off[p] + m) + FL_LDW(row[rb[p]] + off[p] + m);
            for (p++; p < gs[g + 1]; p++)
                t += FL_LDW(row[ra[p]] + off[p] + m) + FL_LDW(row[rb[p]] + off[p] + m);
            const FL_VD wg = FL_SPLAT(w[g]);
#if FL_LANES == 8 && defined(__x86_64__)
            /* GCC splits the generic conversions into narrower ones */
            const __m512i tv = (__m512i)t;
            const __m512i n0 = _mm512_cvtepu16_epi32(_mm512_castsi512_si256(tv));
            const __m512i n1 = _mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(tv, 1));
            s0 += (FL_VD)_mm512_cvtepi32_pd(_mm512_castsi512_si256(n0)) * wg;
            s1 += (FL_VD)_mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(n0, 1)) * wg;
            s2 += (FL_VD)_mm512_cvtepi32_pd(_mm512_castsi512_si256(n1)) * wg;
            s3 += (FL_VD)_mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(n1, 1)) * wg;
#elif FL_LANES == 4 && defined(__x86_64__)
            const __m256i tv = (__m256i)t;
            const __m256i n0 = _mm256_cvtepu16_epi32(_mm256_castsi256_si128(tv));
            const __m256i n1 = _mm256_cvtepu16_epi32(_mm256_extracti128_si256(tv, 1));
            s0 += (FL_VD)_mm256_cvtepi32_pd(_mm256_castsi256_si128(n0)) * wg;
            s1 += (FL_VD)_mm256_cvtepi32_pd(_mm256_extracti128_si256(n0, 1)) * wg;
            s2 += (FL_VD)_mm256_cvtepi32_pd(_mm256_castsi256_si128(n1)) * wg;
            s3 += (FL_VD)_mm256_cvtepi32_pd(_mm256_extracti128_si256(n1, 1)) * wg;
#elif FL_LANES == 2 && defined(__x86_64__)
            const __m128i tv = (__m128i)t, zero = _mm_setzero_si128();
            const __m128i n0 = _mm_unpacklo_epi16(tv, zero), n1 = _mm_unpackhi_epi16(tv, zero);
            s0 += (FL_VD)_mm_cvtepi32_pd(n0) * wg;
            s1 += (FL_VD)_mm_cvtepi32_pd(_mm_unpackhi_epi64(n0, n0)) * wg;
            s2 += (FL_VD)_mm_cvtepi32_pd(n1) * wg;
            s3 += (FL_VD)_mm_cvtepi32_pd(_mm_unpackhi_epi64(n1, n1)) * wg;
#else
            /* to 32 bits a half register at a time, then to double */
            FL_VWH u0, u1;
            FL_HALVES_W(u0, u1, t);
            const FL_VN n0 = __builtin_convertvector(u0, FL_VN);
            const FL_VN n1 = __builtin_convertvector(u1, FL_VN);
            FL_VI i0, i1, i2, i3;
            FL_HALVES_N(i0, i1, n0);
            FL_HALVES_N(i2, i3, n1);
            s0 += __builtin_convertvector(i0, FL_VD) * wg;
            s1 += __builtin_convertvector(i1, FL_VD) * wg;
            s2 += __builtin_convertvector(i2, FL_VD) * wg;
            s3 += __builtin_convertvector(i3, FL_VD) * wg;
#endif
        }
        FL_ST(dst + m, s0);
        FL_ST(dst + m + L, s1);
        FL_ST(dst + m + 2 * L, s2);
        FL_ST(dst + m + 3 * L, s3);
    }
#endif
    for (; m < len; m++) {
        double acc = 0.0;
        for (int g = 0; g < ng; g++) {
            unsigned t = 0;
            for (int p = gs[g]; p < gs[g + 1]; p++)
                t += (unsigned)row[ra[p]][off[p] + m] + row[rb[p]][off[p] + m];
            acc += (double)t * w[g];
        }
        dst[m] = acc;
    }
}

/* o[m] = a[m] + b[m] as 16-bit integers (a == b: o[m] = a[m]), m < n */
FL_TARGET static void FL_FN(fold_u16)(uint16_t *o, const uint8_t *a, const uint8_t *b, size_t n)
{
    size_t m = 0;
    if (a == b) {
#ifdef SA_VEC
        for (; m + 4 * FL_LANES <= n; m += 4 * FL_LANES) {
            FL_VB4 x;
            memcpy(&x, a + m, sizeof x);
            FL_STW(o + m, __builtin_convertvector(x, FL_VW));
        }
#endif
        for (; m < n; m++)
            o[m] = a[m];
        return;
    }
#ifdef SA_VEC
    for (; m + 4 * FL_LANES <= n; m += 4 * FL_LANES) {
        FL_VB4 x, y;
        memcpy(&x, a + m, sizeof x);
        memcpy(&y, b + m, sizeof y);
        FL_STW(o + m, __builtin_convertvector(x, FL_VW) + __builtin_convertvector(y, FL_VW));
    }
#endif
    for (; m < n; m++)
        o[m] = (uint16_t)(a[m] + b[m]);
}

/* dst[m] = sum over p, in order, of w[p] * a_p[off + m], starting from 0,
 * for m < len. */
FL_TARGET static void FL_FN(tap_sum)(double *dst, const double *const *pa, size_t off,
                                     const double *w, int np, size_t len)
{
    size_t m = 0;
#ifdef SA_VEC
    enum { L = FL_LANES };
    for (; m + 8 * L <= len; m += 8 * L) {
        FL_VD s0 = FL_SPLAT(0.0), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
        for (int p = 0; p < np; p++) {
            const double *a = pa[p] + off + m;
            const FL_VD wp = FL_SPLAT(w[p]);
            s0 += wp * FL_LD(a);
            s1 += wp * FL_LD(a + L);
            s2 += wp * FL_LD(a + 2 * L);
            s3 += wp * FL_LD(a + 3 * L);
            s4 += wp * FL_LD(a + 4 * L);
            s5 += wp * FL_LD(a + 5 * L);
            s6 += wp * FL_LD(a + 6 * L);
            s7 += wp * FL_LD(a + 7 * L);
        }
        FL_ST(dst + m, s0);
        FL_ST(dst + m + L, s1);
        FL_ST(dst + m + 2 * L, s2);
        FL_ST(dst + m + 3 * L, s3);
        FL_ST(dst + m + 4 * L, s4);
        FL_ST(dst + m + 5 * L, s5);
        FL_ST(dst + m + 6 * L, s6);
        FL_ST(dst + m + 7 * L, s7);
    }
    for (; m + L <= len; m += L) {
        FL_VD s0 = FL_SPLAT(0.0);
        for (int p = 0; p < np; p++)
            s0 += FL_SPLAT(w[p]) * FL_LD(pa[p] + off + m);
        FL_ST(dst + m, s0);
    }
#endif
    for (; m < len; m++) {
        double acc = 0.0;
        for (int p = 0; p < np; p++)
            acc += w[p] * pa[p][off + m];
        dst[m] = acc;
    }
}

/* d = a + b elementwise (a and b may be the same row). */
FL_TARGET static void FL_FN(add_rows)(double *restrict d, const double *restrict a,
                                      const double *restrict b, size_t n)
{
    size_t m = 0;
#ifdef SA_VEC
    for (; m + FL_LANES <= n; m += FL_LANES)
        FL_ST(d + m, FL_LD(a + m) + FL_LD(b + m));
#endif
    for (; m < n; m++)
        d[m] = a[m] + b[m];
}

/* out[m] = trunc(clamp(x[m] * scale, 0, 255)) (clamp_trunc_u8). */
FL_TARGET static void FL_FN(store_u8)(uint8_t *out, const double *x, size_t n, double scale)
{
    size_t m = 0;
#ifdef SA_VEC
    const FL_VD s = FL_SPLAT(scale), zero = FL_SPLAT(0.0), top = FL_SPLAT(255.0);
    for (; m + FL_LANES <= n; m += FL_LANES) {
        FL_VD t = FL_LD(x + m) * s;
        t = FL_SEL(t > zero, t, zero);
        t = FL_SEL(t < top, t, top);
        FL_VB b = __builtin_convertvector(__builtin_convertvector(t, FL_VI), FL_VB);
        memcpy(out + m, &b, sizeof b);
    }
#endif
    for (; m < n; m++)
        out[m] = clamp_trunc_u8(x[m] * scale);
}

/* dst[m] = the 8-bit PNG sample of ImageMagick's Q16 quantum of acc[m]
 * (see emit_imagemagick). */
FL_TARGET static void FL_FN(quantum_u8)(uint8_t *dst, const double *acc, size_t len)
{
    size_t m = 0;
#if defined(SA_VEC) && FL_LANES >= 4 /* 2 lanes: SSE2 has no 32-bit multiply */
    const FL_VD zero = FL_SPLAT(0.0), top = FL_SPLAT(65535.0), half = FL_SPLAT(0.5);
    for (; m + FL_LANES <= len; m += FL_LANES) {
        FL_VD v = FL_LD(acc + m);
        v = FL_SEL(v > zero, v, zero);
        v = FL_SEL(v < top, v, top);
        FL_VU q = (FL_VU)__builtin_convertvector(v + half, FL_VI);
        q = (q * 65281u) >> 24;
        FL_VB b = __builtin_convertvector(q, FL_VB);
        memcpy(dst + m, &b, sizeof b);
    }
#endif
    for (; m < len; m++) {
        double v = acc[m];
        unsigned q = v <= 0.0 ? 0u : v >= 65535.0 ? 65535u : (unsigned)(v + 0.5);
        dst[m] = (uint8_t)(q / 257u);
    }
}

#ifdef SA_VEC
#undef FL_VD
#undef FL_VDU
#undef FL_VL
#undef FL_VI
#undef FL_VU
#undef FL_VB
#undef FL_LD
#undef FL_ST
#undef FL_SPLAT
#undef FL_SEL
#undef FL_VW
#undef FL_VWU
#undef FL_VWH
#undef FL_VN
#undef FL_VB4
#undef FL_LDW
#undef FL_HALVES_W
#undef FL_HALVES_N
#undef FL_STW
#endif
#undef FL_FN
#undef FL_CAT
#undef FL_CAT_
