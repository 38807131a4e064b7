/* Built-in frost textures, generated procedurally.
 *
 * The reference blends one of five photographs of frost into the image. Those
 * photographs carry no licence, so this build ships none: each built-in
 * texture is a deterministic function texel(i, x, y) -> RGB, evaluated only
 * where a corruption needs it (a crop of the image's size, the decimated
 * CIFAR grid or the source window of a rescale). Nothing is cached and there
 * is no global state.
 *
 * The field: a sum of octaves of value noise on hashed lattices, each octave
 * rotated by its own angle and stretched 1:3 along it so the octaves read as
 * needle-like ice crystals, plus a "ridged" term (1 - |n|)^4 that adds the
 * thin bright lines of crystal edges, and a low-frequency cloudy term. The
 * field is standardised with its mean and standard deviation measured on a
 * fixed grid of the texture (deterministic), then mapped per channel to the
 * mean and standard deviation of the corresponding reference photograph
 * (summary statistics only: bright, blue-grey, contrast 15-45 levels).
 * Sizes equal the reference's (W x H): 900x600, 560x315, 560x315, 527x350,
 * 660x495.
 *
 * A lattice value is an integer hash of the cell's corner and the octave's
 * seed (no tables), so a row of texels is one branch-free loop of integer
 * and float32 arithmetic that the compiler vectorises; x86-64 GCC builds add
 * AVX-512 and AVX2 variants of that loop, which round exactly as the plain
 * one (no contraction, the same operations in the same order).
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "simd.h"
#include "weather.h"

typedef struct frost_style {
    int w, h;
    uint32_t seed;
    double mean[3], sd[3]; /* target per-channel statistics (RGB, 0..255) */
    double scale;          /* lattice period of the finest octave, in texels */
} frost_style;

static const frost_style styles[SA__FROST_BUILTIN_N] = {
    {900, 600, 0x9e3779b9u, {77.7, 149.1, 165.7}, {26.9, 16.5, 15.3}, 1.9},
    {560, 315, 0x85ebca6bu, {200.8, 205.4, 214.5}, {21.4, 22.1, 22.6}, 3.4},
    {560, 315, 0xc2b2ae35u, {200.8, 205.4, 214.5}, {21.4, 22.1, 22.6}, 3.4},
    {527, 350, 0x27d4eb2fu, {137.6, 152.8, 165.2}, {28.5, 28.5, 29.9}, 2.4},
    {660, 495, 0x165667b1u, {112.4, 123.4, 134.8}, {44.4, 43.3, 41.7}, 2.0},
};

/* Lattice hash multipliers along x and y. */
#define HX 0x8da6b343u
#define HY 0xd8163841u

static inline uint32_t hash3(int32_t x, int32_t y, uint32_t s)
{
    uint32_t h = s ^ ((uint32_t)x * HX) ^ ((uint32_t)y * HY);
    h ^= h >> 15;
    h *= 0x2c1b3c6du;
    h ^= h >> 12;
    h *= 0x297a2d39u;
    h ^= h >> 15;
    return h;
}

/* Lattice value, in units of 2^-31 (an integer in [-2^31, 2^31) as a
 * float), of the corner whose coordinate terms are hx = x * HX ^ seed and
 * hy = y * HY. */
static inline float lattice(uint32_t hx, uint32_t hy)
{
    uint32_t h = (hx ^ hy) * 0x2c1b3c6du;
    h ^= h >> 15;
    h *= 0x297a2d39u;
    return (float)(int32_t)h;
}

/* Value noise in [-1, 1] with smoothstep interpolation. */
static inline float vnoise(float x, float y, uint32_t s)
{
    int32_t jx = (int32_t)x, jy = (int32_t)y; /* floor without a libm call */
    jx -= x < (float)jx;
    jy -= y < (float)jy;
    float tx = x - (float)jx, ty = y - (float)jy;
    tx = tx * tx * (3.0f - 2.0f * tx);
    ty = ty * ty * (3.0f - 2.0f * ty);
    const uint32_t ax = (uint32_t)jx * HX, by = (uint32_t)jy * HY;
    const uint32_t x0 = ax ^ s, x1 = (ax + HX) ^ s, y1 = by + HY;
    float a = lattice(x0, by), b = lattice(x1, by);
    float c = lattice(x0, y1), d = lattice(x1, y1);
    float top = a + (b - a) * tx;
    float bot = c + (d - c) * tx;
    /* Scaling by 2^-31 once here rounds exactly as scaling each corner
     * would: a power of two commutes with rounding (no value gets near the
     * subnormal range). */
    return (top + (bot - top) * ty) * (1.0f / 2147483648.0f);
}

