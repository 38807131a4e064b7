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
 *  - SA_RNG_FAST is xoshiro256** seeded through splitmix64. Doubles, Poisson
 *    and bounded integers use the algorithms above on its words; normals come
 *    from a 256-layer ziggurat (one 64-bit word per draw in 98.8 % of cases:
 *    8 bits pick the layer, 1 the sign, 53 the abscissa), exact in
 *    distribution but a different stream from NumPy's.
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

#include <stddef.h>
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
/* The all-ones mask covering range (NumPy's legacy bounded draws mask
 * their words with it, then reject values above range). */
static inline uint64_t sa_rng_range_mask(uint64_t range)
{
    range |= range >> 1;
    range |= range >> 2;
    range |= range >> 4;
    range |= range >> 8;
    range |= range >> 16;
    range |= range >> 32;
    return range;
}
/* Poisson(lam), NumPy's legacy algorithm (multiplication < 10, PTRS >= 10). */
int64_t sa_rng_poisson(sa_rng *r, double lam);

/* ---- bulk draws ----------------------------------------------------------
 * buf[i] = loc + scale * N(0,1), i = 0..n-1: for the numpy kind exactly the
 * values of n successive sa_rng_normal calls (np.random.normal(loc, scale,
 * n)), for the fast kind ziggurat normals without a call per draw (the
 * same law as successive sa_rng_normal calls, not the same numbers). */
void sa_rng_fill_normal(sa_rng *r, double *buf, size_t n, double loc, double scale);
/* buf[i] = lo + (hi - lo) * U[0,1): n successive sa_rng_uniform values
 * (np.random.uniform(lo, hi, n) for the numpy kind). */
void sa_rng_fill_uniform(sa_rng *r, double *buf, size_t n, double lo, double hi);

/* ---- fast-kind inner loops -----------------------------------------------
 * An inner loop that needs many raw 64-bit words copies the xoshiro256**
 * state into a local stream (so the compiler keeps it in registers), draws,
 * and puts the state back; the sa_rng then continues after those words.
 * Only for the SA_RNG_FAST kind.
 *
 *     sa_rng_stream st = sa_rng_stream_take(r);
 *     for (...) { uint64_t w = sa_rng_stream_next(&st); ... }
 *     sa_rng_stream_give(r, &st);
 */
typedef struct sa_rng_stream {
    uint64_t s[4];
} sa_rng_stream;

static inline sa_rng_stream sa_rng_stream_take(const sa_rng *r)
{
    sa_rng_stream st = {{r->s[0], r->s[1], r->s[2], r->s[3]}};
    return st;
}

static inline void sa_rng_stream_give(sa_rng *r, const sa_rng_stream *st)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = st->s[i];
}

/* One xoshiro256** step on a state (the fast kind's generator). */
static inline uint64_t sa__xoshiro_step(uint64_t s[4])
{
    uint64_t x = s[1] * 5;
    uint64_t result = ((x << 7) | (x >> 57)) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return result;
}

static inline uint64_t sa_rng_stream_next(sa_rng_stream *st)
{
    return sa__xoshiro_step(st->s);
}

/* ---- eight interleaved streams (fast kind) ------------------------------
 * Loops that vectorise draw from eight independent xoshiro256** streams,
 * one per lane. sa_rng_lanes_seed takes eight words of the sa_rng's
 * stream and expands each through splitmix64 into one lane's state, so
 * the lanes depend on the generator's state only. Step t gives word t of
 * each lane; the operations are integer shifts, adds and xors, so a loop
 * that keeps the state in vector registers (sa_rng_lanes_step, GCC) and
 * the portable form (sa_rng_lanes_next8) give the same words on every
 * CPU. The multiplications by 5 and 9 are written as shifts and adds,
 * which vector units without a 64-bit multiply do cheaply.
 *
 *     sa_rng_lanes L;
 *     sa_rng_lanes_seed(&L, r);
 *     uint64_t w[8];
 *     sa_rng_lanes_next8(&L, w);   // w[l]: next word of lane l
 */
typedef struct sa_rng_lanes {
    uint64_t s[4][8]; /* s[j][l]: state word j of lane l */
} sa_rng_lanes;

void sa_rng_lanes_seed(sa_rng_lanes *L, sa_rng *r);

static inline void sa_rng_lanes_next8(sa_rng_lanes *L, uint64_t out[8])
{
    for (int l = 0; l < 8; l++) {
        const uint64_t s1 = L->s[1][l];
        const uint64_t x = (s1 << 2) + s1;
        const uint64_t y = (x << 7) | (x >> 57);
        out[l] = (y << 3) + y;
        const uint64_t t = s1 << 17;
        L->s[2][l] ^= L->s[0][l];
        L->s[3][l] ^= s1;
        L->s[1][l] = s1 ^ L->s[2][l];
        L->s[0][l] ^= L->s[3][l];
        L->s[2][l] ^= t;
        L->s[3][l] = (L->s[3][l] << 45) | (L->s[3][l] >> 19);
    }
}

