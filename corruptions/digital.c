/* Digital family: contrast and jpeg_compression (elastic_transform and
 * pixelate are in geometric.c). */
#include <stdlib.h>
#include <string.h>

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

/* jpeg_compression: quality per severity, [IN, C10]. */
static const int jpeg_quality[2][5] = {
    {25, 18, 15, 10, 7},
    {80, 65, 58, 50, 40},
};

/* Pillow's save(format='JPEG', quality=q) then decode: libjpeg defaults
 * (baseline-clamped tables, 4:2:0, islow DCT, standard Huffman tables),
 * decoded with islow IDCT and fancy upsampling. */
int sa__jpeg_compression(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err)
{
    (void)opt;
    (void)rng;
    sa_jpeg_options jo = sa_jpeg_options_default();
    jo.quality = jpeg_quality[table == SA_PARAMS_CIFAR][severity - 1];
    jo.optimize = 0;
    void *buf = NULL;
    size_t size = 0;
    int rc = sa_image_encode_jpeg_opts(&buf, &size, in, &jo, err);
    if (rc < 0)
        return rc;
    sa_image *dec = NULL;
    rc = sa_image_decode(&dec, buf, size, in->c, "jpeg_compression", err);
    free(buf);
    if (rc < 0)
        return rc;
    if (dec->w != in->w || dec->h != in->h || dec->c != in->c) {
        sa_image_free(dec);
        return sa_error_set(err, SA_EFORMAT, "corrupt", "jpeg_compression: decoded size differs");
    }
    memcpy(out->data, dec->data, sa_image_size(in));
    sa_image_free(dec);
    return 0;
}
