/* noise_simd.h - code paths of the fast-kind noise samplers (internal).
 *
 * The samplers of gaussian_noise and speckle_noise draw from eight
 * interleaved streams (sa_rng_lanes) and have three code paths: 0, the
 * portable scalar form; 1, GCC generic vectors (compiled for AVX-512, AVX2
 * and baseline x86-64 with run-time choice, see simd.h); 2, AVX-512 with
 * intrinsics, for the table look-ups that generic vectors cannot gather.
 * Every path does the same integer and IEEE operations lane by lane, so
 * all give the same bytes; sa__noise_best_path() names the best one this
 * build and CPU run. Defining SA_NO_CPU_DISPATCH leaves out path 2.
 */
#ifndef SA_CORRUPTIONS_NOISE_SIMD_H
#define SA_CORRUPTIONS_NOISE_SIMD_H

#include "simd.h"

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) &&                           \
    !defined(SA_NO_CPU_DISPATCH) && !defined(SA_CPU_MAX_AVX2)
#define SA_NOISE_AVX512 1
#include <immintrin.h>
#define SA_AVX512_TARGET __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl")))
#endif

static inline int sa__noise_best_path(void)
{
#ifdef SA_NOISE_AVX512
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
        return 2;
#endif
#ifdef SA_RNG_LANES_VEC
    return 1;
#else
    return 0;
#endif
}

#endif
