#include "image.h"

#include <stdlib.h>
#include <string.h>

int sa_image_dims_valid(int w, int h, int c)
{
    if (w <= 0 || h <= 0 || c <= 0 || c > 4)
        return 0;
    if (w > SA_IMAGE_MAX_DIM || h > SA_IMAGE_MAX_DIM)
        return 0;
    size_t n = (size_t)w * (size_t)h;
    return n <= SIZE_MAX / (size_t)c;
}

int sa_image_new(sa_image **out, int w, int h, int c, sa_error *err)
{
    if (!sa_image_dims_valid(w, h, c))
        return sa_error_set(err, SA_EINVAL, "image", "invalid image size %dx%dx%d", w, h, c);
    sa_image *im = malloc(sizeof *im);
    uint8_t *data = calloc((size_t)w * (size_t)h, (size_t)c);
    if (!im || !data) {
        free(im);
        free(data);
        return sa_error_set(err, SA_ENOMEM, "image", "out of memory for %dx%dx%d image", w, h, c);
    }
    im->w = w;
    im->h = h;
    im->c = c;
    im->data = data;
    *out = im;
    return 0;
}

int sa_image_clone(sa_image **out, const sa_image *in, sa_error *err)
{
    sa_image *im;
    int rc = sa_image_new(&im, in->w, in->h, in->c, err);
    if (rc < 0)
        return rc;
    memcpy(im->data, in->data, sa_image_size(in));
    *out = im;
    return 0;
}

void sa_image_free(sa_image *im)
{
    if (!im)
        return;
    free(im->data);
    free(im);
}

int sa_image_convert(sa_image **out, const sa_image *in, int channels, sa_error *err)
{
    if (channels != 1 && channels != 3)
        return sa_error_set(err, SA_EINVAL, "image", "cannot convert to %d channels", channels);
    if (in->c != 1 && in->c != 3)
        return sa_error_set(err, SA_EINVAL, "image", "cannot convert from %d channels", in->c);
    if (in->c == channels)
        return sa_image_clone(out, in, err);
    sa_image *im;
    int rc = sa_image_new(&im, in->w, in->h, channels, err);
    if (rc < 0)
        return rc;
    size_t n = (size_t)in->w * (size_t)in->h;
    if (channels == 3) {
        for (size_t i = 0; i < n; i++)
            im->data[3 * i] = im->data[3 * i + 1] = im->data[3 * i + 2] = in->data[i];
    } else {
        for (size_t i = 0; i < n; i++) {
            const uint8_t *p = in->data + 3 * i;
            double y = 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
            im->data[i] = (uint8_t)(y + 0.5);
        }
    }
    *out = im;
    return 0;
}

int sa_image_pad(sa_image **out, const sa_image *in, int pad, sa_error *err)
{
    if (pad < 0)
        return sa_error_set(err, SA_EINVAL, "image", "negative padding %d", pad);
    sa_image *im;
    int rc = sa_image_new(&im, in->w + 2 * pad, in->h + 2 * pad, in->c, err);
    if (rc < 0)
        return rc;
    size_t row = (size_t)in->w * (size_t)in->c;
    for (int y = 0; y < in->h; y++)
        memcpy(im->data + ((size_t)(y + pad) * im->w + pad) * im->c, in->data + (size_t)y * row, row);
    *out = im;
    return 0;
}
