/* bench_decode: images/s of selfadapt's ImageNet input pipeline (JPEG decode,
 * shorter side to 256 with antialiasing, centre crop 224, normalisation,
 * packing to NCHW floats) over an image-folder tree.
 * usage: bench_decode DIR THREADS [BATCH [DUMP]]
 * prints: images_per_s=<v> images=<n> cpu_s=<v>
 * (cpu_s: processor time of all threads over the timed loop). With DUMP,
 * the first batch's floats (N x 3 x 224 x 224, native float32) are written
 * there, for comparing the pixels with another pipeline. */
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <time.h>

#include "data.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_now(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
           (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_decode DIR THREADS [BATCH [DUMP]]\n");
        return 2;
    }
    sa_error e = {0};
    sa_source *s = NULL;
    sa_folder_options fo = sa_folder_options_default();
    if (sa_source_open_folder(&s, argv[1], &fo, &e) < 0) {
        fprintf(stderr, "bench_decode: %s\n", e.msg);
        return 1;
    }
    sa_loader_options o = sa_loader_options_default();
    o.threads = atoi(argv[2]);
    o.batch_size = argc > 3 ? (size_t)atoi(argv[3]) : 32;
    o.shuffle = 0;
    o.prefetch = 0; /* measure the decoding itself */
    const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    for (int k = 0; k < 3; k++) {
        o.mean[k] = mean[k];
        o.std[k] = std[k];
    }
    sa_loader *ld = NULL;
    if (sa_loader_new(&ld, s, &o, &e) < 0) {
        fprintf(stderr, "bench_decode: %s\n", e.msg);
        return 1;
    }
    sa_batch b = {0};
    size_t n = 0;
    double t0 = now(), c0 = cpu_now();
    int rc;
    const char *dump = argc > 4 ? argv[4] : NULL;
    while ((rc = sa_loader_next(ld, &b, &e)) > 0) {
        if (dump && n == 0) {
            FILE *f = fopen(dump, "wb");
            size_t count = (size_t)b.n * (size_t)b.c * (size_t)b.h * (size_t)b.w;
            if (!f || fwrite(b.x, sizeof *b.x, count, f) != count || fclose(f) != 0) {
                fprintf(stderr, "bench_decode: cannot write %s\n", dump);
                return 1;
            }
        }
        n += (size_t)b.n;
    }
    double dt = now() - t0, dc = cpu_now() - c0;
    if (rc < 0) {
        fprintf(stderr, "bench_decode: %s\n", e.msg);
        return 1;
    }
    printf("images_per_s=%.2f images=%zu cpu_s=%.4f\n", (double)n / dt, n, dc);
    sa_batch_free(&b);
    sa_loader_free(ld);
    sa_source_free(s);
    return 0;
}
