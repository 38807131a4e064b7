/* Planning, cell files and resume, on a small run of the shipped model. */
#include <math.h>

#include "fs.h"
#include "run.h"
#include "test.h"

static char tmp[256];

static int setup(void **state)
{
    (void)state;
    return sa_test_mkdtemp(tmp, sizeof tmp);
}

static int teardown(void **state)
{
    (void)state;
    sa_test_rmtree(tmp);
    return 0;
}

static sa_config *small_config(const char *name)
{
    char text[2048];
    snprintf(text, sizeof text,
             "run: {name: %s, output: %s, seed: 1}\n"
             "model: {path: %s/models/fmnist_resnet20.pt}\n"
             "data: {limit: 96, batch_size: 32}\n"
             "shift: {corruptions: [contrast, impulse_noise], severities: [2]}\n"
             "methods: [source, bn, {name: rpl, optimizer: {lr: 0.01}}]\n",
             name, tmp, sa_test_source_root());
    sa_config *c = NULL;
    sa_error e = {0};
    sa_config_hooks h = sa_run_config_hooks();
    if (sa_config_load_string(&c, text, strlen(text), "small.yaml", &h, &e) < 0)
        fail_msg("%s", e.msg);
    return c;
}

static void test_plan(void **state)
{
    (void)state;
    sa_config *c = small_config("plan");
    sa_plan p = {0};
    sa_error e = {0};
    assert_int_equal(sa_plan_make(&p, c, &e), 0);
    assert_int_equal(p.n_cells, 3);
    char name[64];
    sa_cell_name(&p.cells[0], name, sizeof name);
    assert_string_equal(name, "clean");
    sa_cell_name(&p.cells[2], name, sizeof name);
    assert_string_equal(name, "impulse_noise/2");
    sa_plan_free(&p);
    c->shift.clean = 0;
    c->shift.n_corruptions = 0;
    assert_true(sa_plan_make(&p, c, &e) < 0);
    assert_err_contains(e, "nothing to run");
    sa_config_free(c);
}

static void test_config_hash(void **state)
{
    (void)state;
    sa_config *a = small_config("a"), *b = small_config("b");
    assert_true(sa_config_hash(a) == sa_config_hash(b)); /* names do not count */
    b->methods[2].lr = 0.02;
    assert_true(sa_config_hash(a) != sa_config_hash(b));
    sa_config_free(a);
    sa_config_free(b);
}

typedef struct counter {
    int running, finished, reused;
} counter;

static void count(void *user, const sa_progress *p)
{
    counter *c = user;
    if (p->state == 0)
        c->running++;
    else if (p->state == 1)
        c->finished++;
    else
        c->reused++;
}

static void test_run_files_and_resume(void **state)
{
    (void)state;
    if (!sa_test_fmnist_dir())
        skip();
    sa_config *c = small_config("files");
    sa_run_options o = sa_run_options_default();
    counter cnt = {0};
    o.progress = count;
    o.user = &cnt;
    sa_run_result *r = NULL;
    sa_error e = {0};
    if (sa_run_execute(c, &o, &r, &e) < 0)
        fail_msg("%s", e.msg);
    assert_int_equal(r->cells_computed, 3);
    assert_int_equal(cnt.finished, 3);
    assert_int_equal(cnt.running, 9); /* 3 batches per cell */
    for (int k = 0; k < 3; k++)
        for (int m = 0; m < 3; m++) {
            double v = sa_table_get(r->table, k, m);
            assert_true(v >= 0 && v <= 100);
        }
    char path[1024];
    const char *files[] = {"config.yaml", "summary.csv", "summary.md", "summary.json", "errors.svg",
                           "cells/fmnist/clean/0.json", "cells/fmnist/contrast/2.json",
                           "cells/fmnist/impulse_noise/2.json"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/files/%s", tmp, files[i]);
        size_t n;
        char *text = sa_test_read(path, &n);
        if (!text)
            fail_msg("missing %s", path);
        assert_true(n > 10);
        if (strstr(files[i], "cells/"))
            assert_non_null(strstr(text, "\"format\": \"selfadapt-cell/1\""));
        free(text);
    }
    snprintf(path, sizeof path, "%s/files/cells/fmnist/contrast/2.json", tmp);
    char *before = sa_test_read(path, NULL);
    double err_before = sa_table_get(r->table, 1, 2);
    sa_run_result_free(r);

    /* Resume: every cell is reused and the numbers come back the same. */
    o.resume = 1;
    memset(&cnt, 0, sizeof cnt);
    assert_int_equal(sa_run_execute(c, &o, &r, &e), 0);
    assert_int_equal(r->cells_reused, 3);
    assert_int_equal(r->cells_computed, 0);
    assert_true(sa_table_get(r->table, 1, 2) == err_before);
    sa_run_result_free(r);

    /* A stale cell (different config) is recomputed; a deleted one too. */
    c->methods[2].lr = 0.02;
    snprintf(path, sizeof path, "%s/files/cells/fmnist/clean/0.json", tmp);
    remove(path);
    assert_int_equal(sa_run_execute(c, &o, &r, &e), 0);
    assert_int_equal(r->cells_computed, 3);
    sa_run_result_free(r);
    c->methods[2].lr = 0.01;
    remove(path);
    assert_int_equal(sa_run_execute(c, &o, &r, &e), 0);
    assert_int_equal(r->cells_computed, 3);
    snprintf(path, sizeof path, "%s/files/cells/fmnist/contrast/2.json", tmp);
    char *after = sa_test_read(path, NULL);
    assert_string_equal(before, after); /* same config, same bytes */
    free(before);
    free(after);
    sa_run_result_free(r);
    sa_config_free(c);
}

