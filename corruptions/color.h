/* color.h - the per-pixel HSV edit of brightness and saturate (internal). */
#ifndef SA_CORRUPTIONS_COLOR_H
#define SA_CORRUPTIONS_COLOR_H

#include <stddef.h>
#include <stdint.h>

/* Tables indexed [table == SA_PARAMS_CIFAR][severity - 1]: brightness adds
 * c to V; saturate sets S to S * a + b ({a, b}). */
extern const double sa__brightness_c[2][5];
extern const double sa__saturate_ab[2][5][2];

/* The ways sa__hsv_edit_rgb can go; all give the same bytes. */
typedef enum sa__hsv_path {
    SA__HSV_BEST = -1,  /* the most lanes this CPU runs */
    SA__HSV_SCALAR = 0, /* one pixel at a time: the portable form */
    SA__HSV_LANES2 = 2, /* two pixels at a time (vectors of 16 bytes) */
    SA__HSV_LANES4 = 4, /* four (AVX2) */
    SA__HSV_LANES8 = 8, /* eight (AVX-512) */
} sa__hsv_path;

/* n interleaved RGB pixels from src to dst (3n bytes each, may not overlap):
 * rgb2hsv, then V = clip(V + a, 0, 1) (saturate 0) or
 * S = clip(S * a + b, 0, 1) (saturate 1), then hsv2rgb and truncation to
 * 8 bits, along `path`. A path the build or the CPU lacks falls back to the
 * scalar one; the path taken is returned. */
sa__hsv_path sa__hsv_edit_rgb(uint8_t *dst, const uint8_t *src, size_t n, int saturate,
        double a, double b, sa__hsv_path path);

#endif
