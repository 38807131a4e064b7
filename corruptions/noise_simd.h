/* noise_simd.h - code paths of the fast-kind noise samplers (internal).
 *
 * The samplers of gaussian_noise and speckle_noise draw from eight
 * interleaved streams (sa_rng_lanes) and have four code paths: 0, the
 * portable scalar form; 1, GCC generic vectors (compiled for AVX-512, AVX2
 * and baseline x86-64 with run-time choice, see simd.h); 2, AVX2 and 3,
 * AVX-512 with intrinsics, for the table look-ups that generic vectors
 * cannot gather. Every path does the same integer and IEEE operations lane
 * by lane, so all give the same bytes; sa__noise_best_path() names the best
 * one this build and CPU run. Defining SA_NO_CPU_DISPATCH leaves out paths 2
 * and 3, SA_CPU_MAX_AVX2 path 3.
 */
#ifndef SA_CORRUPTIONS_NOISE_SIMD_H
#define SA_CORRUPTIONS_NOISE_SIMD_H

#include "simd.h"

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) &&                           \
    !defined(SA_NO_CPU_DISPATCH)
#define SA_NOISE_AVX2 1
#include <immintrin.h>
#define SA_AVX2_TARGET __attribute__((target("avx2")))
#ifndef SA_CPU_MAX_AVX2
#define SA_NOISE_AVX512 1
#define SA_AVX512_TARGET __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl")))
#endif
#endif

static inline int sa__noise_best_path(void)
{
#ifdef SA_NOISE_AVX512
    if (sa__cpu_avx512())
        return 3;
#endif
#ifdef SA_NOISE_AVX2
    if (sa__cpu_avx2())
        return 2;
#endif
#ifdef SA_RNG_LANES_VEC
    return 1;
#else
    return 0;
#endif
}

#ifdef SA_NOISE_AVX2
/* One xoshiro256** step of four of the eight lanes (state words s[0..3]
 * of those lanes): the output words, as sa_rng_lanes_step makes them. */
SA_AVX2_TARGET static inline __m256i sa__xoshiro4_step(__m256i s[4])
{
    const __m256i x = _mm256_add_epi64(_mm256_slli_epi64(s[1], 2), s[1]);
    const __m256i y = _mm256_or_si256(_mm256_slli_epi64(x, 7), _mm256_srli_epi64(x, 57));
    const __m256i w = _mm256_add_epi64(_mm256_slli_epi64(y, 3), y);
    const __m256i t = _mm256_slli_epi64(s[1], 17);
    s[2] = _mm256_xor_si256(s[2], s[0]);
    s[3] = _mm256_xor_si256(s[3], s[1]);
    s[1] = _mm256_xor_si256(s[1], s[2]);
    s[0] = _mm256_xor_si256(s[0], s[3]);
    s[2] = _mm256_xor_si256(s[2], t);
    s[3] = _mm256_or_si256(_mm256_slli_epi64(s[3], 45), _mm256_srli_epi64(s[3], 19));
    return w;
}

/* The state of lanes 4h .. 4h + 3 out of / back into the lanes' arrays */
SA_AVX2_TARGET static inline void sa__xoshiro4_load(__m256i s[4], const uint64_t st[4][8], int h)
{
    for (int j = 0; j < 4; j++)
        s[j] = _mm256_loadu_si256((const __m256i *)(const void *)(st[j] + 4 * h));
}

SA_AVX2_TARGET static inline void sa__xoshiro4_store(uint64_t st[4][8], const __m256i s[4], int h)
{
    for (int j = 0; j < 4; j++)
        _mm256_storeu_si256((__m256i *)(void *)(st[j] + 4 * h), s[j]);
}
#endif

#endif
