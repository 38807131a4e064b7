#include <math.h>

#include "data.h"
#include "test.h"

static const char *dir;

static int setup(void **state)
{
    (void)state;
    dir = sa_test_fmnist_dir();
    return 0;
}

#define NEED_DATA()                                                 \
    do {                                                            \
        if (!dir) {                                                 \
            print_message("Fashion-MNIST not installed: skipped\n"); \
            skip();                                                 \
        }                                                           \
    } while (0)

static void test_fmnist_source(void **state)
{
    (void)state;
    NEED_DATA();
    sa_source *s = NULL;
    sa_error e = {0};
    assert_int_equal(sa_source_open_fmnist(&s, dir, "test", &e), 0);
    assert_int_equal(sa_source_count(s), 10000);
    assert_int_equal(sa_source_num_classes(s), 10);
    sa_image *im = NULL;
    int label;
    assert_int_equal(sa_source_get(s, 0, &im, &label, &e), 0);
    assert_int_equal(im->w, 32);
    assert_int_equal(im->c, 3);
    assert_int_equal(label, 9); /* the first test image is an ankle boot */
    int border = 0, inner = 0;
    for (int y = 0; y < 32; y++)
        for (int x = 0; x < 32; x++) {
            const uint8_t *p = im->data + (y * 32 + x) * 3;
            assert_int_equal(p[0], p[1]);
            assert_int_equal(p[0], p[2]);
            if (x < 2 || y < 2 || x >= 30 || y >= 30)
                border += p[0];
            else
                inner += p[0];
        }
    assert_int_equal(border, 0);
    assert_true(inner > 0);
    sa_image_free(im);
    assert_true(sa_source_get(s, 10000, &im, &label, &e) < 0);
    sa_source_free(s);
}

static void test_source_errors(void **state)
{
    (void)state;
    sa_source *s = NULL;
    sa_error e = {0};
    assert_true(sa_source_open_fmnist(&s, "/nonexistent/fmnist", "test", &e) < 0);
    assert_err_contains(e, "/nonexistent/fmnist");
    char tmp[256];
    assert_int_equal(sa_test_mkdtemp(tmp, sizeof tmp), 0);
    assert_true(sa_source_open_fmnist(&s, tmp, "test", &e) < 0);
    assert_err_contains(e, "t10k-images-idx3-ubyte");
    assert_true(sa_source_open_fmnist(&s, tmp, "validation", &e) < 0);
    assert_err_contains(e, "validation");
    assert_null(s);
    sa_test_rmtree(tmp);
}

static void load_all(const sa_source *s, sa_loader_options *o, float **x, int64_t **idx, size_t *n)
{
    sa_loader *ld = NULL;
    sa_error e = {0};
    assert_int_equal(sa_loader_new(&ld, s, o, &e), 0);
    size_t count = sa_loader_count(ld);
    *x = malloc(count * 3072 * sizeof **x);
    *idx = malloc(count * sizeof **idx);
    sa_batch b = {0};
    size_t k = 0;
    int rc;
    while ((rc = sa_loader_next(ld, &b, &e)) > 0) {
        memcpy(*x + k * 3072, b.x, (size_t)b.n * 3072 * sizeof(float));
        memcpy(*idx + k, b.index, (size_t)b.n * sizeof(int64_t));
        k += (size_t)b.n;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(k, count);
    *n = count;
    sa_batch_free(&b);
    sa_loader_free(ld);
}

/* The same seed gives the same bytes whatever the number of threads. */
static void test_loader_deterministic_across_threads(void **state)
{
    (void)state;
    NEED_DATA();
    sa_source *s = NULL;
    sa_error e = {0};
    assert_int_equal(sa_source_open_fmnist(&s, dir, "test", &e), 0);
    sa_loader_options o = sa_loader_options_default();
    o.batch_size = 50;
    o.limit = 300;
    o.seed = 3;
    o.corrupt = 1;
    o.corruption = SA_CORRUPT_SHOT_NOISE;
    o.severity = 4;
    float *x1, *x2;
    int64_t *i1, *i2;
    size_t n1, n2;
    o.prefetch = 0;
    o.threads = 1;
    load_all(s, &o, &x1, &i1, &n1);
    o.threads = 4;
    o.batch_size = 64; /* batching does not matter either */
    load_all(s, &o, &x2, &i2, &n2);
    assert_int_equal(n1, 300);
    assert_int_equal(n2, 300);
    assert_memory_equal(i1, i2, n1 * sizeof *i1);
    assert_memory_equal(x1, x2, n1 * 3072 * sizeof *x1);
    /* A shuffled subset: not the first 300 images in file order. */
    int in_order = 1;
    for (size_t i = 0; i < n1; i++)
        in_order &= i1[i] == (int64_t)i;
    assert_false(in_order);
    for (size_t i = 0; i < n1 * 3072; i++)
        assert_true(x1[i] >= 0.0f && x1[i] <= 1.0f);
    free(x2);
    free(i2);
    /* Another seed, another subset. */
    o.seed = 4;
    load_all(s, &o, &x2, &i2, &n2);
    assert_true(memcmp(i1, i2, n1 * sizeof *i1) != 0);
    free(x1);
    free(i1);
    free(x2);
    free(i2);
    sa_source_free(s);
}

static void test_loader_clean_matches_source(void **state)
{
    (void)state;
    NEED_DATA();
    sa_source *s = NULL;
    sa_error e = {0};
    assert_int_equal(sa_source_open_fmnist(&s, dir, "test", &e), 0);
    sa_loader_options o = sa_loader_options_default();
    o.shuffle = 0;
    o.limit = 10;
    o.batch_size = 4;
    float *x;
    int64_t *idx;
    size_t n;
    load_all(s, &o, &x, &idx, &n);
    assert_int_equal(n, 10);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(idx[i], (int64_t)i);
        sa_image *im = NULL;
        int label;
        assert_int_equal(sa_source_get(s, i, &im, &label, &e), 0);
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < 1024; p++)
                assert_true(x[i * 3072 + (size_t)c * 1024 + (size_t)p] ==
                            im->data[p * 3 + c] * (1.0f / 255.0f));
        sa_image_free(im);
    }
    free(x);
    free(idx);
    sa_loader_options bad = o;
    bad.batch_size = 0;
    sa_loader *ld = NULL;
    assert_true(sa_loader_new(&ld, s, &bad, &e) < 0);
    sa_source_free(s);
}

