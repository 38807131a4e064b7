/* rng.h - the one seeded random generator type.
 *
 *     sa_rng r;
 *     sa_rng_seed(&r, SA_RNG_NUMPY, 1234);     // == np.random.seed(1234)
 *     double u = sa_rng_double(&r);            // == np.random.random_sample()
 *     double g = sa_rng_normal(&r, 0.0, 0.1);  // == np.random.normal(0, 0.1)
 *
 * Two kinds share one API:
 *  - SA_RNG_NUMPY reproduces NumPy's legacy RandomState (MT19937 with
 *    init_genrand seeding, 53-bit doubles, polar Box-Muller with a one-value
 *    cache, PTRS Poisson, masked-rejection bounded integers) bit for bit, so
 *    a corruption can replay the reference implementation's draws. Seeds are
 *    taken modulo 2^32, as np.random.seed requires.
 *  - SA_RNG_FAST is xoshiro256** seeded through splitmix64; the higher-level
 *    draws (double, normal, poisson, randint) use the same algorithms on top.
 *
 * Checked against NumPy 1.24 (np.random.seed(0)):
 *     random_sample(3) -> 0.5488135039273248 0.7151893663724195 0.6027633760716439
 * (tests/unit/test_base.c holds the full vectors and the snippet).
 *
 * Per-image seeds come from sa_seed_derive(run seed, image index, a, b), a
 * hash, so results never depend on thread count or processing order.
 * An sa_rng is plain data: copy it freely, no free function.
 */
#ifndef SA_BASE_RNG_H
#define SA_BASE_RNG_H

#include <stdint.h>

typedef enum sa_rng_kind {
    SA_RNG_FAST = 0,
    SA_RNG_NUMPY = 1,
} sa_rng_kind;

typedef struct sa_rng {
    sa_rng_kind kind;
    int mti;            /* MT19937 position */
    uint32_t mt[624];   /* MT19937 state (numpy kind) */
    uint64_t s[4];      /* xoshiro256** state (fast kind) */
    int has_gauss;      /* cached second normal deviate present */
    double gauss;
} sa_rng;

void sa_rng_seed(sa_rng *r, sa_rng_kind kind, uint64_t seed);
uint32_t sa_rng_u32(sa_rng *r);
/* Uniform double in [0, 1) with 53 random bits. */
double sa_rng_double(sa_rng *r);
double sa_rng_uniform(sa_rng *r, double lo, double hi);
/* loc + scale * N(0,1), NumPy's legacy gauss (cached pair). */
double sa_rng_normal(sa_rng *r, double loc, double scale);
/* Integer in [lo, hi), NumPy's legacy int64 path; requires lo < hi. */
int64_t sa_rng_randint(sa_rng *r, int64_t lo, int64_t hi);
/* Poisson(lam), NumPy's legacy algorithm (multiplication < 10, PTRS >= 10). */
int64_t sa_rng_poisson(sa_rng *r, double lam);

/* Well-mixed 64-bit seed from a run seed and up to three keys. */
uint64_t sa_seed_derive(uint64_t seed, uint64_t key1, uint64_t key2, uint64_t key3);
/* FNV-1a hash of a string, for keys such as corruption names or file paths. */
uint64_t sa_hash_str(const char *s);

#endif
