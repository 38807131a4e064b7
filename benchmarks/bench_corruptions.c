/* bench_corruptions - ms per image of every available corruption, severity 3,
 * at 224x224 (ImageNet table) and 32x32 (CIFAR table), on one thread and on
 * all threads (OpenMP across a batch of images), next to the reference
 * Python implementation's time and the speed-up.
 *
 * Reference times: measured in the same run by tools/bench_reference.py
 * when the reference code is importable there (imagecorruptions installed,
 * or $SA_IMAGECORRUPTIONS / $SA_HENDRYCKS pointing at checkouts), on the
 * same images, each corruption just before ours so that a drifting shared
 * machine affects both sides alike; otherwise the recorded medians of
 * benchmarks/baselines/reference_timings.json. At 224x224 the speed-up is
 * over the faster of imagecorruptions and hendrycks' make_imagenet_c.py for
 * each corruption; the summary line gives the median over all of them.
 *
 * usage: bench_corruptions [--baseline FILE] [--tool FILE] [--python EXE]
 *                          [--images DIR] [--only a,b] [--batch224 N] [--batch32 N]
 *                          [--reps N] [--no-reference]
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "corruptions.h"
#include "fs.h"
#include "image.h"
#include "json.h"

#define N_IMAGES 4

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* CPU time of the calling thread: unlike wall time it does not grow when
 * other processes compete for the cores. */
static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int max_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