static inline float raw_field(const sa__frost_builtin *t, float x, float y)
{
    float v = 0.0f;
    for (int k = 0; k < SA__FROST_OCTAVES; k++) {
        float u = (t->ca[k] * x + t->sa[k] * y) * t->fu[k];
        float w = (-t->sa[k] * x + t->ca[k] * y) * t->fv[k];
        float n = vnoise(u, w, t->seed[k]);
        float r = 1.0f - fabsf(n);
        r *= r;
        v += t->weight[k] * (0.6f * n + 0.9f * r * r);
    }
    /* Low-frequency cloudiness. */
    v += 0.5f * vnoise(x * (1.0f / 90.0f), y * (1.0f / 90.0f), t->cloud_seed);
    return v;
}

/* v[j] = field at (xs[j], y), j < n. */
SA_CLONES
static void field_row(const sa__frost_builtin *restrict t, const float *restrict xs, float y, int n,
                      float *restrict v)
{
    const sa__frost_builtin tt = *t; /* a local copy: no aliasing with v */
    for (int j = 0; j < n; j++)
        v[j] = raw_field(&tt, xs[j], y);
}

void sa__frost_builtin_size(int i, int *w, int *h)
{
    *w = styles[i].w;
    *h = styles[i].h;
}

void sa__frost_builtin_init(sa__frost_builtin *t, int i)
{
    const frost_style *st = &styles[i];
    uint32_t s = st->seed;
    for (int k = 0; k < SA__FROST_OCTAVES; k++) {
        s = hash3((int32_t)k, 17, s);
        double ang = (double)(s >> 8) / 16777216.0 * 3.14159265358979323846;
        double per = st->scale * pow(2.1, k); /* period across the needles */
        t->ca[k] = (float)cos(ang);
        t->sa[k] = (float)sin(ang);
        t->fv[k] = (float)(1.0 / per);
        t->fu[k] = (float)(1.0 / (3.0 * per));
        t->weight[k] = (float)pow(0.72, k);
        t->seed[k] = s;
    }
    t->cloud_seed = st->seed ^ 0x5bd1e995u;
    /* Standardise on a fixed 64 x 64 grid covering the texture. */
    enum { G = 64 };
    float xs[G], v[G];
    for (int gx = 0; gx < G; gx++)
        xs[gx] = (float)((gx + 0.37) * st->w / G);
    double sum = 0.0, sq = 0.0;
    for (int gy = 0; gy < G; gy++) {
        field_row(t, xs, (float)((gy + 0.61) * st->h / G), G, v);
        for (int gx = 0; gx < G; gx++) {
            sum += v[gx];
            sq += (double)v[gx] * v[gx];
        }
    }
    double m = sum / (G * G);
    double sd = sqrt(sq / (G * G) - m * m);
    t->index = i;
    t->w = st->w;
    t->h = st->h;
    for (int k = 0; k < 3; k++) {
        t->gain[k] = (float)(st->sd[k] / sd);
        t->offset[k] = (float)(st->mean[k] - m * st->sd[k] / sd);
    }
}

static inline uint8_t sat_u8(float v)
{
    v += 0.5f;
    v = v > 0.0f ? v : 0.0f;
    v = v < 255.0f ? v : 255.0f;
    return (uint8_t)(int32_t)v;
}

void sa__frost_builtin_texel(const sa__frost_builtin *t, int x, int y, uint8_t rgb[3])
{
    sa__frost_builtin_row(t, y, x, 1, 1, rgb);
}

/* Channel values of n field values: rgb[3j + k] = sat(offset[k] + gain[k] v[j]). */
SA_CLONES
static void to_rgb(uint8_t *restrict rgb, const float *restrict v, int n, const float *restrict off,
                   const float *restrict gain)
{
    const float o0 = off[0], o1 = off[1], o2 = off[2];
    const float g0 = gain[0], g1 = gain[1], g2 = gain[2];
    for (int j = 0; j < n; j++) {
        rgb[3 * j] = sat_u8(o0 + g0 * v[j]);
        rgb[3 * j + 1] = sat_u8(o1 + g1 * v[j]);
        rgb[3 * j + 2] = sat_u8(o2 + g2 * v[j]);
    }
}

void sa__frost_builtin_row(const sa__frost_builtin *t, int y, int x0, int step, int n,
                           uint8_t *rgb)
{
    enum { CHUNK = 256 };
    float xs[CHUNK], v[CHUNK];
    for (int j0 = 0; j0 < n; j0 += CHUNK) {
        const int m = n - j0 < CHUNK ? n - j0 : CHUNK;
        for (int j = 0; j < m; j++)
            xs[j] = (float)(x0 + (j0 + j) * step);
        field_row(t, xs, (float)y, m, v);
        to_rgb(rgb + 3 * (size_t)j0, v, m, t->offset, t->gain);
    }
}
