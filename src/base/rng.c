#include "rng.h"

#include <math.h>

#include "error.h"

#include "rng_ziggurat.inc"

/* ---- MT19937 (Matsumoto & Nishimura), NumPy's seeding ---------------- */

static void mt_seed(sa_rng *r, uint32_t s)
{
    r->mt[0] = s;
    for (int i = 1; i < 624; i++)
        r->mt[i] = 1812433253u * (r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) + (uint32_t)i;
    r->mti = 624;
}

static void mt_generate(sa_rng *r)
{
    static const uint32_t mag01[2] = {0u, 0x9908b0dfu};
    uint32_t *mt = r->mt;
    int k;
    for (k = 0; k < 624 - 397; k++) {
        uint32_t y = (mt[k] & 0x80000000u) | (mt[k + 1] & 0x7fffffffu);
        mt[k] = mt[k + 397] ^ (y >> 1) ^ mag01[y & 1u];
    }
    for (; k < 623; k++) {
        uint32_t y = (mt[k] & 0x80000000u) | (mt[k + 1] & 0x7fffffffu);
        mt[k] = mt[k + (397 - 624)] ^ (y >> 1) ^ mag01[y & 1u];
    }
    uint32_t y = (mt[623] & 0x80000000u) | (mt[0] & 0x7fffffffu);
    mt[623] = mt[396] ^ (y >> 1) ^ mag01[y & 1u];
    r->mti = 0;
}

