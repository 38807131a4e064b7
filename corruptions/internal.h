/* internal.h - helpers shared by the kernel files (not installed). */
#ifndef SA_CORRUPTIONS_INTERNAL_H
#define SA_CORRUPTIONS_INTERNAL_H

#include <math.h>
#include <stdint.h>

#include "corruptions.h"

/* Clip v (in [0,1] units) and convert to 8 bits by truncation, as
 * np.uint8(np.clip(v, 0, 1) * 255) does. */
static inline uint8_t sa__to_u8(double v)
{
    if (!(v > 0.0)) /* also catches NaN */
        return 0;
    if (v >= 1.0)
        return 255;
    return (uint8_t)(v * 255.0);
}

/* The same bytes as sa__to_u8 (NaN included) as a chain of selects, which
 * loops across pixels vectorise. */
static inline uint8_t sa__to_u8_sel(double v)
{
    double c = v > 0.0 ? v : 0.0;
    c = c < 1.0 ? c : 1.0;
    return (uint8_t)(int32_t)(c * 255.0);
}

/* A kernel: `table` is the resolved parameter table (SA_PARAMS_IMAGENET,
 * SA_PARAMS_CIFAR or SA_PARAMS_ANY, never AUTO); arguments are already
 * checked (severity 1..5, same dimensions, C = 1 or 3, no aliasing). */
typedef int (*sa__kernel)(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
                          const sa_corrupt_options *opt, sa_rng *rng, sa_error *err);

/* One kernel per corruption (registry in corruptions.c). */
int sa__gaussian_noise(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err);
int sa__shot_noise(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err);
int sa__impulse_noise(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err);
int sa__defocus_blur(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err);
int sa__glass_blur(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err);
int sa__motion_blur(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err);
int sa__zoom_blur(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err);
int sa__snow(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err);
int sa__frost(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err);
int sa__fog(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err);
int sa__brightness(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err);
int sa__contrast(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err);
int sa__elastic_transform(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err);
int sa__pixelate(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err);
int sa__jpeg_compression(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err);
/* sum[k] = the float64 running sum, pixel after pixel, of v / 255 over the
 * values v of channel k (1 <= ch <= 4 interleaved channels): exactly the
 * doubles of that loop, which is numpy.mean's order for this layout. */
void sa__running_sums(double sum[4], const uint8_t *src, size_t pixels, int ch);
/* Fast-kind samplers on a chosen code path: 0 the portable scalar form, 1
 * GCC generic vectors, 2 AVX2, 3 AVX-512, -1 the best this CPU runs (a path the
 * build lacks falls back to a lower one). Every path gives the same bytes;
 * tests compare them. */
void sa__speckle_fast(uint8_t *dst, const uint8_t *src, size_t n, double c, sa_rng *rng, int path);
void sa__gaussian_fast(uint8_t *dst, const uint8_t *src, size_t n, double sigma, sa_rng *rng,
                       int path);
int sa__speckle_noise(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err);
int sa__gaussian_blur(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err);
int sa__spatter(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err);
int sa__saturate(sa_image *out, const sa_image *in, sa_corrupt_params table, int severity,
        const sa_corrupt_options *opt, sa_rng *rng, sa_error *err);

/* The deterministic part of elastic_transform, on 8-bit h x w x c data:
 * if `offsets` (6 floats: moves of the three affine points, x then y) is
 * non-NULL, OpenCV's warpAffine of the image first; then the uniform fields
 * ux, uy (h x w, overwritten) are Gaussian-filtered (reflect, truncate 3),
 * scaled by alpha to float32 displacements and the image is sampled at
 * (row + dy, column + dx) as scipy's map_coordinates(order=1, 'reflect'). */
int sa__elastic_core(uint8_t *out, const uint8_t *in, int h, int w, int c, const float *offsets,
                     double *ux, double *uy, double alpha, double sigma_y, double sigma_x,
                     sa_error *err);

#endif
