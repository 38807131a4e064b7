/* simd.h - vector helpers of the filter kernels (internal).
 *
 * Kernels that must round exactly like their scalar form use these: every
 * operation is lane by lane (add, multiply, compare, convert), never fused,
 * so each lane computes one output value with the scalar code's operations
 * in the scalar code's order, whatever the instruction set.
 */
#ifndef SA_CORRUPTIONS_SIMD_H
#define SA_CORRUPTIONS_SIMD_H

/* x86-64 builds with GCC also compile the inner cores below for AVX-512 and
 * AVX2 and pick the variant at load time. The cores only add and multiply
 * lane by lane (no fused multiply-add: the build is ISO C, so
 * -ffp-contract=off), so every variant rounds exactly like the scalar code
 * and gives the same bytes. Two build flags narrow the choice everywhere in
 * the corruption kernels (to check and time the other variants on any
 * machine): SA_NO_CPU_DISPATCH builds the baseline variants only, and
 * SA_CPU_MAX_AVX2 leaves out every AVX-512 variant. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11 && defined(__x86_64__) &&        \
    defined(__linux__) && !defined(SA_NO_CPU_DISPATCH)
#ifdef SA_CPU_MAX_AVX2
#define SA_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define SA_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#endif
/* Loops that gain nothing from 512-bit registers: an AVX2 clone and the
 * baseline. */
#define SA_CLONES_AVX2 __attribute__((target_clones("avx2", "default")))
#else
#define SA_CLONES
#define SA_CLONES_AVX2
#endif

/* Kernels whose vector width must match the registers (filters_lanes.h)
 * are compiled once per width instead: 2 doubles (SSE2, NEON), 4 under
 * SA_LANES4_TARGET and 8 under SA_LANES8_TARGET, and sa__vec_lanes() says
 * which one the CPU runs. The same build flags narrow the choice. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11 && defined(__x86_64__) &&        \
    defined(__linux__) && !defined(SA_NO_CPU_DISPATCH)
#define SA_LANE_VARIANTS 1
#define SA_LANES4_TARGET "avx2"
#ifndef SA_CPU_MAX_AVX2
#define SA_LANE_VARIANTS8 1
#define SA_LANES8_TARGET "avx2,avx512f,avx512vl,avx512dq,avx512bw"
#endif
#endif

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
/* The processor features the AVX-512 and AVX2 variants need (one
 * definition for every kernel that picks a variant). */
static inline int sa__cpu_avx512(void)
{
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw");
}

static inline int sa__cpu_avx2(void)
{
    return __builtin_cpu_supports("avx2");
}
#endif

static inline int sa__vec_lanes(void)
{
#ifdef SA_LANE_VARIANTS8
    if (sa__cpu_avx512())
        return 8;
#endif
#ifdef SA_LANE_VARIANTS
    if (sa__cpu_avx2())
        return 4;
#endif
    return 2;
}

/* Eight doubles handled as one value: one AVX-512 register. Variants
 * without 512-bit registers (AVX2, SSE2) keep such values in memory and
 * run these loops slower than scalar ones, so hot loops that also run
 * there take a width per variant instead (filters_lanes.h and
 * sa__vec_lanes above). Loads and stores assume no alignment beyond the
 * element's. */
#if defined(__GNUC__) && !defined(__clang__)
#define SA_VEC 1
typedef double v8d __attribute__((vector_size(64)));
typedef double v8d_u __attribute__((vector_size(64), aligned(8)));
typedef long long v8l __attribute__((vector_size(64)));
typedef int v8i __attribute__((vector_size(32)));
typedef unsigned v8u __attribute__((vector_size(32)));
typedef unsigned char v8b __attribute__((vector_size(8)));
#define LD8(p) (*(const v8d_u *)(const void *)(p))
#define ST8(p, v) (*(v8d_u *)(void *)(p) = (v))
#define SPLAT8(x) ((v8d){(x), (x), (x), (x), (x), (x), (x), (x)})
/* a where the mask m (a comparison result) is set, else b */
#define SEL8(m, a, b) ((v8d)(((v8l)(a) & (m)) | ((v8l)(b) & ~(m))))
typedef float v8f __attribute__((vector_size(32)));
typedef float v8f_u __attribute__((vector_size(32), aligned(4)));
typedef int v8i_u __attribute__((vector_size(32), aligned(4)));
#define LD8F(p) (*(const v8f_u *)(const void *)(p))
#define ST8F(p, v) (*(v8f_u *)(void *)(p) = (v))
#define SPLAT8F(x) ((v8f){(x), (x), (x), (x), (x), (x), (x), (x)})
/* the same select on eight floats (m from a float comparison) */
#define SEL8F(m, a, b) ((v8f)(((v8i)(a) & (m)) | ((v8i)(b) & ~(m))))
#endif

#endif