static uint32_t mt_next(sa_rng *r)
{
    if (r->mti >= 624)
        mt_generate(r);
    uint32_t y = r->mt[r->mti++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

/* ---- xoshiro256** (Blackman & Vigna) seeded by splitmix64 ------------- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t xoshiro_next(sa_rng *r)
{
    return sa__xoshiro_step(r->s);
}

/* ---- public API ------------------------------------------------------- */

void sa_rng_seed(sa_rng *r, sa_rng_kind kind, uint64_t seed)
{
    SA_ASSERT(r);
    r->kind = kind;
    r->has_gauss = 0;
    r->gauss = 0.0;
    if (kind == SA_RNG_NUMPY) {
        mt_seed(r, (uint32_t)(seed & 0xffffffffu));
    } else {
        uint64_t x = seed;
        for (int i = 0; i < 4; i++)
            r->s[i] = splitmix64(&x);
        r->mti = 0;
    }
}

uint32_t sa_rng_u32(sa_rng *r)
{
    if (r->kind == SA_RNG_NUMPY)
        return mt_next(r);
    return (uint32_t)(xoshiro_next(r) >> 32);
}

double sa_rng_double(sa_rng *r)
{
    if (r->kind == SA_RNG_NUMPY) {
        uint32_t a = mt_next(r) >> 5, b = mt_next(r) >> 6;
        return (a * 67108864.0 + b) / 9007199254740992.0;
    }
    return (double)(xoshiro_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

double sa_rng_uniform(sa_rng *r, double lo, double hi)
{
    return lo + (hi - lo) * sa_rng_double(r);
}

static double gauss(sa_rng *r)
{
    if (r->has_gauss) {
        r->has_gauss = 0;
        return r->gauss;
    }
    double x1, x2, r2;
    do {
        x1 = 2.0 * sa_rng_double(r) - 1.0;
        x2 = 2.0 * sa_rng_double(r) - 1.0;
        r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1.0 || r2 == 0.0);
    double f = sqrt(-2.0 * log(r2) / r2);
    r->gauss = f * x1;
    r->has_gauss = 1;
    return f * x2;
}

void sa_rng_lanes_seed(sa_rng_lanes *L, sa_rng *r)
{
    SA_ASSERT(r->kind == SA_RNG_FAST);
    sa_rng_stream st = sa_rng_stream_take(r);
    for (int l = 0; l < 8; l++) {
        uint64_t x = sa_rng_stream_next(&st);
        uint64_t any = 0;
        for (int j = 0; j < 4; j++) {
            L->s[j][l] = splitmix64(&x);
            any |= L->s[j][l];
        }
        if (any == 0) /* the one state xoshiro cannot leave */
            L->s[0][l] = 0x9e3779b97f4a7c15u;
    }
    sa_rng_stream_give(r, &st);
}

/* ---- ziggurat (Marsaglia & Tsang, with the layer index, sign and abscissa
 * taken from disjoint bits of one word) ---------------------------------- */

static inline double stream_double(sa_rng_stream *st)
{
    return (double)(sa_rng_stream_next(st) >> 11) * (1.0 / 9007199254740992.0);
}

/* The wedge test y < f(z) of layer i (z between a = x[i+1] and b = x[i])
 * decided without exp where bounds settle it: f is convex beyond 1, so it
 * lies under the chord and over both tangents there, and concave below 1
 * (the other way round). Returns 1 (accept), -1 (reject) or 0 (exp
 * decides). The margin, 1e-12, is far above the rounding of the bounds
 * and of exp, so every decision is the one the exact test makes. */
static inline int wedge_side(int i, double z, double y)
{
    const double a = zig_x[i + 1], b = zig_x[i];
    const double fa = zig_f[i + 1], fb = zig_f[i];
    const double ta = fa * (1.0 - a * (z - a)), tb = fb * (1.0 - b * (z - b));
    if (a > 1.0001) {
        /* over both tangents, under the chord (the tangents need no
         * division, so they go first) */
        if (y < (ta > tb ? ta : tb) - 1e-12)
            return 1;
        const double chord = fb + (fa - fb) * ((b - z) / (b - a));
        return y > chord + 1e-12 ? -1 : 0;
    }
    if (b < 0.9999) {
        if (y > (ta < tb ? ta : tb) + 1e-12)
            return -1;
        const double chord = fb + (fa - fb) * ((b - z) / (b - a));
        return y < chord - 1e-12 ? 1 : 0;
    }
    return 0;
}

double sa_rng_zig_finish(sa_rng_stream *st, uint64_t w)
{
    for (;;) {
        const int i = (int)(w & 255u);
        const uint64_t u = w >> 11;
        const double sign = (w & 256u) ? -1.0 : 1.0;
        double z = (double)(int64_t)u * sa__zig_w[i]; /* |z| */
        if (u < sa__zig_k[i])
            return sign * z;
        if (i == 0) {
            /* Marsaglia's tail beyond r: x = -log(U1) / r, y = -log(U2),
             * accept when 2y > x^2. */
            const double r = zig_x[1];
            double x, y;
            do {
                x = -log(1.0 - stream_double(st)) / r;
                y = -log(1.0 - stream_double(st));
            } while (!(y + y > x * x));
            return sign * (r + x);
        }
        /* wedge of layer i: y uniform between f(x[i]) and f(x[i+1]) */
        double y = zig_f[i] + stream_double(st) * (zig_f[i + 1] - zig_f[i]);
        const int side = wedge_side(i, z, y);
        if (side > 0 || (side == 0 && y < exp(-0.5 * z * z)))
            return sign * z;
        w = sa_rng_stream_next(st);
    }
}

/* One standard normal; the slow path gets a copy of the state, so that a
 * caller's stream never has its address taken and stays in registers. */
static inline double zig_normal(sa_rng_stream *st)
{
    uint64_t w = sa_rng_stream_next(st);
    int ok;
    double z = sa_rng_zig_first(w, &ok);
    if (ok)
        return z;
    sa_rng_stream tmp = *st;
    z = sa_rng_zig_finish(&tmp, w);
    *st = tmp;
    return z;
}

/* buf[i] = loc + scale * N(0,1) for up to 256 values: a branch-free pass
 * over one word per value, then the few rejected words are finished. */
static void zig_block(sa_rng_stream *st, double *buf, size_t m, double loc, double scale)
{
    uint64_t rej_w[256];
    uint16_t rej_i[256];
    size_t nrej = 0;
    sa_rng_stream x = *st;
    for (size_t i = 0; i < m; i++) {
        uint64_t w = sa_rng_stream_next(&x);
        int ok;
        double z = sa_rng_zig_first(w, &ok);
        buf[i] = loc + scale * z;
        rej_w[nrej] = w;
        rej_i[nrej] = (uint16_t)i;
        nrej += !ok;
    }
    *st = x;
    for (size_t j = 0; j < nrej; j++)
        buf[rej_i[j]] = loc + scale * sa_rng_zig_finish(st, rej_w[j]);
}

double sa_rng_normal(sa_rng *r, double loc, double scale)
{
    double g;
    if (r->kind == SA_RNG_NUMPY) {
        g = gauss(r);
    } else {
        sa_rng_stream st = sa_rng_stream_take(r);
        g = zig_normal(&st);
        sa_rng_stream_give(r, &st);
    }
    return loc + scale * g;
}

void sa_rng_fill_normal(sa_rng *r, double *buf, size_t n, double loc, double scale)
{
    if (r->kind == SA_RNG_NUMPY) {
        for (size_t i = 0; i < n; i++)
            buf[i] = loc + scale * gauss(r);
        return;
    }
    sa_rng_stream st = sa_rng_stream_take(r);
    for (size_t i = 0; i < n; i += 256)
        zig_block(&st, buf + i, n - i < 256 ? n - i : 256, loc, scale);
    sa_rng_stream_give(r, &st);
}

void sa_rng_fill_uniform(sa_rng *r, double *buf, size_t n, double lo, double hi)
{
    if (r->kind == SA_RNG_NUMPY) {
        for (size_t i = 0; i < n; i++)
            buf[i] = sa_rng_uniform(r, lo, hi);
        return;
    }
    sa_rng_stream st = sa_rng_stream_take(r);
    for (size_t i = 0; i < n; i++)
        buf[i] = lo + (hi - lo) * stream_double(&st);
    sa_rng_stream_give(r, &st);
}

/* ---- Walker's alias method (Vose's construction) ------------------------ */

int32_t sa_rng_alias_tie(const sa_rng_alias *e, int bits, sa_rng_stream *st)
{
    /* the high 32 - bits bits of the uniform equal the threshold's: the
     * next 32 + bits bits decide against the threshold's low ones */
    const uint64_t low = sa_rng_stream_next(st) >> (32 - bits);
    const uint64_t mask = (32 + bits) == 64 ? UINT64_MAX : ((uint64_t)1 << (32 + bits)) - 1u;
    return e->v[low >= (e->thr & mask)];
}

void sa_rng_alias_build(sa_rng_alias *tab, int bits, const double *w, const int32_t *values, int n)
{
    SA_ASSERT(bits >= 1 && bits <= 12 && n >= 1 && n <= (1 << bits));
    const int m = 1 << bits;
    double q[1 << 12];
    int small[1 << 12], large[1 << 12];
    double sum = 0.0;
    for (int j = 0; j < n; j++) {
        SA_ASSERT(w[j] >= 0.0);
        sum += w[j];
    }
    SA_ASSERT(sum > 0.0);
    int ns = 0, nl = 0;
    for (int j = 0; j < m; j++) {
        q[j] = j < n ? w[j] * m / sum : 0.0;
        int32_t v = j < n ? values[j] : values[0];
        tab[j].v[0] = tab[j].v[1] = v;
        tab[j].thr = UINT64_MAX;
        if (q[j] < 1.0)
            small[ns++] = j;
        else
            large[nl++] = j;
    }
    while (ns > 0 && nl > 0) {
        int s = small[--ns], l = large[nl - 1];
        /* q[s] < 1, so q * 2^64 < 2^64 fits */
        tab[s].thr = (uint64_t)(q[s] * 18446744073709551616.0);
        tab[s].v[1] = tab[l].v[0];
        q[l] = (q[l] + q[s]) - 1.0;
        if (q[l] < 1.0) {
            nl--;
            small[ns++] = l;
        }
    }
    /* Left-overs (only rounding away from 1) keep their own outcome. */
}

int64_t sa_rng_randint(sa_rng *r, int64_t lo, int64_t hi)
{
    SA_ASSERT(lo < hi);
    uint64_t range = (uint64_t)(hi - 1 - lo);
    if (range == 0)
        return lo;
    const uint64_t mask = sa_rng_range_mask(range);
    uint64_t v;
    if (range <= 0xffffffffull) {
        do
            v = sa_rng_u32(r) & mask;
        while (v > range);
    } else {
        do {
            uint64_t hi32 = sa_rng_u32(r);
            v = ((hi32 << 32) | sa_rng_u32(r)) & mask;
        } while (v > range);
    }
    return lo + (int64_t)v;
}

/* NumPy's random_loggam: log-gamma by a shifted Stirling series. */
static double loggam(double x)
{
    static const double a[10] = {8.333333333333333e-02, -2.777777777777778e-03,
                                 7.936507936507937e-04, -5.952380952380952e-04,
                                 8.417508417508418e-04, -1.917526917526918e-03,
                                 6.410256410256410e-03, -2.955065359477124e-02,
                                 1.796443723688307e-01, -1.39243221690590e+00};
    if (x == 1.0 || x == 2.0)
        return 0.0;
    int n = 0;
    if (x <= 7.0)
        n = (int)(7 - x);
    double x0 = x + n;
    double x2 = 1.0 / (x0 * x0);
    double gl0 = a[9];
    for (int k = 8; k >= 0; k--) {
        gl0 *= x2;
        gl0 += a[k];
    }
    double gl = gl0 / x0 + 0.5 * log(2.0 * M_PI) + (x0 - 0.5) * log(x0) - x0;
    if (x <= 7.0) {
        for (int k = 1; k <= n; k++) {
            gl -= log(x0 - 1.0);
            x0 -= 1.0;
        }
    }
    return gl;
}

int64_t sa_rng_poisson(sa_rng *r, double lam)
{
    if (lam <= 0.0)
        return 0;
    if (lam < 10.0) {
        double enlam = exp(-lam), prod = 1.0;
        int64_t x = 0;
        for (;;) {
            prod *= sa_rng_double(r);
            if (prod > enlam)
                x++;
            else
                return x;
        }
    }
    double slam = sqrt(lam), loglam = log(lam);
    double b = 0.931 + 2.53 * slam;
    double a = -0.059 + 0.02483 * b;
    double invalpha = 1.1239 + 1.1328 / (b - 3.4);
    double vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
        double U = sa_rng_double(r) - 0.5;
        double V = sa_rng_double(r);
        double us = 0.5 - fabs(U);
        int64_t k = (int64_t)floor((2 * a / us + b) * U + lam + 0.43);
        if (us >= 0.07 && V <= vr)
            return k;
        if (k < 0 || (us < 0.013 && V > us))
            continue;
        if (log(V) + log(invalpha) - log(a / (us * us) + b) <=
            -lam + (double)k * loglam - loggam((double)k + 1))
            return k;
    }
}

uint64_t sa_seed_derive(uint64_t seed, uint64_t key1, uint64_t key2, uint64_t key3)
{
    uint64_t x = seed;
    uint64_t h = splitmix64(&x);
    x = h ^ key1;
    h = splitmix64(&x);
    x = h ^ key2;
    h = splitmix64(&x);
    x = h ^ key3;
    return splitmix64(&x);
}

uint64_t sa_hash_str(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; s && *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ull;
    }
    return h;
}
