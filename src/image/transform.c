/* Resampling and cropping with Pillow's and torchvision's arithmetic.
 *
 * sa_image_resample follows Pillow 9's ImagingResample for 8-bit images:
 * separable, horizontal pass first into an 8-bit intermediate, filter
 * support scaled by the downscale factor, weights normalised in double and
 * turned into fixed-point coefficients with 22 fractional bits, each sum
 * started at 2^21 (rounding) and clamped to 0..255. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"

#define PRECISION_BITS (32 - 8 - 2)

static double filter_box(double x)
{
    return (x > -0.5 && x <= 0.5) ? 1.0 : 0.0;
}

static double filter_triangle(double x)
{
    if (x < 0.0)
        x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

/* Fixed-point coefficients for resampling in_size -> out_size along one
 * axis. Returns the kernel size, or 0 when out of memory; *bounds holds
 * (first input, count) per output, *coefs ksize ints per output. */
static int precompute(int in_size, int out_size, sa_resample_filter f, int **bounds_out,
                      int32_t **coefs_out)
{
    double (*filter)(double) = f == SA_RESAMPLE_BOX ? filter_box : filter_triangle;
    double support = f == SA_RESAMPLE_BOX ? 0.5 : 1.0;
    double scale = (double)in_size / out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    support *= filterscale;
    int ksize = (int)ceil(support) * 2 + 1;
    int *bounds = malloc(sizeof *bounds * 2 * (size_t)out_size);
    int32_t *coefs = malloc(sizeof *coefs * (size_t)ksize * (size_t)out_size);
    double *k = malloc(sizeof *k * (size_t)ksize);
    if (!bounds || !coefs || !k) {
        free(bounds);
        free(coefs);
        free(k);
        return 0;
    }
    for (int xx = 0; xx < out_size; xx++) {
        double center = (xx + 0.5) * scale;
        double ww = 0.0, ss = 1.0 / filterscale;
        int xmin = (int)(center - support + 0.5);
        if (xmin < 0)
            xmin = 0;
        int xmax = (int)(center + support + 0.5);
        if (xmax > in_size)
            xmax = in_size;
        xmax -= xmin;
        int x;
        for (x = 0; x < xmax; x++) {
            double w = filter((x + xmin - center + 0.5) * ss);
            k[x] = w;
            ww += w;
        }
        for (x = 0; x < xmax; x++)
            if (ww != 0.0)
                k[x] /= ww;
        for (; x < ksize; x++)
            k[x] = 0.0;
        for (x = 0; x < ksize; x++) {
            double v = k[x] * (1 << PRECISION_BITS);
            coefs[xx * ksize + x] = (int32_t)(v < 0 ? v - 0.5 : v + 0.5);
        }
        bounds[2 * xx] = xmin;
        bounds[2 * xx + 1] = xmax;
    }
    free(k);
    *bounds_out = bounds;
    *coefs_out = coefs;
    return ksize;
}

static inline uint8_t clip8(int32_t v)
{
    v >>= PRECISION_BITS;
    return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)v;
}

