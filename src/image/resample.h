/* resample.h - the streaming resampler behind sa_image_resample_window
 * (internal to the image module).
 *
 *     sa__resampler *r;
 *     sa__resampler_new(&r, win, fw, fh, ow, oh, ox, oy, SA_RESAMPLE_BILINEAR, &err);
 *     sa__resampler_source(r, &x0, &y0, &x1, &y1);
 *     for (y = y0; y < y1; y++) sa__resampler_push(r, pixel (x0, y) of the source);
 *     sa__resampler_free(r);                  // win now holds its window
 *
 * Source rows go in one at a time, top to bottom; each output row is
 * written as soon as its last source row has arrived, so only a few
 * resampled rows are held whatever the image size. The bytes are those of
 * the same window of sa_image_resample's full result.
 */
#ifndef SA_IMAGE_RESAMPLE_H
#define SA_IMAGE_RESAMPLE_H

#include "image.h"

typedef struct sa__resampler sa__resampler;

/* `win` (borrowed until sa__resampler_free) receives the outputs
 * [ox, ox + win->w) x [oy, oy + win->h) of resizing fw x fh to ow x oh;
 * its channel count is the source's. */
int sa__resampler_new(sa__resampler **out, sa_image *win, int fw, int fh, int ow, int oh, int ox,
                      int oy, sa_resample_filter filter, sa_error *err);
/* The source pixels [x0, x1) x [y0, y1) the window reads. */
void sa__resampler_source(const sa__resampler *r, int *x0, int *y0, int *x1, int *y1);
/* Next source row (y0 first): x1 - x0 pixels starting at column x0. */
void sa__resampler_push(sa__resampler *r, const uint8_t *row);
/* 1 once every source row has been pushed. */
int sa__resampler_done(const sa__resampler *r);
void sa__resampler_free(sa__resampler *r);

#endif
