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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fmnist_source),
        cmocka_unit_test(test_source_errors),
        cmocka_unit_test(test_loader_deterministic_across_threads),
        cmocka_unit_test(test_loader_clean_matches_source),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