#include "fs.h"

static void write_jpeg(const char *path, int w, int h, uint8_t base)
{
    sa_image *im = NULL;
    sa_error e = {0};
    assert_int_equal(sa_image_new(&im, w, h, 3, &e), 0);
    for (size_t i = 0; i < sa_image_size(im); i++)
        im->data[i] = (uint8_t)(base + (i % 7));
    void *buf = NULL;
    size_t n = 0;
    assert_int_equal(sa_image_encode_jpeg(&buf, &n, im, 95, &e), 0);
    sa_test_write(path, buf, n);
    free(buf);
    sa_image_free(im);
}

/* tmp/<cls>/<k>.JPEG images of the given sizes */
static void make_tree(const char *root, const char *const *classes, int n_classes, int bad)
{
    char path[1024];
    sa_error e = {0};
    for (int c = 0; c < n_classes; c++) {
        snprintf(path, sizeof path, "%s/%s", root, classes[c]);
        assert_int_equal(sa_fs_mkdirs(path, &e), 0);
        for (int k = 0; k < 3; k++) {
            snprintf(path, sizeof path, "%s/%s/img%d.JPEG", root, classes[c], k);
            write_jpeg(path, k == 0 ? 224 : 300 + 10 * k, k == 0 ? 224 : 260, (uint8_t)(40 * c + k));
        }
        snprintf(path, sizeof path, "%s/%s/notes.txt", root, classes[c]); /* ignored */
        sa_test_write(path, "x", 1);
    }
    if (bad) {
        snprintf(path, sizeof path, "%s/%s/broken.jpg", root, classes[0]);
        static const char junk[] = "\xff\xd8\xff garbage";
        sa_test_write(path, junk, sizeof junk - 1);
    }
}

