/* filters.h - building blocks shared by several corruptions (internal).
 *
 * Arrays are interleaved H x W x C (row-major, channel fastest), like
 * sa_image. Functions write `out` (which must not alias `in` unless stated),
 * allocate only their own scratch, and return 0 or an SA_E* code.
 * The numbers of each block are in the specification the corruptions follow
 * (README.md in this directory names the sections).
 */
#ifndef SA_CORRUPTIONS_FILTERS_H
#define SA_CORRUPTIONS_FILTERS_H

#include <stdint.h>

#include "error.h"

typedef enum sa__border {
    SA__BORDER_NEAREST = 0,  /* a a | a b c      (edge replicate) */
    SA__BORDER_REFLECT,      /* b a | a b c      (half-sample symmetric) */
    SA__BORDER_REFLECT101,   /* c b | a b c      (edge not repeated) */
} sa__border;

/* Map an out-of-range index into [0, n) with the given border rule
 * (repeatedly, for offsets larger than the array). */
int sa__border_index(int i, int n, sa__border border);

/* Separable Gaussian filter over the H and W axes (scipy.ndimage
 * gaussian_filter): 1-D kernel exp(-j^2 / (2 sigma^2)), j = -r..r,
 * r = floor(truncate * sigma + 0.5), normalised to sum 1; an axis with
 * sigma <= 1e-15 is copied unchanged. `out` may equal `in`. */
int sa__gaussian_filter_f64(double *out, const double *in, int h, int w, int c, double sigma,
                            double truncate, sa__border border, sa_error *err);
int sa__gaussian_filter_f32(float *out, const float *in, int h, int w, int c, double sigma,
                            double truncate, sa__border border, sa_error *err);

/* clipped_zoom of an h x w x c float array by factor z (hendrycks): centred
 * crop of ceil(n / z), bilinear corner-aligned resize to round(ch * z),
 * centred trim back to h x w. */
int sa__clipped_zoom_f32(float *out, const float *in, int h, int w, int c, double z, sa_error *err);
int sa__clipped_zoom_f64(double *out, const double *in, int h, int w, int c, double z,
                         sa_error *err);

/* ImageMagick MotionBlurImage kernel (radius, sigma, angle in degrees) on
 * 8-bit data, with ImageMagick's quantisation (hendrycks). */
int sa__motion_blur_u8(uint8_t *out, const uint8_t *in, int h, int w, int c, double radius,
                       double sigma, double angle_deg, sa_error *err);

#endif
