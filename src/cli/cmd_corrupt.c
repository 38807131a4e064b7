/* selfadapt corrupt: build an ImageNet-C style tree from an image folder.
 *
 * <out>/<corruption>/<severity>/<class>/<stem>.JPEG (or .png), one output
 * per (image, corruption, severity). Images are processed in parallel; each
 * one draws from its own generator, so the bytes written never depend on
 * the thread count. Existing outputs are skipped (resume); every file is
 * written to a temporary name and renamed. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "cli.h"
#include "corruptions.h"
#include "fs.h"
#include "image.h"

static volatile sig_atomic_t corrupt_interrupted = 0;

static void corrupt_on_signal(int sig)
{
    (void)sig;
    corrupt_interrupted = 1;
}

typedef struct item {
    char *cls;  /* class directory name */
    char *path; /* full input path */
    char *stem; /* file name without extension */
} item;

typedef struct list {
    item *v;
    size_t n, cap;
} list;

typedef struct ctx {
    const char *out_dir;
    int ncorr;
    sa_corruption corr[SA_CORRUPT_COUNT];
    int nsev;
    int sev[5];
    uint64_t seed;
    sa_rng_kind rng_kind;
    int imagenet_size; /* 1: shorter side 256 + center crop 224 */
    int png;
    int strict;
    int tty;
    sa_corrupt_options opt;
    /* counters, updated under the progress critical section */
    size_t written, skipped, failed, done, total;
    double t0, last_print;
    int stop;
} ctx;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: selfadapt corrupt --input DIR --output DIR [options]\n"
            "\n"
            "Reads an image folder (class subdirectories of .JPEG/.jpg/.jpeg/.png files) and\n"
            "writes OUTPUT/<corruption>/<severity>/<class>/<name>.JPEG (or .png).\n"
            "\n"
            "  --corruptions LIST   comma-separated names, or all | benchmark | extra (default: all)\n"
            "  --severities S       1-5 (default), a range such as 2-4, or a list such as 1,3,5\n"
            "  --seed N             run seed (default 0)\n"
            "  --rng fast|numpy     fast: per-image hashed seeds (default); numpy: image i\n"
            "                       (0-based, sorted order) replays np.random.seed(seed + i)\n"
            "  --threads N          worker threads (default: all cores)\n"
            "  --size imagenet|keep imagenet: shorter side 256 (bilinear), center crop 224 (default)\n"
            "  --format jpeg|png    jpeg: quality 85 like ImageNet-C (default); png: lossless\n"
            "  --frost-dir DIR      frost textures frost1.png..frost3.png, frost4.jpg..frost6.jpg\n"
            "  --params T           parameter table imagenet | cifar | any | auto (default auto)\n"
            "  --strict             stop at the first unreadable input image\n");
}

static int has_image_ext(const char *name, size_t *stem_len)
{
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name)
        return 0;
    static const char *const exts[] = {".jpeg", ".jpg", ".png"};
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (strcasecmp(dot, exts[i]) == 0) {
            *stem_len = (size_t)(dot - name);
            return 1;
        }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the entries of `dir` (no hidden ones); caller frees. */
static int list_dir(const char *dir, char ***names, size_t *n)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    char **v = NULL;
    size_t cnt = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (cnt == cap) {
            cap = cap ? 2 * cap : 64;
            char **nv = realloc(v, cap * sizeof *v);
            if (!nv)
                break;
            v = nv;
        }
        v[cnt] = strdup(e->d_name);
        if (v[cnt])
            cnt++;
    }
    closedir(d);
    if (cnt)
        qsort(v, cnt, sizeof *v, cmp_str);
    *names = v;
    *n = cnt;
    return 0;
}

static void free_names(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void free_list(list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].cls);
        free(l->v[i].path);
        free(l->v[i].stem);
    }
    free(l->v);
}