int sa_image_resample_into(sa_image *out, const sa_image *in, sa_resample_filter filter,
                           sa_error *err)
{
    if (out->c != in->c)
        return sa_error_set(err, SA_EINVAL, "image", "resample: %d channels into %d", in->c,
                            out->c);
    if (filter != SA_RESAMPLE_BOX && filter != SA_RESAMPLE_BILINEAR)
        return sa_error_set(err, SA_EINVAL, "image", "resample: unknown filter %d", (int)filter);
    const int c = in->c, iw = in->w, ih = in->h, ow = out->w, oh = out->h;
    if (iw == ow && ih == oh) {
        memcpy(out->data, in->data, sa_image_size(in));
        return 0;
    }
    int *hb = NULL, *vb = NULL;
    int32_t *hk = NULL, *vk = NULL;
    uint8_t *tmp = NULL;
    int hks = precompute(iw, ow, filter, &hb, &hk);
    int vks = hks ? precompute(ih, oh, filter, &vb, &vk) : 0;
    if (!hks || !vks) {
        free(hb);
        free(hk);
        return sa_error_set(err, SA_ENOMEM, "image", "resample: out of memory");
    }
    /* Horizontal pass over the rows the vertical pass reads. */
    int y0 = 0, y1 = ih;
    const uint8_t *src = in->data;
    if (ow != iw) {
        if (oh != ih) {
            y0 = vb[0];
            y1 = vb[2 * (oh - 1)] + vb[2 * (oh - 1) + 1];
        }
        tmp = malloc((size_t)(y1 - y0) * (size_t)ow * (size_t)c);
        if (!tmp) {
            free(hb);
            free(hk);
            free(vb);
            free(vk);
            return sa_error_set(err, SA_ENOMEM, "image", "resample: out of memory");
        }
        uint8_t *dst = oh != ih ? tmp : out->data;
        for (int y = y0; y < y1; y++) {
            const uint8_t *row = in->data + (size_t)y * iw * c;
            uint8_t *orow = dst + (size_t)(y - y0) * ow * c;
            for (int x = 0; x < ow; x++) {
                int xmin = hb[2 * x], xn = hb[2 * x + 1];
                const int32_t *k = hk + (size_t)x * hks;
                if (c == 3) {
                    int32_t s0 = 1 << (PRECISION_BITS - 1), s1 = s0, s2 = s0;
                    const uint8_t *p = row + (size_t)xmin * 3;
                    for (int j = 0; j < xn; j++, p += 3) {
                        s0 += p[0] * k[j];
                        s1 += p[1] * k[j];
                        s2 += p[2] * k[j];
                    }
                    orow[x * 3] = clip8(s0);
                    orow[x * 3 + 1] = clip8(s1);
                    orow[x * 3 + 2] = clip8(s2);
                    continue;
                }
                for (int ch = 0; ch < c; ch++) {
                    int32_t ss = 1 << (PRECISION_BITS - 1);
                    for (int j = 0; j < xn; j++)
                        ss += row[(xmin + j) * c + ch] * k[j];
                    orow[x * c + ch] = clip8(ss);
                }
            }
        }
        src = tmp;
        if (oh == ih) {
            free(tmp);
            tmp = NULL;
        }
    }
    if (oh != ih) {
        /* Row by row, so that the inner loop runs over contiguous bytes. */
        const size_t rowlen = (size_t)ow * c;
        int32_t *acc = malloc(rowlen * sizeof *acc);
        if (!acc) {
            free(tmp);
            free(hb);
            free(hk);
            free(vb);
            free(vk);
            return sa_error_set(err, SA_ENOMEM, "image", "resample: out of memory");
        }
        for (int y = 0; y < oh; y++) {
            int ymin = vb[2 * y] - y0, yn = vb[2 * y + 1];
            const int32_t *k = vk + (size_t)y * vks;
            for (size_t i = 0; i < rowlen; i++)
                acc[i] = 1 << (PRECISION_BITS - 1);
            for (int j = 0; j < yn; j++) {
                const uint8_t *row = src + (size_t)(ymin + j) * rowlen;
                const int32_t kj = k[j];
                for (size_t i = 0; i < rowlen; i++)
                    acc[i] += row[i] * kj;
            }
            uint8_t *orow = out->data + (size_t)y * rowlen;
            for (size_t i = 0; i < rowlen; i++)
                orow[i] = clip8(acc[i]);
        }
        free(acc);
    }
    free(tmp);
    free(hb);
    free(hk);
    free(vb);
    free(vk);
    return 0;
}

int sa_image_resample(sa_image **out, const sa_image *in, int w, int h,
                      sa_resample_filter filter, sa_error *err)
{
    sa_image *im;
    int rc = sa_image_new(&im, w, h, in->c, err);
    if (rc < 0)
        return rc;
    rc = sa_image_resample_into(im, in, filter, err);
    if (rc < 0) {
        sa_image_free(im);
        return rc;
    }
    *out = im;
    return 0;
}

void sa_image_shorter_side_size(int w, int h, int size, int *ow, int *oh)
{
    if (w <= h) {
        *ow = size;
        *oh = (int)((double)size * h / w);
    } else {
        *oh = size;
        *ow = (int)((double)size * w / h);
    }
}

int sa_image_resize_shorter(sa_image **out, const sa_image *in, int size, sa_error *err)
{
    if (size <= 0)
        return sa_error_set(err, SA_EINVAL, "image", "resize: size %d must be positive", size);
    int w, h;
    sa_image_shorter_side_size(in->w, in->h, size, &w, &h);
    if (w < 1)
        w = 1;
    if (h < 1)
        h = 1;
    return sa_image_resample(out, in, w, h, SA_RESAMPLE_BILINEAR, err);
}

int sa_image_center_crop(sa_image **out, const sa_image *in, int w, int h, sa_error *err)
{
    if (w <= 0 || h <= 0 || w > in->w || h > in->h)
        return sa_error_set(err, SA_EINVAL, "image", "crop %dx%d does not fit in a %dx%d image", w,
                            h, in->w, in->h);
    int top, left;
    sa_image_center_crop_offsets(in->w, in->h, w, h, &left, &top);
    sa_image *im;
    int rc = sa_image_new(&im, w, h, in->c, err);
    if (rc < 0)
        return rc;
    const size_t row = (size_t)w * in->c;
    for (int y = 0; y < h; y++)
        memcpy(im->data + (size_t)y * row,
               in->data + ((size_t)(top + y) * in->w + (size_t)left) * in->c, row);
    *out = im;
    return 0;
}

void sa_image_center_crop_offsets(int iw, int ih, int w, int h, int *left, int *top)
{
    /* torchvision: int(round((H - h) / 2.0)), Python's round half to even. */
    *top = (int)nearbyint((ih - h) / 2.0);
    *left = (int)nearbyint((iw - w) / 2.0);
}

int sa_image_imagenet_geometry(sa_image **out, const sa_image *in, sa_error *err)
{
    sa_image *r = NULL;
    int rc = sa_image_resize_shorter(&r, in, 256, err);
    if (rc < 0)
        return rc;
    rc = sa_image_center_crop(out, r, 224, 224, err);
    sa_image_free(r);
    return rc;
}
