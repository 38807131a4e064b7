/* weather.h - weather internals: built-in frost textures, plasma fractal.
 *
 *     sa__frost_builtin t;
 *     sa__frost_builtin_init(&t, 2);          // texture 0..4, 560x315
 *     uint8_t row[3 * 224];
 *     sa__frost_builtin_row(&t, y, x0, 1, 224, row);
 *
 * A texture is a pure function of (index, x, y); sa__frost_builtin is a small
 * plain value (no allocation, nothing to free) holding its octave
 * parameters and normalisation.
 */
#ifndef SA_CORRUPTIONS_WEATHER_H
#define SA_CORRUPTIONS_WEATHER_H

#include <stdint.h>

#include "rng.h"

#define SA__FROST_BUILTIN_N 5

#define SA__FROST_OCTAVES 4

typedef struct sa__frost_builtin {
    int index;
    int w, h;          /* texture size in texels */
    float gain[3];     /* field -> channel value */
    float offset[3];
    /* Octaves: rotation, frequencies along / across the needles, weight
     * and lattice seed; then the seed of the low-frequency term. */
    float ca[SA__FROST_OCTAVES], sa[SA__FROST_OCTAVES];
    float fu[SA__FROST_OCTAVES], fv[SA__FROST_OCTAVES];
    float weight[SA__FROST_OCTAVES];
    uint32_t seed[SA__FROST_OCTAVES];
    uint32_t cloud_seed;
} sa__frost_builtin;

/* Size (W x H) of built-in texture i in [0, SA__FROST_BUILTIN_N). */
void sa__frost_builtin_size(int i, int *w, int *h);
void sa__frost_builtin_init(sa__frost_builtin *t, int i);
/* RGB of texel (x, y); coordinates are not limited to the texture size. */
void sa__frost_builtin_texel(const sa__frost_builtin *t, int x, int y, uint8_t rgb[3]);
/* n texels of row y at columns x0, x0 + step, ...: 3 * n bytes into rgb. */
void sa__frost_builtin_row(const sa__frost_builtin *t, int y, int x0, int step, int n,
                           uint8_t *rgb);

/* Plasma fractal (diamond-square on a size x size torus, size a power of
 * two) with wibble decay `decay`, normalised to [0, 1], into m (size*size
 * doubles, row-major). Draws 3 k*k uniforms per level (k = 1, 2, 4, ...),
 * as the reference. f32: round every stored value to float32 (the
 * size-generic reference stores the map as float32). Returns 0, or
 * SA_ENOMEM when its row scratch cannot be allocated. */
int sa__plasma_fractal(double *m, int size, double decay, int f32, sa_rng *rng);

#endif
