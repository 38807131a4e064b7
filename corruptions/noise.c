/* Noise family: gaussian, shot (Poisson) and impulse (salt & pepper).
 *
 * The numpy generator kind replays the reference's draws one by one. The
 * fast kind draws from the same output distributions with cheaper exact
 * samplers, half a 64-bit word per element (gaussian, shot; see
 * sa_rng_alias_draw32) or one word per hit (impulse):
 *  - gaussian: trunc(clip(v/255 + n) 255) = clamp(v + D) with
 *    D = floor(255 n), whose law does not depend on v: one alias table of
 *    P(D = d) = Phi((d+1)/(255 s)) - Phi(d/(255 s)), d = -255..255, the two
 *    ends holding the whole tails (they clamp to 0 and 255 for every v);
 *  - shot: the output byte is a function of k ~ Poisson(v/255 c), so each
 *    8-bit value gets an alias table of k = 0..ceil(c)-1 plus "k >= c"
 *    (= 255); small images, where the tables would cost more than the
 *    draws, build them for the values present only, or use the Poisson
 *    sampler directly;
 *  - impulse: hits are independent Bernoulli(amount), so only the gaps
 *    between hits are drawn (geometric, from an alias table with a
 *    "63 or more" entry that continues the gap), one bit each for salt. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "params.h"

/* Upper tail of the standard normal, accurate far out. */
static double upper_tail(double x)
{
    return 0.5 * erfc(x * M_SQRT1_2);
}

static void gaussian_fast(uint8_t *out, const uint8_t *in, size_t n, double sigma, sa_rng *rng)
{
    sa_rng_alias tab[512];
    double w[511];
    int32_t val[511];
    const double s = 255.0 * sigma;
    for (int d = -255; d <= 255; d++) {
        double p;
        if (d == -255)
            p = upper_tail(254.0 / s); /* 255 n < -254 */
        else if (d == 255)
            p = upper_tail(255.0 / s); /* 255 n >= 255 */
        else if (d >= 0)
            p = upper_tail(d / s) - upper_tail((d + 1) / s);
        else
            p = upper_tail(-(d + 1) / s) - upper_tail(-d / s);
        w[d + 255] = p;
        val[d + 255] = d;
    }
    sa_rng_alias_build(tab, 9, w, val, 511);
    /* clamp(v + d) by table: dark and bright inputs clip at random, which
     * a branch would mispredict */
    uint8_t clamp[766];
    for (int k = 0; k < 766; k++)
        clamp[k] = (uint8_t)(k < 255 ? 0 : (k > 510 ? 255 : k - 255));
    const uint8_t *cl = clamp + 255;
    /* two elements per 64-bit word, 32 bits each */
    sa_rng_stream st = sa_rng_stream_take(rng);
    size_t i = 0;
    for (; i + 1 < n; i += 2) {
        const uint64_t word = sa_rng_stream_next(&st);
        out[i] = cl[in[i] + sa_rng_alias_draw32(tab, 9, (uint32_t)(word >> 32), &st)];
        out[i + 1] = cl[in[i + 1] + sa_rng_alias_draw32(tab, 9, (uint32_t)word, &st)];
    }
    if (i < n)
        out[i] = cl[in[i] + sa_rng_alias_draw32(tab, 9, (uint32_t)(sa_rng_stream_next(&st) >> 32), &st)];
    sa_rng_stream_give(rng, &st);
}

int sa__gaussian_noise(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err)
{
    (void)opt;
    (void)err;
    const double sigma = sa__gaussian_sigma[table == SA_PARAMS_CIFAR][severity - 1];
    const size_t n = sa_image_size(in);
    if (rng->kind == SA_RNG_FAST) {
        gaussian_fast(out->data, in->data, n, sigma, rng);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        double noise = sa_rng_normal(rng, 0.0, sigma);
        out->data[i] = sa__to_u8(in->data[i] / 255.0 + noise);
    }
    return 0;
}

