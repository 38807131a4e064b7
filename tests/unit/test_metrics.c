#include <math.h>

#include "metrics.h"
#include "test.h"

static void test_accumulator(void **state)
{
    (void)state;
    sa_acc a = {0};
    assert_true(isnan(sa_acc_error(&a)));
    const int64_t pred[4] = {1, 2, 3, 4}, lab[4] = {1, 0, 3, 0};
    sa_acc_add(&a, pred, lab, 4);
    sa_acc_add(&a, pred, pred, 4);
    assert_int_equal(a.n, 8);
    assert_int_equal(a.wrong, 2);
    assert_true(fabs(sa_acc_error(&a) - 25.0) < 1e-12);
}

static void test_table_renderings(void **state)
{
    (void)state;
    sa_table *t = NULL;
    sa_error e = {0};
    assert_int_equal(sa_table_new(&t, 3, 2, &e), 0);
    sa_table_set_col(t, 0, "source");
    sa_table_set_col(t, 1, "rpl");
    sa_table_set_row(t, 0, "clean");
    sa_table_set_row(t, 1, "fog/5");
    sa_table_set_row(t, 2, "mean, all");
    sa_table_set(t, 0, 0, 8.5);
    sa_table_set(t, 0, 1, 8.25);
    sa_table_set(t, 1, 0, 40.0);
    assert_true(fabs(sa_table_col_mean(t, 0, 0, 2) - 24.25) < 1e-12);
    assert_true(isnan(sa_table_col_mean(t, 1, 1, 2)));
    sa_strbuf b = {0};
    sa_table_csv(t, "cell", &b);
    assert_string_equal(b.data, "cell,source,rpl\nclean,8.5000,8.2500\nfog/5,40.0000,\n\"mean, all\",,\n");
    sa_strbuf_free(&b);
    sa_table_markdown(t, "cell", &b);
    assert_non_null(strstr(b.data, "| fog/5 | 40.00 | - |"));
    sa_strbuf_free(&b);
    sa_table_text(t, "cell", &b);
    assert_non_null(strstr(b.data, "source"));
    assert_non_null(strstr(b.data, "8.25"));
    sa_strbuf_free(&b);
    sa_table_free(t);
}

/* AlexNet errors (percent) as listed in shared benchmark facts, benchmark order. */
static const double alex[15] = {88.6428, 89.4468, 92.2640, 81.9880, 82.6268, 78.5948, 79.8360, 86.6816,
                                82.6572, 81.9324, 56.4592, 85.3204, 64.6056, 71.7840, 60.6500};

/* gaussian_noise: 10, 20, 30, 40, 50 (mean 30, CE = 3000 / 88.6428 = 33.843696);
 * every other corruption c: 0.4 .. 0.8 x AlexNet's error (mean 0.6 x, CE = 60).
 * mCE = (33.843696 + 14 x 60) / 15 = 58.256246. */
static void fill_example(double e[15][5])
{
    for (int c = 0; c < 15; c++)
        for (int s = 0; s < 5; s++)
            e[c][s] = c == 0 ? 10.0 * (s + 1) : alex[c] * (0.4 + 0.1 * s);
}

static void test_mce_by_hand(void **state)
{
    (void)state;
    assert_string_equal(sa_mce_corruption(0), "gaussian_noise");
    assert_string_equal(sa_mce_corruption(14), "jpeg_compression");
    assert_null(sa_mce_corruption(15));
    assert_int_equal(sa_mce_corruption_index("fog"), 9);
    assert_int_equal(sa_mce_corruption_index("speckle_noise"), -1);
    for (int c = 0; c < 15; c++)
        assert_true(fabs(sa_alexnet_error(sa_mce_corruption(c)) - alex[c]) < 1e-9);
    assert_true(isnan(sa_alexnet_error("saturate")));

    double e[15][5];
    fill_example(e);
    sa_mce m;
    sa_mce_compute(&m, e, 20.0, 43.45);
    assert_int_equal(m.n_cells, 75);
    assert_true(fabs(m.corruption_error[0] - 30.0) < 1e-9);
    assert_true(fabs(m.ce[0] - 33.843696273) < 1e-6);
    assert_true(fabs(m.ce[7] - 60.0) < 1e-9);
    assert_true(fabs(m.mce - 58.256246418) < 1e-6);
    /* relative: gaussian_noise 100 (30 - 20) / (88.6428 - 43.45) = 22.127419 */
    assert_true(fabs(m.rel_ce[0] - 22.127418527) < 1e-6);
    double rel = 22.127418526844988;
    for (int c = 1; c < 15; c++)
        rel += 100.0 * (0.6 * alex[c] - 20.0) / (alex[c] - 43.45);
    assert_true(fabs(m.rel_mce - rel / 15.0) < 1e-9);
    double mean = 30.0;
    for (int c = 1; c < 15; c++)
        mean += 0.6 * alex[c];
    assert_true(fabs(m.mean_error - mean / 15.0) < 1e-9);

    /* without clean errors: mCE but no relative mCE */
    sa_mce_compute(&m, e, NAN, NAN);
    assert_true(fabs(m.mce - 58.256246418) < 1e-6);
    assert_true(isnan(m.rel_mce));
    /* one severity missing: no mCE, the per-corruption mean stays */
    e[3][2] = NAN;
    sa_mce_compute(&m, e, 20.0, 43.45);
    assert_true(isnan(m.mce));
    assert_true(isnan(m.ce[3]));
    assert_true(fabs(m.corruption_error[3] - alex[3] * 0.6) < 1e-9);
    assert_int_equal(m.n_cells, 74);
}

