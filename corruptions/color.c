/* Colour corruptions: brightness (weather family) and saturate (extra).
 *
 * Both follow scikit-image's rgb2hsv -> edit -> hsv2rgb path pixel by pixel
 * in double precision, without an HSV image: the closed forms
 * (c' = c * V'/V, c' = V - (S'/S)(V - c)) are mathematically equal but land
 * on the other side of an integer often enough (about 0.5 % of values) to
 * change the truncated 8-bit result.
 *
 * One-channel images are treated as grey RGB pixels (R = G = B); the result
 * is stored as its luma 0.2989 R + 0.5870 G + 0.1140 B. For brightness, and
 * for saturate with b = 0, grey stays grey so this is just the value.
 */
#include <math.h>

#include "internal.h"

static const double brightness_c[2][5] = {
    {0.1, 0.2, 0.3, 0.4, 0.5},     /* ImageNet-C (also the size-generic table) */
    {0.05, 0.1, 0.15, 0.2, 0.3},   /* CIFAR-10-C */
};

static const double saturate_ab[2][5][2] = {
    {{0.3, 0}, {0.1, 0}, {2, 0}, {5, 0.1}, {20, 0.2}},
    {{0.3, 0}, {0.1, 0}, {1.5, 0}, {2, 0.1}, {2.5, 0.2}},
};

/* numpy's float remainder a % 1.0 (result in [0, 1), sign of the divisor). */
static inline double mod1(double a)
{
    double m = fmod(a, 1.0);
    if (m != 0.0) {
        if (m < 0.0)
            m += 1.0;
    } else {
        m = 0.0;
    }
    return m;
}

/* rgb2hsv for one pixel (values in [0,1]). */
static inline void rgb_to_hsv(double r, double g, double b, double *h, double *s, double *v)
{
    double mx = r > g ? r : g;
    mx = mx > b ? mx : b;
    double mn = r < g ? r : g;
    mn = mn < b ? mn : b;
    double d = mx - mn;
    *v = mx;
    if (d == 0.0) {
        *s = 0.0;
        *h = 0.0;
        return;
    }
    *s = d / mx;
    double hh = 0.0;
    /* Later cases overwrite earlier ones on ties, as the reference's
     * successive masked assignments do. */
    if (r == mx)
        hh = (g - b) / d;
    if (g == mx)
        hh = 2.0 + (b - r) / d;
    if (b == mx)
        hh = 4.0 + (r - g) / d;
    *h = mod1(hh / 6.0);
}

/* hsv2rgb for one pixel. */
static inline void hsv_to_rgb(double h, double s, double v, double *r, double *g, double *b)
{
    double hi = floor(h * 6.0);
    double f = h * 6.0 - hi;
    double p = v * (1.0 - s);
    double q = v * (1.0 - f * s);
    double t = v * (1.0 - (1.0 - f) * s);
    int i = (int)hi % 6;
    switch (i) {
    case 0: *r = v; *g = t; *b = p; break;
    case 1: *r = q; *g = v; *b = p; break;
    case 2: *r = p; *g = v; *b = t; break;
    case 3: *r = p; *g = q; *b = v; break;
    case 4: *r = t; *g = p; *b = v; break;
    default: *r = v; *g = p; *b = q; break;
    }
}

static inline double clip01(double v)
{
    return v < 0.0 ? 0.0 : (v > 1.0 ? 1.0 : v);
}

/* mode 0: brightness (V += a), mode 1: saturate (S = S * a + b). */
static void hsv_edit(sa_image *out, const sa_image *in, int mode, double a, double b)
{
    const size_t pixels = (size_t)in->w * (size_t)in->h;
    const int ch = in->c;
    const uint8_t *src = in->data;
    uint8_t *dst = out->data;
    double unit[256]; /* i / 255, exactly as the per-element division */
    for (int i = 0; i < 256; i++)
        unit[i] = i / 255.0;
    for (size_t p = 0; p < pixels; p++) {
        double r, g, bl;
        if (ch == 3) {
            r = unit[src[3 * p]];
            g = unit[src[3 * p + 1]];
            bl = unit[src[3 * p + 2]];
        } else {
            r = g = bl = unit[src[p]];
        }
        double h, s, v;
        rgb_to_hsv(r, g, bl, &h, &s, &v);
        if (mode == 0)
            v = clip01(v + a);
        else
            s = clip01(s * a + b);
        hsv_to_rgb(h, s, v, &r, &g, &bl);
        if (ch == 3) {
            dst[3 * p] = sa__to_u8(r);
            dst[3 * p + 1] = sa__to_u8(g);
            dst[3 * p + 2] = sa__to_u8(bl);
        } else {
            double y = 0.2989 * sa__to_u8(r) + 0.5870 * sa__to_u8(g) + 0.1140 * sa__to_u8(bl);
            dst[p] = (uint8_t)(y > 255.0 ? 255.0 : y);
        }
    }
}

int sa__brightness(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err)
{
    (void)opt;
    (void)rng;
    (void)err;
    hsv_edit(out, in, 0, brightness_c[table == SA_PARAMS_CIFAR][severity - 1], 0.0);
    return 0;
}

int sa__saturate(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err)
{
    (void)opt;
    (void)rng;
    (void)err;
    const double *ab = saturate_ab[table == SA_PARAMS_CIFAR][severity - 1];
    hsv_edit(out, in, 1, ab[0], ab[1]);
    return 0;
}