static void set_threads(int n)
{
#ifdef _OPENMP
    omp_set_num_threads(n);
#else
    (void)n;
#endif
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void die(const sa_error *e)
{
    fprintf(stderr, "bench_corruptions: %s\n", e->msg);
    exit(1);
}

/* A photo-like synthetic image: smooth colour gradients, a few soft discs,
 * fine texture and some sensor-like noise. */
static sa_image *synthetic(int n, unsigned seed)
{
    sa_error e = {0};
    sa_image *im = NULL;
    if (sa_image_new(&im, n, n, 3, &e) < 0)
        die(&e);
    sa_rng r;
    sa_rng_seed(&r, SA_RNG_FAST, seed);
    double cx[5], cy[5], rad[5], col[5][3];
    for (int k = 0; k < 5; k++) {
        cx[k] = sa_rng_double(&r) * n;
        cy[k] = sa_rng_double(&r) * n;
        rad[k] = (0.1 + 0.25 * sa_rng_double(&r)) * n;
        for (int c = 0; c < 3; c++)
            col[k][c] = 255 * sa_rng_double(&r);
    }
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++)
            for (int c = 0; c < 3; c++) {
                double v = 60 + 120.0 * (c == 0 ? x : c == 1 ? y : n - x) / n;
                for (int k = 0; k < 5; k++) {
                    double d = ((x - cx[k]) * (x - cx[k]) + (y - cy[k]) * (y - cy[k])) / (rad[k] * rad[k]);
                    if (d < 1.5)
                        v = v * (d / 1.5) + col[k][c] * (1 - d / 1.5);
                }
                v += 12 * ((x / 3 + y / 5 + seed) % 3) + sa_rng_normal(&r, 0, 4);
                im->data[((size_t)y * n + x) * 3 + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
    return im;
}

/* Up to N_IMAGES images of DIR or of its subdirectories, at ImageNet
 * geometry. */
static int load_dir(sa_image **out, const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *ent;
    char **names = NULL;
    size_t cnt = 0;
    while ((ent = readdir(d)))
        if (ent->d_name[0] != '.') {
            names = realloc(names, (cnt + 1) * sizeof *names);
            names[cnt++] = strdup(ent->d_name);
        }
    closedir(d);
    for (size_t i = 0; i < cnt; i++) {
        for (size_t j = i + 1; j < cnt; j++)
            if (strcmp(names[j], names[i]) < 0) {
                char *t = names[i];
                names[i] = names[j];
                names[j] = t;
            }
    }
    for (size_t i = 0; i < cnt && n < N_IMAGES; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        if (sa_fs_is_dir(p)) {
            if (depth > 0)
                n += load_dir(out + n, p, depth - 1);
            continue;
        }
        sa_error e = {0};
        sa_image *raw = NULL;
        if (sa_image_decode_file(&raw, p, 3, &e) < 0)
            continue;
        if (sa_image_imagenet_geometry(&out[n], raw, &e) == 0)
            n++;
        sa_image_free(raw);
    }
    for (size_t i = 0; i < cnt; i++)
        free(names[i]);
    free(names);
    return n;
}

typedef struct timing {
    double one, all; /* ms per image */
} timing;

/* ms per image over `batch` images (cycling through imgs; more when a pass
 * would take under ~40 ms): CPU time, median of `reps` sequential passes on
 * one thread; wall time, best of `reps` parallel passes on all threads. */
static timing bench(sa_corruption k, sa_image *const *imgs, int batch, int reps, int threads)
{
    timing t = {0, 0};
    sa_corrupt_options opt = sa_corrupt_options_default();
    sa_error e = {0};
    double *v = malloc(sizeof *v * (size_t)reps);
    set_threads(1);
    {
        sa_image *out = NULL;
        if (sa_image_new(&out, imgs[0]->w, imgs[0]->h, 3, &e) < 0)
            die(&e);
        sa_rng r;
        sa_rng_seed(&r, SA_RNG_FAST, 1);
        double w0 = thread_cpu();
        if (sa_corrupt(out, imgs[0], k, 3, &opt, &r, &e) < 0) /* warm-up */
            die(&e);
        /* A pass lasts at least ~40 ms, so that timer resolution and the
         * wake-up of idle threads stay small against it. */
        double est = (thread_cpu() - w0) * 1e3;
        if (est > 0.0 && batch * est < 40.0) {
            double want = 40.0 / est;
            batch = want > 8192.0 ? 8192 : (int)want;
            batch += (threads - batch % threads) % threads;
        }
        /* one untimed pass: the caches and the clock settle after whatever
         * ran before (the reference, just now) */
        for (int i = 0; i < batch; i++) {
            sa_rng_seed(&r, SA_RNG_FAST, sa_corrupt_seed(0, (uint64_t)i, k, 3));
            if (sa_corrupt(out, imgs[i % N_IMAGES], k, 3, &opt, &r, &e) < 0)
                die(&e);
        }
        for (int rep = 0; rep < reps; rep++) {
            double t0 = thread_cpu();
            for (int i = 0; i < batch; i++) {
                sa_rng_seed(&r, SA_RNG_FAST, sa_corrupt_seed(0, (uint64_t)i, k, 3));
                if (sa_corrupt(out, imgs[i % N_IMAGES], k, 3, &opt, &r, &e) < 0)
                    die(&e);
            }
            v[rep] = (thread_cpu() - t0) * 1e3 / batch;
        }
        sa_image_free(out);
        qsort(v, (size_t)reps, sizeof *v, cmp_double);
        t.one = v[reps / 2];
    }
    set_threads(threads);
    double best = 1e30;
    for (int rep = 0; rep < reps; rep++) {
        int failed = 0;
        double t0 = now();
#pragma omp parallel
        {
            sa_image *out = NULL;
            sa_error te = {0};
            if (sa_image_new(&out, imgs[0]->w, imgs[0]->h, 3, &te) < 0) {
#pragma omp atomic write
                failed = 1;
            }
#pragma omp for schedule(dynamic, 1)
            for (int i = 0; i < batch; i++) {
                if (!out)
                    continue;
                sa_rng r;
                sa_rng_seed(&r, SA_RNG_FAST, sa_corrupt_seed(0, (uint64_t)i, k, 3));
                if (sa_corrupt(out, imgs[i % N_IMAGES], k, 3, &opt, &r, &te) < 0) {
#pragma omp atomic write
                    failed = 1;
                }
            }
            sa_image_free(out);
        }
        if (failed) {
            fprintf(stderr, "bench_corruptions: %s failed in the parallel pass\n",
                    sa_corruption_name(k));
            exit(1);
        }
        double ms = (now() - t0) * 1e3 / batch;
        if (ms < best)
            best = ms;
    }
    t.all = best;
    free(v);
    return t;
}

/* Reference ms for `name` in table `key` of a timings document, or 0. */
static double ref_ms(const sa_json *doc, const char *key, const char *name)
{
    double v = 0;
    const sa_json *t = sa_json_get(sa_json_get(doc, "tables"), key);
    if (sa_json_num(sa_json_get(t, name), &v) < 0)
        return 0;
    return v;
}

static sa_json *load_json(const char *path)
{
    char *text = NULL;
    size_t n = 0;
    sa_error e = {0};
    sa_json *doc = NULL;
    if (sa_fs_read_all(path, &text, &n, &e) < 0)
        return NULL;
    if (sa_json_parse(&doc, text, n, path, &e) < 0)
        doc = NULL;
    free(text);
    return doc;
}

static void write_png(const char *dir, const char *name, const sa_image *im)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    void *buf = NULL;
    size_t n = 0;
    sa_error e = {0};
    if (sa_image_encode_png(&buf, &n, im, &e) < 0 || sa_fs_write_atomic(p, buf, n, &e) < 0)
        die(&e);
    free(buf);
}

static void fmt_ms(char *buf, size_t n, double v)
{
    if (v <= 0)
        snprintf(buf, n, "-");
    else if (v < 1)
        snprintf(buf, n, "%.3f", v);
    else if (v < 100)
        snprintf(buf, n, "%.2f", v);
    else
        snprintf(buf, n, "%.0f", v);
}

static void fmt_ratio(char *buf, size_t n, double ref, double ours)
{
    if (ref <= 0 || ours <= 0)
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, "%.1fx", ref / ours);
}

