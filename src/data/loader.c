/* Batch loader: order, decoding, on-the-fly corruption, packing to NCHW
 * floats, and a background thread that prepares batches ahead. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "data.h"

#define MAX_PREFETCH 8

/* A batch being prepared or waiting to be handed out. */
typedef struct ring_slot {
    sa_batch b;
    int rc;          /* 1 batch, 0 end of pass, < 0 error */
    sa_error err;
} ring_slot;

struct sa_loader {
    const sa_source *src;
    sa_loader_options opt;
    size_t *order; /* source indices of this pass */
    size_t count;
    size_t pos;    /* next image to load (producer side) */
    atomic_size_t skipped; /* written by the producer, read by the caller */
    /* prefetching */
    int depth;                 /* 0: synchronous */
    pthread_t thread;
    int running;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    ring_slot ring[MAX_PREFETCH + 1];
    int head, tail, filled;    /* ring of depth + 1 slots */
    int stop;
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
    for (int k = 0; k < 3; k++) {
        o.mean[k] = 0.0f;
        o.std[k] = 1.0f;
    }
    o.prefetch = 2;
    return o;
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

static void batch_swap(sa_batch *a, sa_batch *b)
{
    sa_batch t = *a;
    *a = *b;
    *b = t;
}

/* Decode and corrupt image `src_index`; the caller frees *out. */
static int load_image(const sa_loader *ld, size_t src_index, sa_image **out, int *label,
                      sa_error *err)
{
    sa_image *im = NULL, *tmp = NULL;
    int rc = sa_source_get(ld->src, src_index, &im, label, err);
    if (rc < 0 || !ld->opt.corrupt) {
        *out = im;
        return rc;
    }
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
    if (rc < 0) {
        sa_image_free(tmp);
        return rc;
    }
    *out = tmp;
    return 0;
}

/* Pack an 8-bit HWC image into NCHW floats, (v/255 - mean) / std. */
static void pack(const sa_loader *ld, float *dst, const sa_image *im)
{
    sa_image_to_chw(dst, im, ld->opt.mean, ld->opt.std);
}

/* Errors that mean "this image is unreadable", as opposed to a failure of
 * the machine or of the configuration. */
static int is_bad_image(int rc)
{
    return rc == SA_EFORMAT || rc == SA_EIO;
}

/* Per image of a batch being produced. */
typedef struct item {
    sa_image *im; /* decoded, not packed yet (NULL: packed, or unreadable) */
    int w, h, c;  /* its shape; w == 0: unreadable */
    int packed;   /* already packed at the batch's position i */
    int label;
} item;

/* Produce the next batch into b (producer side). Returns 1, 0 at the end of
 * the pass, or an error. Each image is decoded once. When the batch
 * buffers already have room for the batch and an image has their shape
 * (the previous batch's), it is packed as soon as it is decoded, at its
 * position in the batch, while its bytes are still in cache; the others
 * are kept. Then the first readable image fixes the batch shape, the kept
 * images are packed, and the readable images are moved together so that
 * unreadable ones leave no gap. The bytes do not depend on which images
 * took which route, nor on the thread count. */
static int produce(sa_loader *ld, sa_batch *b, sa_error *err)
{
    for (;;) {
        if (ld->pos >= ld->count)
            return 0;
        size_t n = ld->count - ld->pos;
        if (n > ld->opt.batch_size)
            n = ld->opt.batch_size;
        item *it = calloc(n, sizeof *it);
        if (!it)
            return sa_error_set(err, SA_ENOMEM, "data", "out of memory for a batch of %zu", n);
        /* Pack on the fly only into buffers that already hold n images. */
        const int gw = b->x && b->cap >= n ? b->w : 0, gh = b->h, gc = b->c;
        const size_t gper = (size_t)gw * (size_t)gh * (size_t)gc;
        long failed = -1; /* lowest failing slot, so the message is deterministic */
        sa_error first_err = {0};
#ifdef _OPENMP
        /* Prefetching runs beside the caller's own parallel work (libtorch
         * uses OpenMP too): two teams busy-waiting on the same cores would
         * slow both, so the background thread decodes alone by default. */
        int threads = ld->opt.threads > 0 ? ld->opt.threads
                                          : (ld->depth > 0 ? 1 : omp_get_max_threads());
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
#endif
        for (long i = 0; i < (long)n; i++) {
            sa_error e = {0};
            sa_image *im = NULL;
            int rc = load_image(ld, ld->order[ld->pos + (size_t)i], &im, &it[i].label, &e);
            if (rc < 0 && (!is_bad_image(rc) || ld->opt.strict)) {
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
            if (!im)
                continue;
            it[i].w = im->w;
            it[i].h = im->h;
            it[i].c = im->c;
            if (gw > 0 && im->w == gw && im->h == gh && im->c == gc) {
                pack(ld, b->x + (size_t)i * gper, im);
                it[i].packed = 1;
                sa_image_free(im);
            } else {
                it[i].im = im;
            }
        }
        const item *first = NULL;
        for (size_t i = 0; i < n && !first && failed < 0; i++)
            if (it[i].w > 0)
                first = &it[i];
        int rc = 0;
        if (failed >= 0) {
            if (err)
                *err = first_err;
            rc = first_err.code ? first_err.code : SA_EINVAL;
        } else if (first) {
            const int w = first->w, h = first->h, c = first->c;
            const size_t per = (size_t)w * (size_t)h * (size_t)c;
            /* Every readable image must have the batch shape. */
            for (size_t i = 0; i < n && rc == 0; i++) {
                if (it[i].w == 0)
                    atomic_fetch_add(&ld->skipped, 1);
                else if (it[i].w != w || it[i].h != h || it[i].c != c)
                    rc = sa_error_set(err, SA_EFORMAT, "data",
                                      "image %zu is %dx%dx%d, batch is %dx%dx%d",
                                      ld->order[ld->pos + i], it[i].w, it[i].h, it[i].c, w, h, c);
            }
            /* The shape is the one packed on the fly, or nothing was. */
            if (rc == 0 && (b->cap < n || b->w != w || b->h != h || b->c != c)) {
                sa_batch_free(b);
                b->x = malloc(n * per * sizeof *b->x);
                b->labels = malloc(n * sizeof *b->labels);
                b->index = malloc(n * sizeof *b->index);
                if (!b->x || !b->labels || !b->index) {
                    sa_batch_free(b);
                    rc = sa_error_set(err, SA_ENOMEM, "data", "out of memory for a batch of %zu",
                                      n);
                } else {
                    b->cap = n;
                    b->w = w;
                    b->h = h;
                    b->c = c;
                }
            }
            long kept = 0;
            for (size_t i = 0; i < n; i++)
                kept += it[i].im != NULL;
            if (rc == 0 && kept > 0) {
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(kept > 1 ? threads : 1)
#endif
                for (long i = 0; i < (long)n; i++)
                    if (it[i].im)
                        pack(ld, b->x + (size_t)i * per, it[i].im);
            }
            if (rc == 0) {
                /* Readable images to the front, in order. */
                size_t m = 0;
                for (size_t i = 0; i < n; i++) {
                    if (it[i].w == 0)
                        continue;
                    if (m != i)
                        memmove(b->x + m * per, b->x + i * per, per * sizeof *b->x);
                    b->labels[m] = it[i].label;
                    b->index[m] = (int64_t)ld->order[ld->pos + i];
                    m++;
                }
                b->n = (int)m;
            }
        } else {
            atomic_fetch_add(&ld->skipped, n); /* every image of this batch is unreadable */
        }
        for (size_t i = 0; i < n; i++)
            sa_image_free(it[i].im);
        free(it);
        if (rc < 0)
            return rc;
        ld->pos += n;
        if (first)
            return 1;
    }
}

static void *producer(void *arg)
{
    sa_loader *ld = arg;
    for (;;) {
        pthread_mutex_lock(&ld->mu);
        while (!ld->stop && ld->filled == ld->depth + 1)
            pthread_cond_wait(&ld->cv, &ld->mu);
        if (ld->stop) {
            pthread_mutex_unlock(&ld->mu);
            return NULL;
        }
        ring_slot *s = &ld->ring[ld->tail];
        pthread_mutex_unlock(&ld->mu);
        memset(&s->err, 0, sizeof s->err);
        s->rc = produce(ld, &s->b, &s->err);
        pthread_mutex_lock(&ld->mu);
        ld->tail = (ld->tail + 1) % (ld->depth + 1);
        ld->filled++;
        int finished = s->rc <= 0;
        pthread_cond_broadcast(&ld->cv);
        pthread_mutex_unlock(&ld->mu);
        if (finished)
            return NULL;
    }
}

static void stop_thread(sa_loader *ld)
{
    if (!ld->running)
        return;
    pthread_mutex_lock(&ld->mu);
    ld->stop = 1;
    pthread_cond_broadcast(&ld->cv);
    pthread_mutex_unlock(&ld->mu);
    pthread_join(ld->thread, NULL);
    ld->running = 0;
}

static int start_thread(sa_loader *ld, sa_error *err)
{
    ld->head = ld->tail = ld->filled = 0;
    ld->stop = 0;
    if (pthread_create(&ld->thread, NULL, producer, ld) != 0)
        return sa_error_set(err, SA_ENOMEM, "data", "cannot start the loader thread");
    ld->running = 1;
    return 0;
}

int sa_loader_new(sa_loader **out, const sa_source *src, const sa_loader_options *o, sa_error *err)
{
    if (o->batch_size == 0)
        return sa_error_set(err, SA_EINVAL, "data", "batch size must be >= 1");
    if (o->corrupt && (o->severity < SA_SEVERITY_MIN || o->severity > SA_SEVERITY_MAX))
        return sa_error_set(err, SA_EINVAL, "data", "severity %d outside 1..5", o->severity);
    for (int k = 0; k < 3; k++)
        if (!(o->std[k] > 0.0f))
            return sa_error_set(err, SA_EINVAL, "data", "normalisation std[%d] must be > 0", k);
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
    ld->depth = o->prefetch < 0 ? 0 : (o->prefetch > MAX_PREFETCH ? MAX_PREFETCH : o->prefetch);
    if (ld->depth > 0) {
        pthread_mutex_init(&ld->mu, NULL);
        pthread_cond_init(&ld->cv, NULL);
        int rc = start_thread(ld, err);
        if (rc < 0) {
            pthread_mutex_destroy(&ld->mu);
            pthread_cond_destroy(&ld->cv);
            free(perm);
            free(ld);
            return rc;
        }
    }
    *out = ld;
    return 0;
}

void sa_loader_free(sa_loader *ld)
{
    if (!ld)
        return;
    if (ld->depth > 0) {
        stop_thread(ld);
        pthread_mutex_destroy(&ld->mu);
        pthread_cond_destroy(&ld->cv);
        for (int i = 0; i <= ld->depth; i++)
            sa_batch_free(&ld->ring[i].b);
    }
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

size_t sa_loader_skipped(const sa_loader *ld)
{
    return atomic_load(&ld->skipped);
}

void sa_loader_rewind(sa_loader *ld)
{
    if (ld->depth > 0) {
        stop_thread(ld);
        ld->pos = 0;
        start_thread(ld, NULL); /* a failure shows as an error on the next call */
    } else {
        ld->pos = 0;
    }
}

int sa_loader_next(sa_loader *ld, sa_batch *b, sa_error *err)
{
    if (ld->depth == 0)
        return produce(ld, b, err);
    if (!ld->running && ld->filled == 0)
        return sa_error_set(err, SA_ENOMEM, "data", "the loader thread is not running");
    pthread_mutex_lock(&ld->mu);
    while (ld->filled == 0)
        pthread_cond_wait(&ld->cv, &ld->mu);
    ring_slot *s = &ld->ring[ld->head];
    int rc = s->rc;
    if (rc > 0) {
        /* Hand the prepared buffers to the caller; the caller's previous
         * buffers go back into the ring for reuse. */
        batch_swap(&s->b, b);
        ld->head = (ld->head + 1) % (ld->depth + 1);
        ld->filled--;
        pthread_cond_broadcast(&ld->cv);
    } else if (rc < 0 && err) {
        *err = s->err; /* the slot stays: every later call reports the same */
    }
    pthread_mutex_unlock(&ld->mu);
    return rc;
}