/* One draw per element from its value's table, two per 64-bit word. */
static inline void shot_draw(uint8_t *out, const uint8_t *in, size_t n,
                             const sa_rng_alias *const *base, const int bits, sa_rng *rng)
{
    sa_rng_stream st = sa_rng_stream_take(rng);
    size_t i = 0;
    for (; i + 1 < n; i += 2) {
        const uint64_t word = sa_rng_stream_next(&st);
        out[i] = (uint8_t)sa_rng_alias_draw32(base[in[i]], bits, (uint32_t)(word >> 32), &st);
        out[i + 1] = (uint8_t)sa_rng_alias_draw32(base[in[i + 1]], bits, (uint32_t)word, &st);
    }
    if (i < n)
        out[i] = (uint8_t)sa_rng_alias_draw32(base[in[i]], bits,
                                              (uint32_t)(sa_rng_stream_next(&st) >> 32), &st);
    sa_rng_stream_give(rng, &st);
}

/* Alias tables for the values present; returns 0, or 1 when the direct
 * sampler is the better deal (few elements per table entry), or a negative
 * code when out of memory. */
static int shot_fast(uint8_t *out, const uint8_t *in, size_t n, double c, sa_rng *rng,
                     sa_error *err)
{
    const int kmax = (int)ceil(c); /* k >= kmax means k >= c: output 255 */
    if (!(c > 0.0) || kmax + 1 > 4096 || c > 700.0)
        return 1;
    int bits = 1;
    while ((1 << bits) < kmax + 1)
        bits++;
    /* Large images get a table for every value (cheaper than finding the
     * values present); smaller ones for the values present, or none. */
    uint8_t seen[256];
    memset(seen, 1, sizeof seen);
    if (((size_t)256 << bits) * 2 > n) {
        memset(seen, 0, sizeof seen);
        for (size_t i = 0; i < n; i++)
            seen[in[i]] = 1;
    }
    int slot[256], present = 0;
    for (int v = 0; v < 256; v++)
        slot[v] = seen[v] ? present++ : -1;
    if (((size_t)present << bits) * 2 > n)
        return 1;
    sa_rng_alias *tabs = malloc(sizeof(sa_rng_alias) * ((size_t)present << bits));
    double *w = malloc(sizeof(double) * (size_t)(kmax + 1));
    int32_t *val = malloc(sizeof(int32_t) * (size_t)(kmax + 1));
    if (!tabs || !w || !val) {
        free(tabs);
        free(w);
        free(val);
        return sa_error_set(err, SA_ENOMEM, "corrupt", "out of memory (shot_noise tables)");
    }
    for (int k = 0; k < kmax; k++)
        val[k] = sa__to_u8((double)k / c);
    val[kmax] = 255;
    for (int v = 0; v < 256; v++) {
        if (slot[v] < 0)
            continue;
        const double lam = v / 255.0 * c; /* as the direct path computes it */
        sa_rng_alias *tab = tabs + ((size_t)slot[v] << bits);
        if (!(lam > 0.0)) {
            w[0] = 1.0;
            sa_rng_alias_build(tab, bits, w, val, 1);
            continue;
        }
        /* pmf by p(k) = p(k-1) lam / k from p(0) = exp(-lam) (> 1e-304 for
         * lam <= 700); the tail k >= kmax summed until it stops changing. */
        double p = exp(-lam);
        for (int k = 0; k < kmax; k++) {
            w[k] = p;
            p *= lam / (k + 1);
        }
        double tail = 0.0;
        for (int k = kmax; k < kmax + 100000; k++) {
            double t = tail + p;
            if (t == tail && (double)k > lam)
                break;
            tail = t;
            p *= lam / (k + 1);
        }
        w[kmax] = tail;
        sa_rng_alias_build(tab, bits, w, val, kmax + 1);
    }
    const sa_rng_alias *base[256];
    for (int v = 0; v < 256; v++)
        base[v] = slot[v] < 0 ? NULL : tabs + ((size_t)slot[v] << bits);
    switch (bits) { /* constant shifts in each copy of the loop */
    case 1: shot_draw(out, in, n, base, 1, rng); break;
    case 2: shot_draw(out, in, n, base, 2, rng); break;
    case 3: shot_draw(out, in, n, base, 3, rng); break;
    case 4: shot_draw(out, in, n, base, 4, rng); break;
    case 5: shot_draw(out, in, n, base, 5, rng); break;
    case 6: shot_draw(out, in, n, base, 6, rng); break;
    case 7: shot_draw(out, in, n, base, 7, rng); break;
    case 8: shot_draw(out, in, n, base, 8, rng); break;
    default: shot_draw(out, in, n, base, bits, rng); break;
    }
    free(tabs);
    free(w);
    free(val);
    return 0;
}