static int scan_input(list *l, const char *root)
{
    char **classes;
    size_t nc;
    if (list_dir(root, &classes, &nc) < 0) {
        fprintf(stderr, "selfadapt corrupt: cannot read %s: %s\n", root, strerror(errno));
        return -1;
    }
    char path[PATH_MAX];
    for (size_t c = 0; c < nc; c++) {
        snprintf(path, sizeof path, "%s/%s", root, classes[c]);
        if (!sa_fs_is_dir(path))
            continue;
        char **files;
        size_t nf;
        if (list_dir(path, &files, &nf) < 0) {
            fprintf(stderr, "selfadapt corrupt: cannot read %s: %s\n", path, strerror(errno));
            continue;
        }
        for (size_t f = 0; f < nf; f++) {
            size_t stem_len;
            if (!has_image_ext(files[f], &stem_len))
                continue;
            if (l->n == l->cap) {
                l->cap = l->cap ? 2 * l->cap : 256;
                item *nv = realloc(l->v, l->cap * sizeof *nv);
                if (!nv) {
                    free_names(files, nf);
                    free_names(classes, nc);
                    fprintf(stderr, "selfadapt corrupt: out of memory\n");
                    return -1;
                }
                l->v = nv;
            }
            item *it = &l->v[l->n];
            size_t plen = strlen(path) + strlen(files[f]) + 2;
            it->cls = strdup(classes[c]);
            it->path = malloc(plen);
            it->stem = strndup(files[f], stem_len);
            if (!it->cls || !it->path || !it->stem) {
                free(it->cls);
                free(it->path);
                free(it->stem);
                free_names(files, nf);
                free_names(classes, nc);
                fprintf(stderr, "selfadapt corrupt: out of memory\n");
                return -1;
            }
            snprintf(it->path, plen, "%s/%s", path, files[f]);
            l->n++;
        }
        free_names(files, nf);
    }
    free_names(classes, nc);
    return 0;
}

/* Canonical absolute form of a path that may not exist yet: the deepest
 * existing ancestor resolved with realpath, the rest appended. */
static int resolve_path(const char *in, char *out, size_t n)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", in) >= (int)sizeof buf)
        return -1;
    size_t len = strlen(buf);
    while (len > 1 && buf[len - 1] == '/')
        buf[--len] = '\0';
    char rest[PATH_MAX] = "";
    for (;;) {
        char real[PATH_MAX];
        if (realpath(buf[0] ? buf : ".", real)) {
            if (snprintf(out, n, "%s%s", real, rest) >= (int)n)
                return -1;
            return 0;
        }
        char *slash = strrchr(buf, '/');
        char tail[PATH_MAX];
        if (!slash) {
            snprintf(tail, sizeof tail, "/%s%s", buf, rest);
            buf[0] = '\0';
        } else {
            snprintf(tail, sizeof tail, "%s%s", slash, rest);
            if (slash == buf)
                slash[1] = '\0';
            else
                *slash = '\0';
        }
        snprintf(rest, sizeof rest, "%s", tail);
        if (!buf[0]) {
            if (!getcwd(real, sizeof real))
                return -1;
            if (snprintf(out, n, "%s%s", real, rest) >= (int)n)
                return -1;
            return 0;
        }
    }
}

static int parse_corruptions(ctx *c, const char *spec)
{
    c->ncorr = 0;
    if (strcmp(spec, "all") == 0 || strcmp(spec, "benchmark") == 0 || strcmp(spec, "extra") == 0) {
        int lo = strcmp(spec, "extra") == 0 ? SA_CORRUPT_N_BENCHMARK : 0;
        int hi = strcmp(spec, "benchmark") == 0 ? SA_CORRUPT_N_BENCHMARK : SA_CORRUPT_COUNT;
        for (int k = lo; k < hi; k++)
            if (sa_corruption_available((sa_corruption)k))
                c->corr[c->ncorr++] = (sa_corruption)k;
        if (c->ncorr == 0) {
            fprintf(stderr, "selfadapt corrupt: no '%s' corruption is available in this build\n",
                    spec);
            return -1;
        }
        return 0;
    }
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", spec);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (isspace((unsigned char)*tok))
            tok++;
        sa_corruption k;
        sa_error err = {0};
        if (sa_corruption_from_name(&k, tok, &err) < 0) {
            fprintf(stderr, "selfadapt corrupt: %s; or all, benchmark, extra\n", err.msg);
            return -1;
        }
        int dup = 0;
        for (int i = 0; i < c->ncorr; i++)
            dup |= c->corr[i] == k;
        if (!dup)
            c->corr[c->ncorr++] = k;
    }
    if (c->ncorr == 0) {
        fprintf(stderr, "selfadapt corrupt: empty --corruptions list\n");
        return -1;
    }
    return 0;
}

