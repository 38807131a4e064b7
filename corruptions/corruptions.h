/* corruptions.h - ImageNet-C / CIFAR-10-C corruptions as pure kernels.
 *
 *     sa_rng rng;
 *     sa_rng_seed(&rng, SA_RNG_FAST, sa_corrupt_seed(run_seed, image_index, kind, severity));
 *     sa_image *out;
 *     sa_image_new(&out, in->w, in->h, in->c, &err);
 *     if (sa_corrupt(out, in, SA_CORRUPT_GAUSSIAN_NOISE, 5, SA_PARAMS_AUTO, &rng, &err) < 0) ...
 *
 * A kernel reads `in` (8-bit, H x W x C, C = 1 or 3), writes `out` (same
 * dimensions, allocated by the caller; may not alias `in`) and draws every
 * random number from `rng`, in the reference implementation's order (see
 * corruptions/README.md), so that an SA_RNG_NUMPY generator seeded as the
 * reference's np.random reproduces its output. Results are truncated to
 * 8 bits, as the reference's uint8 cast does. Kernels never allocate per
 * pixel, open files or print.
 *
 * Parameter tables: SA_PARAMS_IMAGENET (hendrycks make_imagenet_c.py, 224x224),
 * SA_PARAMS_CIFAR (make_cifar_c.py, 32x32), SA_PARAMS_ANY (imagecorruptions'
 * size-generic rule, ImageNet values scaled with the image size where the
 * reference scales them) and SA_PARAMS_AUTO (CIFAR for images of at most
 * 32x32, ImageNet for 224x224, ANY otherwise).
 */
#ifndef SA_CORRUPTIONS_H
#define SA_CORRUPTIONS_H

#include <stdint.h>

#include "error.h"
#include "image.h"
#include "rng.h"

/* The 15 benchmark corruptions, then the 4 extra ("validation") ones, in the
 * reference order. A build lists only those it implements: see
 * sa_corruption_available. */
typedef enum sa_corruption {
    SA_CORRUPT_GAUSSIAN_NOISE = 0,
    SA_CORRUPT_SHOT_NOISE,
    SA_CORRUPT_IMPULSE_NOISE,
    SA_CORRUPT_DEFOCUS_BLUR,
    SA_CORRUPT_GLASS_BLUR,
    SA_CORRUPT_MOTION_BLUR,
    SA_CORRUPT_ZOOM_BLUR,
    SA_CORRUPT_SNOW,
    SA_CORRUPT_FROST,
    SA_CORRUPT_FOG,
    SA_CORRUPT_BRIGHTNESS,
    SA_CORRUPT_CONTRAST,
    SA_CORRUPT_ELASTIC_TRANSFORM,
    SA_CORRUPT_PIXELATE,
    SA_CORRUPT_JPEG_COMPRESSION,
    SA_CORRUPT_SPECKLE_NOISE,
    SA_CORRUPT_GAUSSIAN_BLUR,
    SA_CORRUPT_SPATTER,
    SA_CORRUPT_SATURATE,
    SA_CORRUPT_COUNT
} sa_corruption;

#define SA_CORRUPT_N_BENCHMARK 15

typedef enum sa_corrupt_params {
    SA_PARAMS_AUTO = 0,
    SA_PARAMS_IMAGENET,
    SA_PARAMS_CIFAR,
    SA_PARAMS_ANY,
} sa_corrupt_params;

#define SA_SEVERITY_MIN 1
#define SA_SEVERITY_MAX 5

/* 1 if this build implements the corruption. */
int sa_corruption_available(sa_corruption kind);
/* Canonical name ("gaussian_noise"); NULL for an out-of-range value. */
const char *sa_corruption_name(sa_corruption kind);
/* Family: "noise", "blur", "weather", "digital" or "extra". */
const char *sa_corruption_family(sa_corruption kind);
/* Look a name up (implemented corruptions only); on failure the error
 * lists every valid name. */
int sa_corruption_from_name(sa_corruption *out, const char *name, sa_error *err);
/* Write the comma-separated list of implemented names into buf. */
void sa_corruption_list(char *buf, size_t n);

int sa_corrupt_params_from_name(sa_corrupt_params *out, const char *name, sa_error *err);
const char *sa_corrupt_params_name(sa_corrupt_params p);
/* The table SA_PARAMS_AUTO resolves to for a w x h image. */
sa_corrupt_params sa_corrupt_params_resolve(sa_corrupt_params p, int w, int h);

/* Options of a corruption call; sa_corrupt_options_default() gives
 * SA_PARAMS_AUTO and the built-in frost textures. */
typedef struct sa_corrupt_options {
    sa_corrupt_params params;        /* parameter table */
    const sa_image *const *frost;    /* frost textures (RGB), borrowed; NULL: built-in ones */
    int n_frost;                     /* number of textures in `frost` (the reference has 6) */
} sa_corrupt_options;

sa_corrupt_options sa_corrupt_options_default(void);

/* Apply one corruption at severity 1..5; `opt` may be NULL (defaults).
 * Errors: unknown or unavailable kind, severity out of range, dimension
 * mismatch, unsupported channel count. */
int sa_corrupt(sa_image *out, const sa_image *in, sa_corruption kind, int severity,
               const sa_corrupt_options *opt, sa_rng *rng, sa_error *err);

/* Per-image seed for the fast generator: a hash of the run seed, the image's
 * stable index, the corruption and the severity. */
uint64_t sa_corrupt_seed(uint64_t run_seed, uint64_t image_index, sa_corruption kind, int severity);

#endif
