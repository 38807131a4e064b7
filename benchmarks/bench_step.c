/* bench_step: images/s of a forward pass and of one adaptation step (rpl on
 * the normalisation affine parameters) through selfadapt's engine, and the
 * process's peak memory. One measurement per process, so the peak is its own;
 * benchmarks/bench_step.py runs it beside the same loop in Python PyTorch.
 *
 * usage: bench_step MODEL.pt forward|step BATCH SIZE ITERS [THREADS]
 * prints: one line "images_per_s=<v> cpu_ms_per_image=<v> peak_rss_mib=<v>"; the CPU
 * time (user + system, all threads) of the timed iterations stays comparable
 * on a machine that other work keeps busy, where wall-clock rates do not. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "adapt.h"
#include "torch.h"

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
           (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: bench_step MODEL.pt forward|step BATCH SIZE ITERS [THREADS]\n");
        return 2;
    }
    const char *path = argv[1];
    int step = strcmp(argv[2], "step") == 0;
    int n = atoi(argv[3]), size = atoi(argv[4]), iters = atoi(argv[5]);
    int threads = argc > 6 ? atoi(argv[6]) : 0;
    if (n < 1 || size < 8 || iters < 1)
        return 2;
    if (threads > 0)
        sa_torch_set_threads(threads);
    sa_error e = {0};
    if (sa_torch_reuse_memory(&e) < 0) {
        fprintf(stderr, "bench_step: %s\n", e.msg);
        return 1;
    }
    sa_model *m = NULL;
    if (sa_model_load(&m, path, SA_DEVICE_CPU, &e) < 0) {
        fprintf(stderr, "bench_step: %s\n", e.msg);
        return 1;
    }
    size_t count = (size_t)n * 3 * (size_t)size * (size_t)size;
    float *x = malloc(count * sizeof *x);
    uint32_t s = 1;
    for (size_t i = 0; i < count; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = (float)(s >> 8) / 16777216.0f;
    }
    int64_t shape[4] = {n, 3, size, size};
    sa_tensor *t = NULL;
    if (sa_tensor_from_f32(&t, x, shape, 4, SA_DEVICE_CPU, &e) < 0) {
        fprintf(stderr, "bench_step: %s\n", e.msg);
        return 1;
    }
    sa_method_options o = sa_method_options_default(step ? "rpl" : "source");
    sa_method *meth = NULL;
    if (sa_method_new(&meth, &o, m, &e) < 0) {
        fprintf(stderr, "bench_step: %s\n", e.msg);
        return 1;
    }
    int64_t *pred = malloc((size_t)n * sizeof *pred);
    double t0 = 0, c0 = 0;
    for (int i = 0; i < iters + 2; i++) {
        if (i == 2) { /* two warm-up iterations (graph profiling, allocator) */
            t0 = now();
            c0 = cpu_seconds();
        }
        if (sa_method_step(meth, t, pred, (size_t)n, NULL, &e) < 0) {
            fprintf(stderr, "bench_step: %s\n", e.msg);
            return 1;
        }
    }
    double dt = now() - t0;
    double cpu = cpu_seconds() - c0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("images_per_s=%.3f cpu_ms_per_image=%.3f peak_rss_mib=%.1f\n", (double)n * iters / dt,
           1e3 * cpu / ((double)n * iters), ru.ru_maxrss / 1024.0);
    free(pred);
    free(x);
    sa_method_free(meth);
    sa_tensor_free(t);
    sa_model_free(m);
    return 0;
}
