/* Digital family: contrast. */
#include "internal.h"
#include "params.h"

int sa__contrast(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err)
{
    (void)opt;
    (void)rng;
    (void)err;
    const double c = sa__contrast_factor[table == SA_PARAMS_CIFAR][severity - 1];
    const size_t pixels = (size_t)in->w * (size_t)in->h;
    const int ch = in->c;
    double mean[4] = {0, 0, 0, 0};
    /* Per-channel mean of x/255 over all pixels, float64 as numpy.mean
     * (pairwise summation there; the sum of exact multiples of 1/255 here
     * differs from it by far less than one output level). */
    for (int k = 0; k < ch; k++) {
        double s = 0.0;
        for (size_t p = 0; p < pixels; p++)
            s += in->data[p * ch + k] / 255.0;
        mean[k] = s / (double)pixels;
    }
    for (size_t p = 0; p < pixels; p++)
        for (int k = 0; k < ch; k++) {
            double x = in->data[p * ch + k] / 255.0;
            out->data[p * ch + k] = sa__to_u8((x - mean[k]) * c + mean[k]);
        }
    return 0;
}