static void test_mce_table(void **state)
{
    (void)state;
    double e[15][5];
    fill_example(e);
    sa_table *cells = NULL, *t = NULL;
    sa_error err = {0};
    /* rows: clean, 75 benchmark cells, 1 extra corruption cell */
    assert_int_equal(sa_table_new(&cells, 77, 2, &err), 0);
    sa_table_set_col(cells, 0, "source");
    sa_table_set_col(cells, 1, "rpl");
    sa_table_set_row(cells, 0, "clean");
    sa_table_set(cells, 0, 0, 20.0);
    for (int c = 0; c < 15; c++)
        for (int s = 0; s < 5; s++) {
            char name[64];
            snprintf(name, sizeof name, "%s/%d", sa_mce_corruption(c), s + 1);
            sa_table_set_row(cells, 1 + c * 5 + s, name);
            sa_table_set(cells, 1 + c * 5 + s, 0, e[c][s]);
            if (c == 0)
                sa_table_set(cells, 1 + c * 5 + s, 1, 5.0);
        }
    sa_table_set_row(cells, 76, "speckle_noise/5");
    sa_table_set(cells, 76, 0, 99.0);
    assert_int_equal(sa_mce_table(&t, cells, 43.45, &err), 0);
    assert_int_equal(sa_table_rows(t), 2);
    assert_int_equal(sa_table_cols(t), 4 + 16);
    assert_string_equal(sa_table_row_name(t, 1), "rpl");
    assert_string_equal(sa_table_col_name(t, 0), "mCE");
    assert_string_equal(sa_table_col_name(t, 4), "gaussian_noise");
    assert_string_equal(sa_table_col_name(t, 19), "speckle_noise");
    assert_true(fabs(sa_table_get(t, 0, 0) - 58.256246418) < 1e-6);
    assert_true(fabs(sa_table_get(t, 0, 3) - 20.0) < 1e-12);
    assert_true(fabs(sa_table_get(t, 0, 4) - 30.0) < 1e-9);
    assert_true(fabs(sa_table_get(t, 0, 19) - 99.0) < 1e-9);
    double mean = 30.0 * 5 + 99.0;
    for (int c = 1; c < 15; c++)
        mean += 5 * 0.6 * alex[c];
    assert_true(fabs(sa_table_get(t, 0, 2) - mean / 76.0) < 1e-9);
    /* rpl has gaussian_noise only: mean error 5, no mCE */
    assert_true(isnan(sa_table_get(t, 1, 0)));
    assert_true(fabs(sa_table_get(t, 1, 2) - 5.0) < 1e-12);
    sa_table_free(t);
    sa_table_free(cells);
}

static void test_svg_chart(void **state)
{
    (void)state;
    sa_table *t = NULL;
    sa_error err = {0};
    assert_int_equal(sa_table_new(&t, 3, 2, &err), 0);
    sa_table_set_col(t, 0, "source <R&D>");
    sa_table_set_col(t, 1, "rpl");
    sa_table_set_row(t, 0, "gaussian_noise");
    sa_table_set_row(t, 1, "fog");
    sa_table_set_row(t, 2, "a&b");
    sa_table_set(t, 0, 0, 80.0);
    sa_table_set(t, 0, 1, 60.0);
    sa_table_set(t, 1, 0, 50.0);
    sa_table_set(t, 1, 1, 45.0);
    sa_table_set(t, 2, 0, 10.0); /* (2, 1) missing: no bar */
    sa_strbuf b = {0};
    sa_svg_bars(&b, t, "Errors <test>", "top-1 error (%)");
    assert_false(b.oom);
    assert_int_equal(strncmp(b.data, "<svg ", 5), 0);
    assert_non_null(strstr(b.data, "xmlns=\"http://www.w3.org/2000/svg\""));
    assert_non_null(strstr(b.data, "</svg>\n"));
    int rects = 0;
    for (const char *p = b.data; (p = strstr(p, "<rect")); p++)
        rects++;
    assert_int_equal(rects, 5);
    assert_non_null(strstr(b.data, "source &lt;R&amp;D&gt;"));
    assert_non_null(strstr(b.data, "Errors &lt;test&gt;"));
    assert_non_null(strstr(b.data, ">a&amp;b<"));
    assert_null(strstr(b.data, "<R&D>"));
    assert_null(strstr(b.data, "a&b"));
    /* every opened element is closed or self-closed: count '<' not followed by '/' */
    int open = 0, close = 0;
    for (const char *p = b.data; *p; p++) {
        if (p[0] == '<' && p[1] == '/')
            close++;
        else if (p[0] == '<') {
            const char *gt = strchr(p, '>');
            assert_non_null(gt);
            if (gt[-1] != '/')
                open++;
        }
    }
    assert_int_equal(open, close);
    sa_strbuf_free(&b);
    sa_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accumulator),
        cmocka_unit_test(test_table_renderings),
        cmocka_unit_test(test_mce_by_hand),
        cmocka_unit_test(test_mce_table),
        cmocka_unit_test(test_svg_chart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