#if defined(__GNUC__) && !defined(__clang__)
#define SA_RNG_LANES_VEC 1
typedef uint64_t sa_u64x8 __attribute__((vector_size(64)));
/* One step of all eight lanes held in vectors (s[j] = state word j of
 * every lane; load from and store back to sa_rng_lanes.s[j]). */
static inline void sa_rng_lanes_step(sa_u64x8 *s, sa_u64x8 *out)
{
    const sa_u64x8 s1 = s[1];
    const sa_u64x8 x = (s1 << 2) + s1;
    const sa_u64x8 y = (x << 7) | (x >> 57);
    *out = (y << 3) + y;
    const sa_u64x8 t = s1 << 17;
    s[2] ^= s[0];
    s[3] ^= s1;
    s[1] = s1 ^ s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
}
#endif

/* The fast kind's normal sampler (a 256-layer ziggurat) in two steps, for
 * loops that fuse the draw with their own arithmetic: one word w gives a
 * candidate z = sa_rng_zig_first(w, &ok); when ok (98.5 % of words) z is
 * a standard normal, otherwise sa_rng_zig_finish(st, w) completes that
 * draw with further words of the stream (a loop may collect those words
 * and finish them after its pass: every draw stays independent and
 * exactly normal). */
extern const uint64_t sa__zig_k[256];
extern const double sa__zig_w[512];

static inline double sa_rng_zig_first(uint64_t w, int *ok)
{
    /* bits 0-7: layer, bit 8: sign, bits 11-63: abscissa */
    const uint64_t u = w >> 11;
    *ok = u < sa__zig_k[w & 255u];
    return (double)(int64_t)u * sa__zig_w[w & 511u];
}

double sa_rng_zig_finish(sa_rng_stream *st, uint64_t w);

/* ---- discrete distributions: Walker's alias method ----------------------
 * A table of 2^bits entries (1 <= bits <= 12) turns one 64-bit word into
 * one outcome: the top `bits` bits pick an entry, the remaining 64 - bits
 * bits are compared with its threshold (probabilities are kept to about
 * 2^-52 of an entry, as fine as the double weights they come from).
 *
 *     sa_rng_alias tab[1 << 9];
 *     sa_rng_alias_build(tab, 9, weights, values, n);
 *     int32_t v = sa_rng_alias_draw(tab, 9, sa_rng_stream_next(&st));
 */
typedef struct sa_rng_alias {
    uint64_t thr; /* take v[0] when the word's low bits, shifted up, are below */
    int32_t v[2]; /* the entry's own outcome and its alias */
} sa_rng_alias;

/* Fill tab[0 .. 2^bits) for outcomes values[j] with weights w[j] >= 0,
 * j < n <= 2^bits, not all zero (they need not sum to 1). */
void sa_rng_alias_build(sa_rng_alias *tab, int bits, const double *w, const int32_t *values, int n);

static inline int32_t sa_rng_alias_draw(const sa_rng_alias *tab, int bits, uint64_t word)
{
    const sa_rng_alias *e = &tab[word >> (64 - bits)];
    return e->v[(word << bits) >= e->thr]; /* an index, not a branch */
}

/* The same draw from 32 random bits h, for two outcomes per word: the top
 * `bits` bits pick the entry, the other 32 - bits are compared with the top
 * of its threshold, and only on a tie (probability 2^(bits-32)) does the
 * stream give the next 32 + bits bits of the comparison. The result has
 * the law of sa_rng_alias_draw. */
int32_t sa_rng_alias_tie(const sa_rng_alias *e, int bits, sa_rng_stream *st);

static inline int32_t sa_rng_alias_draw32(const sa_rng_alias *tab, int bits, uint32_t h,
                                          sa_rng_stream *st)
{
    const sa_rng_alias *e = &tab[h >> (32 - bits)];
    const uint64_t u = h & ((1u << (32 - bits)) - 1u);
    const uint64_t t = e->thr >> (32 + bits);
    if (u != t)
        return e->v[u > t];
    sa_rng_stream tmp = *st; /* keeps the caller's stream out of memory */
    int32_t v = sa_rng_alias_tie(e, bits, &tmp);
    *st = tmp;
    return v;
}

/* Well-mixed 64-bit seed from a run seed and up to three keys. */
uint64_t sa_seed_derive(uint64_t seed, uint64_t key1, uint64_t key2, uint64_t key3);
/* FNV-1a hash of a string, for keys such as corruption names or file paths. */
uint64_t sa_hash_str(const char *s);

#endif