static int parse_severity_number(const char *s, int *v)
{
    char *end;
    long x = strtol(s, &end, 10);
    if (end == s || *end || x < SA_SEVERITY_MIN || x > SA_SEVERITY_MAX) {
        fprintf(stderr,
                "selfadapt corrupt: invalid severity '%s' (valid: 1, 2, 3, 4, 5, a range "
                "such as 1-5 or a list such as 1,3,5)\n",
                s);
        return -1;
    }
    *v = (int)x;
    return 0;
}

static int parse_severities(ctx *c, const char *spec)
{
    int use[6] = {0};
    char buf[256];
    snprintf(buf, sizeof buf, "%s", spec);
    char *save = NULL;
    int any = 0;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *dash = strchr(tok, '-');
        int lo, hi;
        if (dash && dash != tok) {
            *dash = '\0';
            if (parse_severity_number(tok, &lo) < 0 || parse_severity_number(dash + 1, &hi) < 0)
                return -1;
        } else {
            if (parse_severity_number(tok, &lo) < 0)
                return -1;
            hi = lo;
        }
        if (lo > hi) {
            fprintf(stderr, "selfadapt corrupt: empty severity range %d-%d\n", lo, hi);
            return -1;
        }
        for (int s = lo; s <= hi; s++)
            use[s] = any = 1;
    }
    if (!any)
        return parse_severity_number(spec, &c->sev[0]);
    c->nsev = 0;
    for (int s = 1; s <= 5; s++)
        if (use[s])
            c->sev[c->nsev++] = s;
    return 0;
}

static void output_path(char *out, size_t n, const ctx *c, const item *it, sa_corruption k, int sev)
{
    snprintf(out, n, "%s/%s/%d/%s/%s.%s", c->out_dir, sa_corruption_name(k), sev, it->cls,
             it->stem, c->png ? "png" : "JPEG");
}

/* Print a message from a worker (inside the progress critical section). */
static void report(ctx *c, const char *fmt, const char *a, const char *b)
{
    if (c->tty)
        fputs("\r\033[K", stderr);
    fprintf(stderr, fmt, a, b);
}

static void progress(ctx *c, int final)
{
    double t = now_seconds() - c->t0;
    if (!final && (c->tty ? t - c->last_print < 0.2 : t - c->last_print < 10.0))
        return;
    c->last_print = t;
    double rate = t > 0 ? (double)c->done / t : 0.0;
    double eta = rate > 0 ? (double)(c->total - c->done) / rate : 0.0;
    if (c->tty)
        fprintf(stderr, "\r\033[K%zu/%zu images  %.1f img/s  ETA %.0fs%s", c->done, c->total, rate,
                eta, final ? "\n" : "");
    else
        fprintf(stderr, "%zu/%zu images  %.1f img/s  ETA %.0fs\n", c->done, c->total, rate, eta);
    fflush(stderr);
}

