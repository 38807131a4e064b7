/* Built-in frost textures, generated procedurally.
 *
 * The reference blends one of five photographs of frost into the image. Those
 * photographs carry no licence, so this build ships none: each built-in
 * texture is a deterministic function texel(i, x, y) -> RGB, evaluated only
 * where a corruption needs it (a crop of the image's size, the decimated
 * CIFAR grid or the source window of a rescale). Nothing is cached and there
 * is no global state; a 224x224 crop costs a few milliseconds.
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
 */
#include <math.h>
#include <stdint.h>

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

#define N_OCT 4

static inline uint32_t hash3(int32_t x, int32_t y, uint32_t s)
{
    uint32_t h = s ^ ((uint32_t)x * 0x8da6b343u) ^ ((uint32_t)y * 0xd8163841u);
    h ^= h >> 15;
    h *= 0x2c1b3c6du;
    h ^= h >> 12;
    h *= 0x297a2d39u;
    h ^= h >> 15;
    return h;
}

/* Value noise in [-1, 1] with smoothstep interpolation; lattice values
 * from the texture's permutation table (period 1024 cells, far beyond the
 * texture at every octave). */
static inline float vnoise(const sa__frost_builtin *t, float x, float y, uint32_t s)
{
    int32_t jx = (int32_t)x, jy = (int32_t)y; /* floor without a libm call */
    jx -= x < (float)jx;
    jy -= y < (float)jy;
    float fx = (float)jx, fy = (float)jy;
    int32_t ix = jx + (int32_t)(s & 1023u), iy = jy + (int32_t)(s >> 22);
    float tx = x - fx, ty = y - fy;
    tx = tx * tx * (3.0f - 2.0f * tx);
    ty = ty * ty * (3.0f - 2.0f * ty);
    const uint16_t *p = t->perm;
    unsigned r0 = p[(unsigned)ix & 1023u], r1 = p[(unsigned)(ix + 1) & 1023u];
    float a = t->val[p[(r0 + (unsigned)iy) & 1023u]];
    float b = t->val[p[(r1 + (unsigned)iy) & 1023u]];
    float c = t->val[p[(r0 + (unsigned)iy + 1u) & 1023u]];
    float d = t->val[p[(r1 + (unsigned)iy + 1u) & 1023u]];
    float top = a + (b - a) * tx;
    float bot = c + (d - c) * tx;
    return top + (bot - top) * ty;
}

typedef struct octave {
    float ca, sa;    /* rotation */
    float fu, fv;    /* frequency along / across the crystal direction */
    float weight;
    uint32_t seed;
} octave;

static void octaves(const frost_style *st, octave *o)
{
    uint32_t s = st->seed;
    for (int k = 0; k < N_OCT; k++) {
        s = hash3((int32_t)k, 17, s);
        double ang = (double)(s >> 8) / 16777216.0 * 3.14159265358979323846;
        double per = st->scale * pow(2.1, k); /* period across the needles */
        o[k].ca = (float)cos(ang);
        o[k].sa = (float)sin(ang);
        o[k].fv = (float)(1.0 / per);
        o[k].fu = (float)(1.0 / (3.0 * per));
        o[k].weight = (float)pow(0.72, k);
        o[k].seed = s;
    }
}

static inline float raw_field(const sa__frost_builtin *t, const octave *o, uint32_t seed, float x,
                              float y)
{
    float v = 0.0f;
    for (int k = 0; k < N_OCT; k++) {
        float u = (o[k].ca * x + o[k].sa * y) * o[k].fu;
        float w = (-o[k].sa * x + o[k].ca * y) * o[k].fv;
        float n = vnoise(t, u, w, o[k].seed);
        float r = 1.0f - fabsf(n);
        r *= r;
        v += o[k].weight * (0.6f * n + 0.9f * r * r);
    }
    /* Low-frequency cloudiness. */
    v += 0.5f * vnoise(t, x * (1.0f / 90.0f), y * (1.0f / 90.0f), seed ^ 0x5bd1e995u);
    return v;
}

void sa__frost_builtin_size(int i, int *w, int *h)
{
    *w = styles[i].w;
    *h = styles[i].h;
}

void sa__frost_builtin_init(sa__frost_builtin *t, int i)
{
    const frost_style *st = &styles[i];
    octave o[N_OCT];
    octaves(st, o);
    /* Permutation and lattice values (Fisher-Yates on a hash stream). */
    uint32_t h = st->seed;
    for (int k = 0; k < 1024; k++) {
        t->perm[k] = (uint16_t)k;
        h = hash3(k, 3, h);
        t->val[k] = (float)(int32_t)h * (1.0f / 2147483648.0f);
    }
    for (int k = 1023; k > 0; k--) {
        h = hash3(k, 5, h);
        int j = (int)(h % (uint32_t)(k + 1));
        uint16_t tmp = t->perm[k];
        t->perm[k] = t->perm[j];
        t->perm[j] = tmp;
    }
    /* Standardise on a fixed 64 x 64 grid covering the texture. */
    double s = 0.0, q = 0.0;
    const int g = 64;
    for (int gy = 0; gy < g; gy++)
        for (int gx = 0; gx < g; gx++) {
            float x = (float)((gx + 0.37) * st->w / g), y = (float)((gy + 0.61) * st->h / g);
            double v = raw_field(t, o, st->seed, x, y);
            s += v;
            q += v * v;
        }
    double m = s / (g * g);
    double sd = sqrt(q / (g * g) - m * m);
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
    return v <= 0.0f ? 0 : (v >= 255.0f ? 255 : (uint8_t)v);
}

void sa__frost_builtin_texel(const sa__frost_builtin *t, int x, int y, uint8_t rgb[3])
{
    const frost_style *st = &styles[t->index];
    octave o[N_OCT];
    octaves(st, o);
    float v = raw_field(t, o, st->seed, (float)x, (float)y);
    for (int k = 0; k < 3; k++)
        rgb[k] = sat_u8(t->offset[k] + t->gain[k] * v);
}

void sa__frost_builtin_row(const sa__frost_builtin *t, int y, int x0, int step, int n,
                           uint8_t *rgb)
{
    const frost_style *st = &styles[t->index];
    octave o[N_OCT];
    octaves(st, o);
    for (int j = 0; j < n; j++) {
        float v = raw_field(t, o, st->seed, (float)(x0 + j * step), (float)y);
        for (int k = 0; k < 3; k++)
            rgb[3 * j + k] = sat_u8(t->offset[k] + t->gain[k] * v);
    }
}
