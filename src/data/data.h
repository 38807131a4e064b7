/* data.h - data sources and the batch loader.
 *
 *     sa_source *src = NULL;
 *     sa_source_open_fmnist(&src, "/usr/share/datasets/fashion-mnist", "test", &err);
 *     sa_loader_options o = sa_loader_options_default();
 *     o.batch_size = 128; o.limit = 2000; o.seed = 0;
 *     o.corrupt = 1; o.corruption = SA_CORRUPT_GAUSSIAN_NOISE; o.severity = 5;
 *     sa_loader *ld = NULL;
 *     sa_loader_new(&ld, src, &o, &err);
 *     sa_batch b = {0};
 *     while ((rc = sa_loader_next(ld, &b, &err)) > 0) { ... b.x, b.labels ... }
 *     sa_batch_free(&b); sa_loader_free(ld); sa_source_free(src);
 *
 * A source yields 8-bit images and labels by index. The loader picks the
 * images (the first `limit` of a seeded permutation when shuffling, else
 * the first `limit` in file order), corrupts them on the fly with a
 * per-image generator derived from (seed, image index, corruption,
 * severity) - so a batch's bytes never depend on thread count - and packs
 * them as float N x C x H x W, (x/255 - mean) / std. A background thread
 * keeps `prefetch` batches ready while the caller computes; memory stays
 * bounded by (prefetch + 2) batches whatever the data set size.
 * data/ never sees torch: batches are plain host memory.
 */
#ifndef SA_DATA_H
#define SA_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "corruptions.h"
#include "error.h"
#include "image.h"
#include "rng.h"

typedef struct sa_source sa_source;

/* Fashion-MNIST from IDX files (gzip or plain) in `dir`; split "test"
 * (t10k-*) or "train". Images come out as 32x32 RGB: 28x28 grey padded by
 * 2 black pixels and replicated to 3 channels. */
int sa_source_open_fmnist(sa_source **out, const char *dir, const char *split, sa_error *err);

/* An image-folder tree: `dir`/<class>/<image>, JPEG or PNG files
 * (.jpg/.jpeg/.png, any case), classes and files in sorted order (as
 * torchvision's ImageFolder). Only the file list is held in memory; images
 * are decoded when read, straight to the resize and crop below
 * (sa_image_decode_geometry: the bytes of decoding, resizing and cropping
 * one after another). */
typedef struct sa_folder_options {
    const char *name;            /* data set name for messages, e.g. "imagenet-r" */
    const char *const *classes;  /* expected class folder names in label order, or NULL:
                                    the sorted subdirectories are the classes (borrowed) */
    int n_classes;
    int resize;                  /* resize the shorter side to this (antialiased bilinear,
                                    as PIL); 0: no resize. Default 256 */
    int crop;                    /* centre crop to crop x crop; 0: none. Default 224 */
    int keep_sized;              /* images already crop x crop are used as they are (the
                                    ImageNet-C files); default 1 */
    const char *const *subset;   /* if set: only these "<class>/<file>" entries, each of
                                    which must exist (borrowed) */
    int n_subset;
} sa_folder_options;
sa_folder_options sa_folder_options_default(void);
/* Errors name the path: a missing or empty directory, a class directory
 * without images, a class directory not in `classes`. */
int sa_source_open_folder(sa_source **out, const char *dir, const sa_folder_options *o,
                          sa_error *err);
/* Path of image i of a folder source (NULL for other sources). */
const char *sa_source_path(const sa_source *s, size_t i);
void sa_source_free(sa_source *s);
size_t sa_source_count(const sa_source *s);
int sa_source_num_classes(const sa_source *s);
const char *sa_source_name(const sa_source *s);
/* Image i (caller frees *img) and its label. For a folder source a file
 * that cannot be decoded gives SA_EFORMAT (or SA_EIO) naming its path. */
int sa_source_get(const sa_source *s, size_t i, sa_image **img, int *label, sa_error *err);

typedef struct sa_batch {
    int n, c, h, w;   /* images in this batch and their shape */
    float *x;         /* n*c*h*w floats, NCHW, values in [0, 1] */
    int64_t *labels;  /* n class ids */
    int64_t *index;   /* n source indices */
    size_t cap;       /* images the buffers hold */
} sa_batch;
void sa_batch_free(sa_batch *b); /* frees the buffers, not the struct */

typedef struct sa_loader_options {
    size_t batch_size;            /* images per batch, e.g. 128 */
    size_t limit;                 /* 0: every image of the source */
    int shuffle;                  /* 1: seeded random order (and subset) */
    uint64_t seed;                /* run seed */
    int corrupt;                  /* 1: apply `corruption` at `severity` */
    sa_corruption corruption;
    int severity;                 /* 1..5 */
    sa_corrupt_params params;     /* parameter table, default SA_PARAMS_AUTO */
    sa_rng_kind rng;              /* SA_RNG_FAST (default) or SA_RNG_NUMPY */
    int threads;                  /* OpenMP threads decoding a batch; 0: one when
                                     prefetching (the caller computes on the other
                                     cores), else the OpenMP default */
    float mean[3], std[3];        /* per-channel normalisation of x/255: (v - mean) / std;
                                     default 0 and 1 (models that normalise themselves) */
    int strict;                   /* 1: an unreadable image is an error; 0 (default): it is
                                     skipped and counted */
    int prefetch;                 /* batches prepared ahead by a background thread; 0: none.
                                     Default 2 */
} sa_loader_options;

sa_loader_options sa_loader_options_default(void);

typedef struct sa_loader sa_loader;
/* The loader borrows `src` until it is freed. */
int sa_loader_new(sa_loader **out, const sa_source *src, const sa_loader_options *o, sa_error *err);
void sa_loader_free(sa_loader *ld);
size_t sa_loader_count(const sa_loader *ld);   /* images per pass */
size_t sa_loader_batches(const sa_loader *ld); /* batches per pass */
/* Fill b with the next batch: returns 1, or 0 at the end of the pass. */
int sa_loader_next(sa_loader *ld, sa_batch *b, sa_error *err);
/* Start a new pass over the same images in the same order. */
void sa_loader_rewind(sa_loader *ld);
/* Images skipped as unreadable so far (each pass counts again). */
size_t sa_loader_skipped(const sa_loader *ld);

#endif
