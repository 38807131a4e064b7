/* Regression suite: the qualitative results of the paper on the shipped
 * Fashion-MNIST model, with margins set from measured numbers (see
 * tests/README.md), and run-to-run determinism. */
#include <math.h>

#include "run.h"
#include "test.h"

static char tmp[256];
static char root[4096];

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "%s", sa_test_source_root());
    return sa_test_mkdtemp(tmp, sizeof tmp);
}

static int teardown(void **state)
{
    (void)state;
    sa_test_rmtree(tmp);
    return 0;
}

static sa_config *load_config(const char *rel, const char *name)
{
    char path[4200], set[4400];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    sa_config *c = NULL;
    sa_error e = {0};
    sa_config_hooks h = sa_run_config_hooks();
    if (sa_config_load(&c, path, &h, &e) < 0)
        fail_msg("%s", e.msg);
    snprintf(set, sizeof set, "model.path=%s/models/fmnist_resnet20.pt", root);
    assert_int_equal(sa_config_set(c, set, &h, &e), 0);
    snprintf(set, sizeof set, "run.output=%s", tmp);
    assert_int_equal(sa_config_set(c, set, &h, &e), 0);
    snprintf(set, sizeof set, "run.name=%s", name);
    assert_int_equal(sa_config_set(c, set, &h, &e), 0);
    return c;
}

static sa_run_result *execute(sa_config *c)
{
    sa_run_options o = sa_run_options_default();
    sa_run_result *r = NULL;
    sa_error e = {0};
    if (sa_run_execute(c, &o, &r, &e) < 0)
        fail_msg("%s", e.msg);
    return r;
}

/* The clean test error stated in models/README.md ("Clean test error ...: **X%**"). */
static double readme_clean_error(void)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/models/README.md", root);
    char *text = sa_test_read(path, NULL);
    assert_non_null(text);
    const char *p = strstr(text, "Clean test error");
    assert_non_null(p);
    p = strstr(p, "**");
    assert_non_null(p);
    double v = strtod(p + 2, NULL);
    free(text);
    return v;
}

static void test_clean_error_matches_model_card(void **state)
{
    (void)state;
    if (!sa_test_fmnist_dir())
        skip();
    sa_config *c = load_config("configs/ci/regression.yaml", "clean");
    /* All 10,000 test images, source model only. */
    c->data.limit = 0;
    c->shift.clean = 1;
    c->shift.n_corruptions = 0;
    c->n_methods = 1;
    sa_run_result *r = execute(c);
    double err = sa_table_get(r->table, 0, 0), want = readme_clean_error();
    print_message("clean source error %.2f%% (models/README.md: %.2f%%)\n", err, want);
    assert_true(fabs(err - want) <= 1.5);
    sa_run_result_free(r);
    sa_config_free(c);
}

static void test_adaptation_beats_source_on_noise(void **state)
{
    (void)state;
    if (!sa_test_fmnist_dir())
        skip();
    sa_config *c = load_config("configs/ci/regression.yaml", "noise");
    sa_run_result *r = execute(c);
    /* The means over the configured cells (gaussian_noise/5, impulse_noise/5):
     * on one cell of 2,000 images rpl and bn can be within a few images of
     * each other, over both the gap is well outside that. */
    enum { CELLS = 2 }; /* the table: the two cells, then their mean */
    assert_int_equal(sa_table_rows(r->table), CELLS + 1);
    double src = 0.0, bn = 0.0, rpl = 0.0;
    for (int i = 0; i < CELLS; i++) {
        print_message("%s on 2000 images: source %.2f%%, bn %.2f%%, rpl %.2f%%\n",
                      sa_table_row_name(r->table, i), sa_table_get(r->table, i, 0),
                      sa_table_get(r->table, i, 1), sa_table_get(r->table, i, 2));
        src += sa_table_get(r->table, i, 0) / CELLS;
        bn += sa_table_get(r->table, i, 1) / CELLS;
        rpl += sa_table_get(r->table, i, 2) / CELLS;
    }
    print_message("mean: source %.2f%%, bn %.2f%%, rpl %.2f%%\n", src, bn, rpl);
    assert_true(src - bn >= 10.0);
    assert_true(rpl <= bn);
    sa_run_result_free(r);
    sa_config_free(c);
}

static void test_same_seed_same_cell_files(void **state)
{
    (void)state;
    if (!sa_test_fmnist_dir())
        skip();
    char path[2][1024];
    for (int k = 0; k < 2; k++) {
        char name[32];
        snprintf(name, sizeof name, "repeat%d", k);
        sa_config *c = load_config("configs/ci/regression.yaml", name);
        c->data.limit = 512;
        sa_run_result *r = execute(c);
        snprintf(path[k], sizeof path[k], "%s/%s/cells/fmnist/gaussian_noise/5.json", tmp, name);
        sa_run_result_free(r);
        sa_config_free(c);
    }
    size_t n0, n1;
    char *a = sa_test_read(path[0], &n0), *b = sa_test_read(path[1], &n1);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(n0, n1);
    assert_memory_equal(a, b, n0);
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_error_matches_model_card),
        cmocka_unit_test(test_adaptation_beats_source_on_noise),
        cmocka_unit_test(test_same_seed_same_cell_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
