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
    const uint8_t *src = in->data;
    double unit[256]; /* v / 255, exactly as a per-element division */
    for (int v = 0; v < 256; v++)
        unit[v] = v / 255.0;
    /* Per-channel mean of x/255 over all pixels, float64 as numpy.mean:
     * with the channel axis innermost its reduction adds the pixels of each
     * channel one after another, which is the order here (one running sum
     * per channel, all channels in one pass). */
    double sum[4] = {0, 0, 0, 0};
    if (ch == 3) {
        double s0 = 0.0, s1 = 0.0, s2 = 0.0;
        for (size_t p = 0; p < pixels; p++) {
            s0 += unit[src[3 * p]];
            s1 += unit[src[3 * p + 1]];
            s2 += unit[src[3 * p + 2]];
        }
        sum[0] = s0;
        sum[1] = s1;
        sum[2] = s2;
    } else {
        for (size_t p = 0; p < pixels; p++)
            for (int k = 0; k < ch; k++)
                sum[k] += unit[src[p * ch + k]];
    }
    /* The output is a function of the 8-bit value per channel: one table
     * per channel with the per-element formula. */
    uint8_t lut[4][256];
    for (int k = 0; k < ch; k++) {
        const double mean = sum[k] / (double)pixels;
        for (int v = 0; v < 256; v++)
            lut[k][v] = sa__to_u8((unit[v] - mean) * c + mean);
    }
    uint8_t *dst = out->data;
    if (ch == 3) {
        for (size_t p = 0; p < pixels; p++) {
            dst[3 * p] = lut[0][src[3 * p]];
            dst[3 * p + 1] = lut[1][src[3 * p + 1]];
            dst[3 * p + 2] = lut[2][src[3 * p + 2]];
        }
    } else {
        for (size_t p = 0; p < pixels; p++)
            for (int k = 0; k < ch; k++)
                dst[p * ch + k] = lut[k][src[p * ch + k]];
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
