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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accumulator),
        cmocka_unit_test(test_table_renderings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