int sa__shot_noise(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err)
{
    (void)opt;
    (void)err;
    const double c = sa__shot_photons[table == SA_PARAMS_CIFAR][severity - 1];
    const size_t n = sa_image_size(in);
    if (rng->kind == SA_RNG_FAST) {
        int rc = shot_fast(out->data, in->data, n, c, rng, err);
        if (rc <= 0)
            return rc;
    }
    for (size_t i = 0; i < n; i++) {
        double x = in->data[i] / 255.0;
        double k = (double)sa_rng_poisson(rng, x * c);
        out->data[i] = sa__to_u8(k / c);
    }
    return 0;
}

static void impulse_fast(uint8_t *out, const uint8_t *in, size_t n, double amount, sa_rng *rng)
{
    uint8_t lut[256];
    int identity = 1;
    for (int v = 0; v < 256; v++) {
        lut[v] = sa__to_u8(v / 255.0);
        identity &= lut[v] == v;
    }
    if (identity) {
        memcpy(out, in, n);
    } else {
        for (size_t i = 0; i < n; i++)
            out[i] = lut[in[i]];
    }
    if (!(amount > 0.0))
        return;
    /* Misses before the next hit: P(g) = (1-a)^g a for g < 63, and the
     * entry 63 (probability (1-a)^63) skips 63 misses and draws again. */
    enum { CONT = 63 };
    sa_rng_alias tab[64];
    double w[64];
    int32_t val[64];
    double q = 1.0;
    for (int g = 0; g < CONT; g++) {
        w[g] = q * amount;
        val[g] = g;
        q *= 1.0 - amount;
    }
    w[CONT] = q;
    val[CONT] = CONT;
    sa_rng_alias_build(tab, 6, w, val, 64);
    sa_rng_stream st = sa_rng_stream_take(rng);
    uint64_t salt_bits = 0;
    int salt_left = 0;
    size_t pos = 0;
    for (;;) {
        int32_t g;
        while ((g = sa_rng_alias_draw(tab, 6, sa_rng_stream_next(&st))) == CONT) {
            pos += CONT;
            if (pos >= n)
                goto done;
        }
        pos += (size_t)g;
        if (pos >= n)
            break;
        if (salt_left == 0) {
            salt_bits = sa_rng_stream_next(&st);
            salt_left = 64;
        }
        out[pos++] = (salt_bits & 1u) ? 255 : 0;
        salt_bits >>= 1;
        salt_left--;
    }
done:
    sa_rng_stream_give(rng, &st);
}

/* scikit-image's random_noise(mode='s&p') as of the versions that made
 * ImageNet-C: first one uniform per element for the "hit" mask (u < amount),
 * then one per element for salt (u < 0.5) versus pepper. The second pass
 * reads the hit decisions back from `out`, so no scratch memory is needed:
 * out holds the untouched value for a miss and a marker is not required,
 * because hit elements are recorded in the low bit of a second sweep. */
int sa__impulse_noise(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err)
{
    (void)opt;
    (void)err;
    const double amount = sa__impulse_amount[table == SA_PARAMS_CIFAR][severity - 1];
    const size_t n = sa_image_size(in);
    if (rng->kind == SA_RNG_FAST) {
        impulse_fast(out->data, in->data, n, amount, rng);
        return 0;
    }
    /* Pass 1: hit mask, stored as 1/0 in out. */
    for (size_t i = 0; i < n; i++)
        out->data[i] = sa_rng_double(rng) < amount;
    /* Pass 2: salt or pepper for every element (all draws are consumed,
     * as the reference draws the whole mask). */
    for (size_t i = 0; i < n; i++) {
        int salt = sa_rng_double(rng) < 0.5;
        if (out->data[i])
            out->data[i] = salt ? 255 : 0;
        else
            out->data[i] = sa__to_u8(in->data[i] / 255.0);
    }
    return 0;
}