/* One input image: every (corruption, severity) output it still lacks. */
static void process(ctx *c, const item *it, size_t index)
{
    const int cells = c->ncorr * c->nsev;
    char path[PATH_MAX];
    int missing = 0;
    for (int k = 0; k < c->ncorr; k++)
        for (int s = 0; s < c->nsev; s++) {
            output_path(path, sizeof path, c, it, c->corr[k], c->sev[s]);
            missing += !sa_fs_exists(path);
        }
    size_t written = 0, skipped = (size_t)(cells - missing), failed = 0;
    sa_image *raw = NULL, *in = NULL, *out = NULL;
    sa_error err = {0};
    if (missing == 0)
        goto done;
    /* With the ImageNet size, decoded straight to 256 -> centre 224 (the same
     * bytes as resizing and cropping the whole image). */
    const sa_geometry geo = {256, 224, 0};
    if ((c->imagenet_size
             ? sa_image_decode_file_geometry(&raw, it->path, 3, SA_DECODE_STRICT, &geo, &err)
             : sa_image_decode_file_flags(&raw, it->path, 3, SA_DECODE_STRICT, &err)) < 0) {
        failed = 1;
#pragma omp critical(sa_corrupt_progress)
        {
            report(c, "selfadapt corrupt: %s%s (input skipped)\n", err.msg, "");
            if (c->strict)
                c->stop = 1;
        }
        goto done;
    }
    in = raw;
    raw = NULL;
    if (sa_image_new(&out, in->w, in->h, in->c, &err) < 0)
        goto fail;
    for (int k = 0; k < c->ncorr; k++)
        for (int s = 0; s < c->nsev; s++) {
            sa_corruption kind = c->corr[k];
            int sev = c->sev[s];
            output_path(path, sizeof path, c, it, kind, sev);
            if (sa_fs_exists(path))
                continue;
            sa_rng rng;
            if (c->rng_kind == SA_RNG_NUMPY)
                sa_rng_seed(&rng, SA_RNG_NUMPY, c->seed + index);
            else
                sa_rng_seed(&rng, SA_RNG_FAST, sa_corrupt_seed(c->seed, index, kind, sev));
            void *buf = NULL;
            size_t size = 0;
            char dir[PATH_MAX];
            sa_fs_dirname(dir, sizeof dir, path);
            int rc = sa_corrupt(out, in, kind, sev, &c->opt, &rng, &err);
            if (rc == 0)
                rc = c->png ? sa_image_encode_png(&buf, &size, out, &err)
                            : sa_image_encode_jpeg(&buf, &size, out, 85, &err);
            if (rc == 0)
                rc = sa_fs_mkdirs(dir, &err);
            if (rc == 0)
                rc = sa_fs_write_atomic(path, buf, size, &err);
            free(buf);
            if (rc < 0) {
                failed++;
#pragma omp critical(sa_corrupt_progress)
                {
                    report(c, "selfadapt corrupt: %s: %s\n", path, err.msg);
                    if (c->strict)
                        c->stop = 1;
                }
            } else {
                written++;
            }
        }
    goto done;
fail:
    failed = 1;
#pragma omp critical(sa_corrupt_progress)
    {
        report(c, "selfadapt corrupt: %s%s (input skipped)\n", err.msg, "");
        if (c->strict)
            c->stop = 1;
    }
done:
    sa_image_free(raw);
    sa_image_free(in);
    sa_image_free(out);
#pragma omp critical(sa_corrupt_progress)
    {
        c->written += written;
        c->skipped += skipped;
        c->failed += failed;
        c->done++;
        progress(c, 0);
    }
}

static const char *const frost_files[6] = {"frost1.png", "frost2.png", "frost3.png",
                                           "frost4.jpg", "frost5.jpg", "frost6.jpg"};

