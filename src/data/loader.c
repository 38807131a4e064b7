/* Batch loader: order, on-the-fly corruption, packing to NCHW floats. */
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "data.h"

struct sa_loader {
    const sa_source *src;
    sa_loader_options opt;
    size_t *order; /* source indices of this pass */
    size_t count;
    size_t pos;
};

sa_loader_options sa_loader_options_default(void)
{
    sa_loader_options o;
    memset(&o, 0, sizeof o);
    o.batch_size = 128;
    o.shuffle = 1;
    o.params = SA_PARAMS_AUTO;
    o.rng = SA_RNG_FAST;
    o.severity = 1;
    return o;
}

int sa_loader_new(sa_loader **out, const sa_source *src, const sa_loader_options *o, sa_error *err)
{
    if (o->batch_size == 0)
        return sa_error_set(err, SA_EINVAL, "data", "batch size must be >= 1");
    if (o->corrupt && (o->severity < SA_SEVERITY_MIN || o->severity > SA_SEVERITY_MAX))
        return sa_error_set(err, SA_EINVAL, "data", "severity %d outside 1..5", o->severity);
    size_t total = sa_source_count(src);
    if (total == 0)
        return sa_error_set(err, SA_EINVAL, "data", "source %s has no images", sa_source_name(src));
    sa_loader *ld = calloc(1, sizeof *ld);
    size_t *perm = malloc(total * sizeof *perm);
    if (!ld || !perm) {
        free(ld);
        free(perm);
        return sa_error_set(err, SA_ENOMEM, "data", "out of memory");
    }
    for (size_t i = 0; i < total; i++)
        perm[i] = i;
    if (o->shuffle) {
        sa_rng r;
        sa_rng_seed(&r, SA_RNG_FAST, sa_seed_derive(o->seed, sa_hash_str("shuffle"), 0, 0));
        for (size_t i = total - 1; i > 0; i--) {
            size_t j = (size_t)sa_rng_randint(&r, 0, (int64_t)i + 1);
            size_t t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
    }
    ld->src = src;
    ld->opt = *o;
    ld->order = perm;
    ld->count = (o->limit && o->limit < total) ? o->limit : total;
    *out = ld;
    return 0;
}

void sa_loader_free(sa_loader *ld)
{
    if (!ld)
        return;
    free(ld->order);
    free(ld);
}

size_t sa_loader_count(const sa_loader *ld)
{
    return ld->count;
}

size_t sa_loader_batches(const sa_loader *ld)
{
    return (ld->count + ld->opt.batch_size - 1) / ld->opt.batch_size;
}

void sa_loader_rewind(sa_loader *ld)
{
    ld->pos = 0;
}

void sa_batch_free(sa_batch *b)
{
    if (!b)
        return;
    free(b->x);
    free(b->labels);
    free(b->index);
    memset(b, 0, sizeof *b);
}

/* Load, corrupt and pack image `slot` of the batch. */
static int load_one(const sa_loader *ld, sa_batch *b, int slot, size_t src_index, sa_error *err)
{
    sa_image *im = NULL, *tmp = NULL;
    int label;
    int rc = sa_source_get(ld->src, src_index, &im, &label, err);
    if (rc < 0)
        return rc;
    if (ld->opt.corrupt) {
        rc = sa_image_new(&tmp, im->w, im->h, im->c, err);
        if (rc == 0) {
            sa_rng r;
            uint64_t seed = ld->opt.rng == SA_RNG_NUMPY
                                ? ld->opt.seed + src_index
                                : sa_corrupt_seed(ld->opt.seed, src_index, ld->opt.corruption,
                                                  ld->opt.severity);
            sa_rng_seed(&r, ld->opt.rng, seed);
            sa_corrupt_options co = sa_corrupt_options_default();
            co.params = ld->opt.params;
            rc = sa_corrupt(tmp, im, ld->opt.corruption, ld->opt.severity, &co, &r, err);
        }
        sa_image_free(im);
        im = tmp;
        if (rc < 0) {
            sa_image_free(im);
            return rc;
        }
    }
    if ((im->w != b->w || im->h != b->h || im->c != b->c)) {
        sa_image_free(im);
        return sa_error_set(err, SA_EFORMAT, "data", "image %zu is %dx%dx%d, batch is %dx%dx%d",
                            src_index, im->w, im->h, im->c, b->w, b->h, b->c);
    }
    const size_t plane = (size_t)im->w * (size_t)im->h;
    float *dst = b->x + (size_t)slot * plane * (size_t)im->c;
    for (int k = 0; k < im->c; k++)
        for (size_t p = 0; p < plane; p++)
            dst[(size_t)k * plane + p] = im->data[p * (size_t)im->c + (size_t)k] * (1.0f / 255.0f);
    b->labels[slot] = label;
    b->index[slot] = (int64_t)src_index;
    sa_image_free(im);
    return 0;
}

int sa_loader_next(sa_loader *ld, sa_batch *b, sa_error *err)
{
    if (ld->pos >= ld->count)
        return 0;
    size_t n = ld->count - ld->pos;
    if (n > ld->opt.batch_size)
        n = ld->opt.batch_size;
    /* The first image fixes the batch shape and sizes the buffers. */
    sa_image *probe = NULL;
    int label;
    int rc = sa_source_get(ld->src, ld->order[ld->pos], &probe, &label, err);
    if (rc < 0)
        return rc;
    int w = probe->w, h = probe->h, c = probe->c;
    sa_image_free(probe);
    size_t per = (size_t)w * (size_t)h * (size_t)c;
    if (b->cap < n || b->w != w || b->h != h || b->c != c) {
        sa_batch_free(b);
        b->x = malloc(n * per * sizeof *b->x);
        b->labels = malloc(n * sizeof *b->labels);
        b->index = malloc(n * sizeof *b->index);
        if (!b->x || !b->labels || !b->index) {
            sa_batch_free(b);
            return sa_error_set(err, SA_ENOMEM, "data", "out of memory for a batch of %zu", n);
        }
        b->cap = n;
    }
    b->n = (int)n;
    b->w = w;
    b->h = h;
    b->c = c;
    long failed = -1; /* lowest failing slot, so the message is deterministic */
    sa_error first_err = {0};
#ifdef _OPENMP
    int threads = ld->opt.threads > 0 ? ld->opt.threads : omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 4) num_threads(threads)
#endif
    for (long i = 0; i < (long)n; i++) {
        sa_error e = {0};
        if (load_one(ld, b, (int)i, ld->order[ld->pos + (size_t)i], &e) < 0) {
#ifdef _OPENMP
#pragma omp critical(sa_loader_error)
#endif
            {
                if (failed < 0 || i < failed) {
                    failed = i;
                    first_err = e;
                }
            }
        }
    }
    if (failed >= 0) {
        if (err)
            *err = first_err;
        return first_err.code ? first_err.code : SA_EINVAL;
    }
    ld->pos += n;
    return 1;
}
