/* Noise family: gaussian, shot (Poisson) and impulse (salt & pepper). */
#include "internal.h"
#include "params.h"

int sa__gaussian_noise(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err)
{
    (void)opt;
    (void)err;
    const double sigma = sa__gaussian_sigma[table == SA_PARAMS_CIFAR][severity - 1];
    const size_t n = sa_image_size(in);
    for (size_t i = 0; i < n; i++) {
        double noise = sa_rng_normal(rng, 0.0, sigma);
        out->data[i] = sa__to_u8(in->data[i] / 255.0 + noise);
    }
    return 0;
}

int sa__shot_noise(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err)
{
    (void)opt;
    (void)err;
    const double c = sa__shot_photons[table == SA_PARAMS_CIFAR][severity - 1];
    const size_t n = sa_image_size(in);
    for (size_t i = 0; i < n; i++) {
        double x = in->data[i] / 255.0;
        double k = (double)sa_rng_poisson(rng, x * c);
        out->data[i] = sa__to_u8(k / c);
    }
    return 0;
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