int sa_cli_corrupt(int argc, char **argv)
{
    const char *input = NULL, *output = NULL, *corr = "all", *sevs = "1-5", *frost_dir = NULL;
    const char *rng = "fast", *size = "imagenet", *format = "jpeg", *params = "auto";
    long long seed = 0;
    int threads = 0, strict = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(name, var)                                                                             \
    if (strcmp(a, name) == 0) {                                                                    \
        if (!v) {                                                                                  \
            fprintf(stderr, "selfadapt corrupt: %s needs a value\n", name);                        \
            return 2;                                                                              \
        }                                                                                          \
        var = v;                                                                                   \
        i++;                                                                                       \
        continue;                                                                                  \
    }
        OPT("--input", input)
        OPT("--output", output)
        OPT("--corruptions", corr)
        OPT("--severities", sevs)
        OPT("--rng", rng)
        OPT("--size", size)
        OPT("--format", format)
        OPT("--frost-dir", frost_dir)
        OPT("--params", params)
#undef OPT
        if ((strcmp(a, "--seed") == 0 || strcmp(a, "--threads") == 0) && v) {
            char *end;
            long long x = strtoll(v, &end, 10);
            if (end == v || *end || x < 0) {
                fprintf(stderr, "selfadapt corrupt: %s expects a non-negative integer, not '%s'\n",
                        a, v);
                return 2;
            }
            if (a[2] == 's')
                seed = x;
            else
                threads = (int)(x > 4096 ? 4096 : x);
            i++;
            continue;
        }
        if (strcmp(a, "--strict") == 0) {
            strict = 1;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        fprintf(stderr, "selfadapt corrupt: unknown option '%s'\n", a);
        usage(stderr);
        return 2;
    }
    if (!input || !output) {
        fprintf(stderr, "selfadapt corrupt: --input and --output are required\n");
        usage(stderr);
        return 2;
    }
    ctx c;
    memset(&c, 0, sizeof c);
    c.strict = strict;
    c.seed = (uint64_t)seed;
    c.opt = sa_corrupt_options_default();
    if (parse_corruptions(&c, corr) < 0 || parse_severities(&c, sevs) < 0)
        return 2;
    if (strcmp(rng, "fast") == 0)
        c.rng_kind = SA_RNG_FAST;
    else if (strcmp(rng, "numpy") == 0)
        c.rng_kind = SA_RNG_NUMPY;
    else {
        fprintf(stderr, "selfadapt corrupt: unknown --rng '%s' (expected fast or numpy)\n", rng);
        return 2;
    }
    if (strcmp(size, "imagenet") == 0)
        c.imagenet_size = 1;
    else if (strcmp(size, "keep") != 0) {
        fprintf(stderr, "selfadapt corrupt: unknown --size '%s' (expected imagenet or keep)\n",
                size);
        return 2;
    }
    if (strcmp(format, "png") == 0)
        c.png = 1;
    else if (strcmp(format, "jpeg") != 0) {
        fprintf(stderr, "selfadapt corrupt: unknown --format '%s' (expected jpeg or png)\n", format);
        return 2;
    }
    sa_error err = {0};
    if (sa_corrupt_params_from_name(&c.opt.params, params, &err) < 0) {
        fprintf(stderr, "selfadapt corrupt: %s\n", err.msg);
        return 2;
    }
    if (!sa_fs_is_dir(input)) {
        fprintf(stderr, "selfadapt corrupt: input %s is not a directory\n", input);
        return 1;
    }
    char in_real[PATH_MAX], out_real[PATH_MAX];
    if (resolve_path(input, in_real, sizeof in_real) < 0 ||
        resolve_path(output, out_real, sizeof out_real) < 0) {
        fprintf(stderr, "selfadapt corrupt: cannot resolve %s or %s\n", input, output);
        return 1;
    }
    size_t il = strlen(in_real);
    if (strncmp(out_real, in_real, il) == 0 &&
        (out_real[il] == '\0' || out_real[il] == '/' || (il == 1 && in_real[0] == '/'))) {
        fprintf(stderr,
                "selfadapt corrupt: output %s is inside the input tree %s; choose a directory "
                "outside it\n",
                output, input);
        return 1;
    }
    c.out_dir = output;

    sa_image *frost[6] = {NULL};
    int rc = 0;
    list items = {NULL, 0, 0};
    if (frost_dir) {
        for (int i = 0; i < 6; i++) {
            char p[PATH_MAX];
            snprintf(p, sizeof p, "%s/%s", frost_dir, frost_files[i]);
            if (sa_image_decode_file(&frost[i], p, 3, &err) < 0) {
                fprintf(stderr, "selfadapt corrupt: frost texture: %s\n", err.msg);
                rc = 1;
                goto out;
            }
        }
        c.opt.frost = (const sa_image *const *)frost;
        c.opt.n_frost = 6;
    }
    if (scan_input(&items, input) < 0) {
        rc = 1;
        goto out;
    }
    if (items.n == 0) {
        fprintf(stderr, "selfadapt corrupt: no .JPEG/.jpg/.jpeg/.png images in class "
                        "subdirectories of %s\n",
                input);
        rc = 1;
        goto out;
    }
#ifdef _OPENMP
    if (threads > 0)
        omp_set_num_threads(threads);
    int nthreads = omp_get_max_threads();
#else
    int nthreads = 1;
#endif
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = corrupt_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    c.tty = isatty(2);
    c.total = items.n;
    c.t0 = now_seconds();
    fprintf(stderr, "selfadapt corrupt: %zu images x %d corruptions x %d severities, %d thread%s\n",
            items.n, c.ncorr, c.nsev, nthreads, nthreads == 1 ? "" : "s");
    const long n = (long)items.n;
#pragma omp parallel for schedule(dynamic, 1)
    for (long i = 0; i < n; i++) {
        int stop;
#pragma omp atomic read
        stop = c.stop;
        if (stop || corrupt_interrupted)
            continue;
        process(&c, &items.v[i], (size_t)i);
    }
    progress(&c, 1);
    fprintf(stderr, "selfadapt corrupt: written %zu, skipped %zu (already there), failed %zu%s\n",
            c.written, c.skipped, c.failed, corrupt_interrupted ? " (interrupted)" : "");
    if (corrupt_interrupted)
        rc = 130;
    else if (c.strict && c.failed)
        rc = 1;
out:
    for (int i = 0; i < 6; i++)
        sa_image_free(frost[i]);
    free_list(&items);
    return rc;
}