static void test_folder_source(void **state)
{
    (void)state;
    char root[256];
    assert_int_equal(sa_test_mkdtemp(root, sizeof root), 0);
    const char *classes[] = {"n01440764", "n01443537"};
    make_tree(root, classes, 2, 1);
    sa_source *s = NULL;
    sa_error e = {0};
    sa_folder_options fo = sa_folder_options_default();
    fo.name = "tiny";
    assert_int_equal(sa_source_open_folder(&s, root, &fo, &e), 0);
    assert_int_equal(sa_source_count(s), 7); /* 6 images + the broken file */
    assert_int_equal(sa_source_num_classes(s), 2);
    assert_non_null(strstr(sa_source_path(s, 0), "n01440764/broken.jpg"));
    sa_image *im = NULL;
    int label = -1;
    assert_int_equal(sa_source_get(s, 1, &im, &label, &e), 0);
    assert_int_equal(label, 0);
    assert_int_equal(im->w, 224);
    assert_int_equal(im->h, 224);
    sa_image_free(im);
    assert_int_equal(sa_source_get(s, 6, &im, &label, &e), 0); /* 320x260 -> 256 -> 224 */
    assert_int_equal(label, 1);
    assert_int_equal(im->w, 224);
    sa_image_free(im);
    assert_true(sa_source_get(s, 0, &im, &label, &e) < 0);
    assert_err_contains(e, "broken.jpg");

    /* The loader skips and counts the unreadable file, or fails with strict. */
    sa_loader_options o = sa_loader_options_default();
    o.shuffle = 0;
    o.batch_size = 4;
    o.mean[0] = o.mean[1] = o.mean[2] = 0.5f;
    o.std[0] = o.std[1] = o.std[2] = 0.25f;
    sa_loader *ld = NULL;
    assert_int_equal(sa_loader_new(&ld, s, &o, &e), 0);
    sa_batch b = {0};
    int total = 0, rc;
    while ((rc = sa_loader_next(ld, &b, &e)) > 0) {
        total += b.n;
        for (size_t i = 0; i < (size_t)b.n * 3 * 224 * 224; i++)
            assert_true(b.x[i] >= -2.0f && b.x[i] <= 2.0f);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(total, 6);
    assert_int_equal(sa_loader_skipped(ld), 1);
    sa_loader_free(ld);
    o.strict = 1;
    assert_int_equal(sa_loader_new(&ld, s, &o, &e), 0);
    assert_true(sa_loader_next(ld, &b, &e) < 0);
    assert_err_contains(e, "broken.jpg");
    sa_loader_free(ld);
    sa_batch_free(&b);
    sa_source_free(s);

    /* A class list: a directory outside it is an error naming it. */
    const char *only[] = {"n01440764"};
    fo.classes = only;
    fo.n_classes = 1;
    assert_true(sa_source_open_folder(&s, root, &fo, &e) < 0);
    assert_err_contains(e, "n01443537");
    /* An empty class directory. */
    char path[512];
    snprintf(path, sizeof path, "%s/n09999999", root);
    assert_int_equal(sa_fs_mkdirs(path, &e), 0);
    fo.classes = NULL;
    assert_true(sa_source_open_folder(&s, root, &fo, &e) < 0);
    assert_err_contains(e, "n09999999");
    assert_true(sa_source_open_folder(&s, "/nonexistent/imagenet-r", &fo, &e) < 0);
    assert_err_contains(e, "/nonexistent/imagenet-r");
    sa_test_rmtree(root);
}

/* Folder batches hold each readable image packed as sa_source_get and
 * sa_image_to_chw give it, in order, with unreadable files (first, middle
 * and last of a batch) leaving no gap, for any thread count, batch size
 * and prefetch depth; a batch whose images differ in shape is an error
 * naming the image. */
static void test_folder_batches_exact(void **state)
{
    (void)state;
    char root[256], path[512];
    assert_int_equal(sa_test_mkdtemp(root, sizeof root), 0);
    sa_error e = {0};
    const char *junk = "\xff\xd8\xff garbage";
    for (int c = 0; c < 2; c++) {
        snprintf(path, sizeof path, "%s/c%d", root, c);
        assert_int_equal(sa_fs_mkdirs(path, &e), 0);
        for (int k = 0; k < 9; k++) {
            snprintf(path, sizeof path, "%s/c%d/img%d.jpg", root, c, k);
            if ((c * 9 + k) % 5 == 3) /* files 3, 8 and 13 of 18 */
                sa_test_write(path, junk, strlen(junk));
            else
                write_jpeg(path, 250 + 17 * k, 240 + 5 * c, (uint8_t)(20 * k + 60 * c));
        }
    }
    sa_source *s = NULL;
    sa_folder_options fo = sa_folder_options_default();
    assert_int_equal(sa_source_open_folder(&s, root, &fo, &e), 0);
    const size_t total = sa_source_count(s), per = 3 * 224 * 224;
    const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    float *want = malloc(total * per * sizeof *want);
    int64_t *want_index = malloc(total * sizeof *want_index);
    assert_non_null(want);
    assert_non_null(want_index);
    size_t readable = 0;
    for (size_t i = 0; i < total; i++) {
        sa_image *im = NULL;
        int label;
        if (sa_source_get(s, i, &im, &label, &e) < 0)
            continue;
        sa_image_to_chw(want + readable * per, im, mean, std);
        want_index[readable++] = (int64_t)i;
        sa_image_free(im);
    }
    assert_int_equal(total, 18);
    assert_int_equal(readable, 15);
    const int threads[] = {1, 2, 4}, batch[] = {4, 5, 7};
    for (int t = 0; t < 3; t++)
        for (int bs = 0; bs < 3; bs++) {
            sa_loader_options o = sa_loader_options_default();
            o.shuffle = 0;
            o.threads = threads[t];
            o.batch_size = (size_t)batch[bs];
            o.prefetch = t; /* 0, 1, 2 */
            for (int k = 0; k < 3; k++) {
                o.mean[k] = mean[k];
                o.std[k] = std[k];
            }
            sa_loader *ld = NULL;
            assert_int_equal(sa_loader_new(&ld, s, &o, &e), 0);
            sa_batch b = {0};
            size_t got = 0;
            int rc;
            while ((rc = sa_loader_next(ld, &b, &e)) > 0) {
                assert_true(got + (size_t)b.n <= readable);
                assert_memory_equal(b.index, want_index + got, (size_t)b.n * sizeof *b.index);
                assert_memory_equal(b.x, want + got * per, (size_t)b.n * per * sizeof *b.x);
                got += (size_t)b.n;
            }
            assert_int_equal(rc, 0);
            assert_int_equal(got, readable);
            assert_int_equal(sa_loader_skipped(ld), 3);
            sa_loader_free(ld);
            sa_batch_free(&b);
        }
    sa_source_free(s);
    /* Without resize and crop the sizes differ: the second image is named. */
    fo.resize = 0;
    fo.crop = 0;
    assert_int_equal(sa_source_open_folder(&s, root, &fo, &e), 0);
    sa_loader_options o = sa_loader_options_default();
    o.shuffle = 0;
    o.prefetch = 0;
    sa_loader *ld = NULL;
    assert_int_equal(sa_loader_new(&ld, s, &o, &e), 0);
    sa_batch b = {0};
    assert_true(sa_loader_next(ld, &b, &e) < 0);
    assert_err_contains(e, "image 1 is 267x240x3, batch is 250x240x3");
    sa_loader_free(ld);
    sa_batch_free(&b);
    sa_source_free(s);
    free(want);
    free(want_index);
    sa_test_rmtree(root);
}

/* Prefetching gives the same batches as loading in the caller's thread,
 * across rewinds. */
static void test_prefetch_same_batches(void **state)
{
    (void)state;
    NEED_DATA();
    sa_source *s = NULL;
    sa_error e = {0};
    assert_int_equal(sa_source_open_fmnist(&s, dir, "test", &e), 0);
    sa_loader_options o = sa_loader_options_default();
    o.limit = 200;
    o.batch_size = 32;
    o.corrupt = 1;
    o.corruption = SA_CORRUPT_GAUSSIAN_NOISE;
    o.severity = 2;
    float *x0;
    int64_t *i0;
    size_t n0;
    o.prefetch = 0;
    load_all(s, &o, &x0, &i0, &n0);
    o.prefetch = 3;
    sa_loader *ld = NULL;
    assert_int_equal(sa_loader_new(&ld, s, &o, &e), 0);
    for (int pass = 0; pass < 2; pass++) {
        sa_batch b = {0};
        size_t k = 0;
        int rc;
        while ((rc = sa_loader_next(ld, &b, &e)) > 0) {
            assert_memory_equal(b.x, x0 + k * 3072, (size_t)b.n * 3072 * sizeof(float));
            k += (size_t)b.n;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(k, n0);
        assert_int_equal(sa_loader_next(ld, &b, &e), 0); /* stays at the end */
        sa_batch_free(&b);
        sa_loader_rewind(ld);
    }
    sa_loader_free(ld);
    /* Freeing a loader in the middle of a pass stops its thread. */
    assert_int_equal(sa_loader_new(&ld, s, &o, &e), 0);
    sa_batch b = {0};
    assert_int_equal(sa_loader_next(ld, &b, &e), 1);
    sa_loader_free(ld);
    sa_batch_free(&b);
    free(x0);
    free(i0);
    sa_source_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fmnist_source),
        cmocka_unit_test(test_source_errors),
        cmocka_unit_test(test_loader_deterministic_across_threads),
        cmocka_unit_test(test_loader_clean_matches_source),
        cmocka_unit_test(test_folder_source),
        cmocka_unit_test(test_prefetch_same_batches),
        cmocka_unit_test(test_folder_batches_exact),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