static void test_schedules(void **state)
{
    (void)state;
    if (!sa_test_fmnist_dir())
        skip();
    const char *resets[] = {"cell", "episodic", "continual"};
    double err[3][2];
    for (int k = 0; k < 3; k++) {
        char name[32];
        snprintf(name, sizeof name, "sched-%s", resets[k]);
        sa_config *c = small_config(name);
        c->schedule.epochs = 2;
        c->schedule.final_pass = 1;
        snprintf(c->schedule.reset, sizeof c->schedule.reset, "%s", resets[k]);
        sa_run_options o = sa_run_options_default();
        sa_run_result *r = NULL;
        sa_error e = {0};
        if (sa_run_execute(c, &o, &r, &e) < 0)
            fail_msg("%s", e.msg);
        err[k][0] = sa_table_get(r->table, 0, 2); /* clean: the first cell */
        err[k][1] = sa_table_get(r->table, 1, 2); /* contrast/2 */
        char path[1024];
        snprintf(path, sizeof path, "%s/%s/cells/fmnist/contrast/2.json", tmp, name);
        char *text = sa_test_read(path, NULL);
        assert_non_null(text);
        assert_non_null(strstr(text, "\"final_error\""));
        assert_non_null(strstr(text, "\"online_error\""));
        free(text);
        sa_run_result_free(r);
        sa_config_free(c);
    }
    /* The first cell starts from the source model with cell and continual
     * resets alike; the next one differs because continual carries the
     * adapted state over. */
    assert_true(err[0][0] == err[2][0]);
    assert_true(err[0][1] != err[2][1]);
}

static volatile sig_atomic_t stop_now = 1;

static void test_interrupt_writes_no_partial_cell(void **state)
{
    (void)state;
    if (!sa_test_fmnist_dir())
        skip();
    sa_config *c = small_config("stopped");
    sa_run_options o = sa_run_options_default();
    o.stop = &stop_now;
    sa_run_result *r = NULL;
    sa_error e = {0};
    assert_int_equal(sa_run_execute(c, &o, &r, &e), SA_EINTR);
    assert_null(r);
    char path[1024];
    snprintf(path, sizeof path, "%s/stopped/cells/fmnist/clean/0.json", tmp);
    assert_null(sa_test_read(path, NULL));
    sa_config_free(c);
}

static void test_preflight_errors(void **state)
{
    (void)state;
    if (!sa_test_fmnist_dir())
        skip();
    sa_config *c = small_config("bad");
    snprintf(c->model.path, sizeof c->model.path, "%s/none.pt", tmp);
    sa_run_options o = sa_run_options_default();
    sa_run_result *r = NULL;
    sa_error e = {0};
    assert_true(sa_run_execute(c, &o, &r, &e) < 0);
    assert_err_contains(e, "none.pt");
    assert_err_contains(e, "model.path");
    c->model.num_classes = 12;
    snprintf(c->model.path, sizeof c->model.path, "%s/models/fmnist_resnet20.pt",
             sa_test_source_root());
    assert_true(sa_run_execute(c, &o, &r, &e) < 0);
    assert_err_contains(e, "num_classes");
    char path[1024];
    snprintf(path, sizeof path, "%s/bad", tmp);
    assert_false(sa_fs_exists(path)); /* nothing written */
    sa_config_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan),
        cmocka_unit_test(test_config_hash),
        cmocka_unit_test(test_run_files_and_resume),
        cmocka_unit_test(test_schedules),
        cmocka_unit_test(test_interrupt_writes_no_partial_cell),
        cmocka_unit_test(test_preflight_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