int main(int argc, char **argv)
{
    const char *baseline = NULL, *tool = NULL, *python = "python3", *images = NULL, *only = NULL;
    int batch224 = 0, batch32 = 0, reps = 3, measure_ref = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--no-reference") == 0) {
            measure_ref = 0;
            continue;
        }
        if (!v) {
            fprintf(stderr, "usage: see the comment at the top of bench_corruptions.c\n");
            return 2;
        }
        i++;
        if (strcmp(a, "--baseline") == 0)
            baseline = v;
        else if (strcmp(a, "--tool") == 0)
            tool = v;
        else if (strcmp(a, "--python") == 0)
            python = v;
        else if (strcmp(a, "--images") == 0)
            images = v;
        else if (strcmp(a, "--only") == 0)
            only = v;
        else if (strcmp(a, "--batch224") == 0)
            batch224 = atoi(v);
        else if (strcmp(a, "--batch32") == 0)
            batch32 = atoi(v);
        else if (strcmp(a, "--reps") == 0)
            reps = atoi(v) > 0 ? atoi(v) : 1;
        else {
            fprintf(stderr, "bench_corruptions: unknown option %s\n", a);
            return 2;
        }
    }
    const int threads = max_threads();
    if (batch224 <= 0)
        batch224 = 8 * threads;
    if (batch32 <= 0)
        batch32 = 128 * threads;

    sa_image *big[N_IMAGES] = {NULL}, *small[N_IMAGES] = {NULL};
    int loaded = images ? load_dir(big, images, 1) : 0;
    for (int i = loaded; i < N_IMAGES; i++)
        big[i] = loaded ? NULL : synthetic(224, 100 + (unsigned)i);
    for (int i = loaded; i < N_IMAGES && loaded; i++) /* cycle the loaded ones */
        sa_image_clone(&big[i], big[i % loaded], &(sa_error){0});
    sa_error e = {0};
    for (int i = 0; i < N_IMAGES; i++)
        if (sa_image_resample(&small[i], big[i], 32, 32, SA_RESAMPLE_BOX, &e) < 0)
            die(&e);

    /* Reference timings on the same images, when the reference is there:
     * measured corruption by corruption just before ours, so that both
     * sides of a ratio see the machine in the same state. */
    char dir[] = "/tmp/sa_bench_XXXXXX";
    int live = measure_ref && tool && mkdtemp(dir);
    if (live)
        for (int i = 0; i < N_IMAGES; i++) {
            char name[64];
            snprintf(name, sizeof name, "img%d_224.png", i);
            write_png(dir, name, big[i]);
            snprintf(name, sizeof name, "img%d_32.png", i);
            write_png(dir, name, small[i]);
        }
    sa_json *recorded = baseline ? load_json(baseline) : NULL;
    char ref_source[512] = "";
    /* at 224x224 each corruption is compared with the faster of the two
     * references (imagecorruptions, hendrycks' make_imagenet_c.py) */
    const char *key224 = "faster of imagecorruptions_224 (i) and hendrycks_224 (h)";
    const char *key32 = "hendrycks_cifar_32 (c), else imagecorruptions_32 (i)";

    printf("selfadapt corruption benchmark: severity 3, ms per image; %d thread(s) for 'all'\n",
           threads);
    printf("images: %s; passes of at least %d images at 224x224 (ImageNet table), %d at 32x32 (CIFAR table), more for fast corruptions\n"
           "1thr: CPU time of one thread, median of %d passes; all: wall time per image on all "
           "threads, best of %d passes; reference: process CPU time\n",
           loaded ? images : "4 synthetic photo-like images", batch224, batch32, reps, reps);
    double load[1] = {0};
    if (getloadavg(load, 1) == 1)
        printf("load average at start: %.2f on %ld online CPUs (a busy machine makes the "
               "'all' columns meaningless)\n",
               load[0], sysconf(_SC_NPROCESSORS_ONLN));
    printf("ref224 = %s, ref32 = %s; speed-up = reference / ours\n\n", key224, key32);
    printf("%-18s | %8s %8s %8s %8s %8s | %8s %8s %8s %8s %8s\n", "corruption", "224 1thr",
           "224 all", "ref224", "x 1thr", "x all", "32 1thr", "32 all", "ref32", "x 1thr", "x all");
    printf("%.*s\n", 18 + 3 + 44 + 3 + 44, "--------------------------------------------------------"
                                            "--------------------------------------------------------");
    double sum1_224 = 0, sumref_224 = 0, sum1_32 = 0, sumref_32 = 0;
    int n_live = 0, n_recorded = 0; /* corruptions with a reference timed here / recorded */
    double speedup[SA_CORRUPT_COUNT];
    int n_speedup = 0;
    char slow[1024] = "";
    int n_bench = 0, n_bench_ref224 = 0, n_bench_ref32 = 0;
    for (int k = 0; k < SA_CORRUPT_COUNT; k++) {
        if (!sa_corruption_available((sa_corruption)k))
            continue;
        const char *name = sa_corruption_name((sa_corruption)k);
        if (only) {
            char pat[64];
            snprintf(pat, sizeof pat, ",%s,", name);
            char list[1024];
            snprintf(list, sizeof list, ",%s,", only);
            if (!strstr(list, pat))
                continue;
        }
        sa_json *live_ref = NULL;
        if (live) {
            char cmd[8192], out[4200];
            snprintf(out, sizeof out, "%s/reference.json", dir);
            snprintf(cmd, sizeof cmd,
                     "'%s' '%s' --images '%s' --out '%s' --severity 3 --reps %d --only %s",
                     python, tool, dir, out, reps, name);
            if (system(cmd) == 0)
                live_ref = load_json(out);
            unlink(out);
            if (!live_ref) {
                fprintf(stderr, "bench_corruptions: the reference could not be timed (%s); "
                                "using the recorded times\n", cmd);
                live = 0;
            } else if (!ref_source[0] && sa_json_str(sa_json_get(live_ref, "source"))) {
                snprintf(ref_source, sizeof ref_source, "%s",
                         sa_json_str(sa_json_get(live_ref, "source")));
            }
        }
        const sa_json *ref_doc = live_ref ? live_ref : recorded;
        n_live += live_ref != NULL;
        n_recorded += !live_ref && recorded;
        timing a = bench((sa_corruption)k, big, batch224, reps, threads);
        timing b = bench((sa_corruption)k, small, batch32, reps, threads);
        const double ri = ref_doc ? ref_ms(ref_doc, "imagecorruptions_224", name) : 0;
        const double rh = ref_doc ? ref_ms(ref_doc, "hendrycks_224", name) : 0;
        const double r224 = ri > 0 && (rh <= 0 || ri <= rh) ? ri : rh;
        const double rc = ref_doc ? ref_ms(ref_doc, "hendrycks_cifar_32", name) : 0;
        const double r32 = rc > 0 ? rc : ref_doc ? ref_ms(ref_doc, "imagecorruptions_32", name) : 0;
        char c[10][32];
        fmt_ms(c[0], 32, a.one);
        fmt_ms(c[1], 32, a.all);
        fmt_ms(c[2], 31, r224);
        if (r224 > 0)
            strcat(c[2], r224 == ri ? "i" : "h");
        fmt_ratio(c[3], 32, r224, a.one);
        fmt_ratio(c[4], 32, r224, a.all);
        fmt_ms(c[5], 32, b.one);
        fmt_ms(c[6], 32, b.all);
        fmt_ms(c[7], 31, r32);
        if (r32 > 0)
            strcat(c[7], rc > 0 ? "c" : "i");
        fmt_ratio(c[8], 32, r32, b.one);
        fmt_ratio(c[9], 32, r32, b.all);
        printf("%-18s | %8s %8s %8s %8s %8s | %8s %8s %8s %8s %8s\n", name, c[0], c[1], c[2], c[3],
               c[4], c[5], c[6], c[7], c[8], c[9]);
        fflush(stdout);
        sa_json_free(live_ref);
        if (r224 > 0 && a.one > 0)
            speedup[n_speedup++] = r224 / a.one;
        if (r224 > 0 && a.one > 0 && r224 / a.one < (k == SA_CORRUPT_JPEG_COMPRESSION ? 1.0 : 5.0))
            snprintf(slow + strlen(slow), sizeof slow - strlen(slow), "%s%s (%.1fx)",
                     slow[0] ? ", " : "", name, r224 / a.one);
        if (k < SA_CORRUPT_N_BENCHMARK) {
            n_bench++;
            sum1_224 += a.one;
            sum1_32 += b.one;
            if (r224 > 0) {
                sumref_224 += r224;
                n_bench_ref224++;
            }
            if (r32 > 0) {
                sumref_32 += r32;
                n_bench_ref32++;
            }
        }
    }
    if (n_speedup > 0) {
        qsort(speedup, (size_t)n_speedup, sizeof *speedup, cmp_double);
        const double med = n_speedup % 2 ? speedup[n_speedup / 2]
                                          : 0.5 * (speedup[n_speedup / 2 - 1] + speedup[n_speedup / 2]);
        printf("\nSingle-thread speed-up at 224x224 over the %d corruption(s) with a reference: "
               "median %.1fx (target >= 20x); below 5x (jpeg_compression: below 1x): %s\n",
               n_speedup, med, slow[0] ? slow : "none");
    }
    if (n_bench > 0) {
        /* ImageNet-C: 50 000 validation images x 15 corruptions x 5
         * severities; severity 3 stands in for all five. */
        const double cells = 5.0;
        double ms_per_image_cell = sum1_224 / n_bench;
        double hours = 50000.0 * 15 * cells * ms_per_image_cell / 3.6e6;
        double hours_c10 = 10000.0 * 15 * cells * (sum1_32 / n_bench) / 3.6e6;
        printf("\nImageNet-C estimate (50,000 images x 75 cells, 1 thread, severity 3 for all): "
               "%.2f CPU-hours from the %d benchmark corruption(s) available (mean %.2f ms per "
               "image and corruption)",
               hours, n_bench, ms_per_image_cell);
        if (n_bench_ref224 > 0)
            printf("; reference %s: %.1f CPU-hours", key224,
                   50000.0 * 15 * cells * (sumref_224 / n_bench_ref224) / 3.6e6);
        printf("\nCIFAR-10-C estimate (10,000 images x 75 cells at 32x32): %.3f CPU-hours", hours_c10);
        if (n_bench_ref32 > 0)
            printf("; reference %s: %.2f CPU-hours", key32,
                   10000.0 * 15 * cells * (sumref_32 / n_bench_ref32) / 3.6e6);
        printf("\n");
    }
    if (n_live)
        printf("reference: measured in this run for %d corruption(s), each just before ours "
               "(--reps %d): %s\n",
               n_live, reps, ref_source[0] ? ref_source : "source not named");
    if (n_recorded)
        printf("reference: recorded wall-time medians (%s; another machine, +-30 %%) for %d "
               "corruption(s)\n",
               baseline, n_recorded);
    if (!n_live && !n_recorded)
        printf("reference: none (give --tool with the reference code importable, or "
               "--baseline)\n");
    sa_json_free(recorded);
    if (measure_ref && tool && strcmp(dir, "/tmp/sa_bench_XXXXXX") != 0) {
        for (int i = 0; i < N_IMAGES; i++) {
            char p[4200];
            snprintf(p, sizeof p, "%s/img%d_224.png", dir, i);
            unlink(p);
            snprintf(p, sizeof p, "%s/img%d_32.png", dir, i);
            unlink(p);
        }
        rmdir(dir);
    }
    for (int i = 0; i < N_IMAGES; i++) {
        sa_image_free(big[i]);
        sa_image_free(small[i]);
    }
    return 0;
}
