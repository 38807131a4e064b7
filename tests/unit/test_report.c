/* selfadapt report on hand-made run directories. */
#include <math.h>
#include <sys/stat.h>

#include "cli.h"
#include "metrics.h"
#include "test.h"

static void write_cell(const char *run, const char *split, const char *shift, int severity,
                       const double *errors, const char *const *labels, int n)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/cells/%s/%s", run, split, shift);
    char cmd[2100];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", path);
    assert_int_equal(system(cmd), 0);
    snprintf(path + strlen(path), sizeof path - strlen(path), "/%d.json", severity);
    char text[4096];
    int w = snprintf(text, sizeof text,
                     "{\"format\": \"selfadapt-cell/1\", \"config_hash\": \"0\", \"split\": \"%s\", "
                     "\"shift\": \"%s\", \"severity\": %d, \"methods\": [",
                     split, shift, severity);
    for (int i = 0; i < n; i++)
        w += snprintf(text + w, sizeof text - (size_t)w,
                      "%s{\"label\": \"%s\", \"method\": \"%s\", \"error\": %.6f, "
                      "\"online_images\": 100, \"online_wrong\": 1}",
                      i ? ", " : "", labels[i], labels[i], errors[i]);
    w += snprintf(text + w, sizeof text - (size_t)w, "]}\n");
    sa_test_write(path, text, (size_t)w);
}

static int report(char **args, int n)
{
    return sa_cli_report(n, args);
}

/* ImageNet-C, -R, -A and -D cells for source and rpl; reference.json for rpl.
 * source: gaussian_noise 10..50 (mean 30), every other corruption 0.6 x AlexNet's
 * error on average -> mCE (3000 / 88.6428 + 14 x 60) / 15 = 58.2562.
 * rpl: every cell of corruption c is 0.5 x AlexNet's error -> mCE 50.0000. */
static void test_report_imagenet(void **state)
{
    (void)state;
    char dir[1024], run[1100], out[1100];
    assert_int_equal(sa_test_mkdtemp(dir, sizeof dir), 0);
    snprintf(run, sizeof run, "%s/rn50", dir);
    snprintf(out, sizeof out, "%s/board", dir);
    const char *labels[2] = {"source", "rpl"};
    for (int c = 0; c < SA_MCE_CORRUPTIONS; c++)
        for (int s = 1; s <= 5; s++) {
            const char *name = sa_mce_corruption(c);
            double a = sa_alexnet_error(name);
            double e[2] = {c == 0 ? 10.0 * s : a * (0.4 + 0.1 * (s - 1)), 0.5 * a};
            write_cell(run, "imagenet-c", name, s, e, labels, 2);
        }
    double clean[2] = {23.85, 22.0};
    write_cell(run, "imagenet-c", "clean", 0, clean, labels, 2);
    double r[2] = {63.0, 55.0}, a[2] = {100.0, 96.0};
    write_cell(run, "imagenet-r", "clean", 0, r, labels, 2);
    write_cell(run, "imagenet-a", "clean", 0, a, labels, 2);
    double d1[2] = {70.0, 60.0}, d2[2] = {80.0, 64.0};
    write_cell(run, "imagenet-d", "clipart", 0, d1, labels, 2);
    write_cell(run, "imagenet-d", "sketch", 0, d2, labels, 2);
    char cfg[1200];
    snprintf(cfg, sizeof cfg, "%s/config.yaml", run);
    const char *yaml = "run:\n  name: rn50\nmodel:\n  path: models/resnet50.pt\n  num_classes: 1000\n";
    sa_test_write(cfg, yaml, strlen(yaml));
    snprintf(cfg, sizeof cfg, "%s/reference.json", run);
    const char *ref = "{\"format\": \"selfadapt-reference/1\", \"entries\": [\n"
                      " {\"model\": \"ResNet-50\", \"method\": \"rpl\", \"mCE\": 50.5,\n"
                      "  \"source\": \"Rusak et al., full_results.svg\"}]}\n";
    sa_test_write(cfg, ref, strlen(ref));

    char *args[] = {"report", run, "--out", out};
    assert_int_equal(report(args, 4), 0);

    char path[1200];
    snprintf(path, sizeof path, "%s/leaderboard.csv", out);
    char *csv = sa_test_read(path, NULL);
    assert_non_null(csv);
    double inc_src = 30.0;
    for (int c = 1; c < 15; c++)
        inc_src += 0.6 * sa_alexnet_error(sa_mce_corruption(c));
    inc_src /= 15.0;
    double inc_rpl = 0.0;
    for (int c = 0; c < 15; c++)
        inc_rpl += 0.5 * sa_alexnet_error(sa_mce_corruption(c));
    inc_rpl /= 15.0;
    char want[512];
    assert_non_null(strstr(csv, "model / method,mCE,mCE (paper),IN-C err,IN-R err,IN-A err,IN-D err\n"));
    snprintf(want, sizeof want, "resnet50 / source,58.2562,,%.4f,63.0000,100.0000,75.0000\n", inc_src);
    if (!strstr(csv, want))
        fail_msg("csv:\n%s\nwants:\n%s", csv, want);
    snprintf(want, sizeof want, "resnet50 / rpl,50.0000,50.5000,%.4f,55.0000,96.0000,62.0000\n", inc_rpl);
    if (!strstr(csv, want))
        fail_msg("csv:\n%s\nwants:\n%s", csv, want);
    free(csv);

    snprintf(path, sizeof path, "%s/leaderboard.json", out);
    char *js = sa_test_read(path, NULL);
    assert_non_null(strstr(js, "\"format\": \"selfadapt-leaderboard/1\""));
    assert_non_null(strstr(js, "\"mCE (paper)\": 50.5000"));
    assert_non_null(strstr(js, "\"mCE (paper)\": null"));
    assert_non_null(strstr(js, "Rusak et al."));
    free(js);
    snprintf(path, sizeof path, "%s/leaderboard.md", out);
    char *md = sa_test_read(path, NULL);
    assert_non_null(strstr(md, "| resnet50 / rpl | 50.00 | 50.50 |"));
    free(md);
    snprintf(path, sizeof path, "%s/errors.svg", out);
    char *svg = sa_test_read(path, NULL);
    assert_int_equal(strncmp(svg, "<svg ", 5), 0);
    int rects = 0;
    for (const char *p = svg; (p = strstr(p, "<rect")); p++)
        rects++;
    assert_int_equal(rects, 30); /* 15 corruptions x 2 methods */
    free(svg);

    /* relative mCE on request */
    char *args2[] = {"report", run, "--alexnet-clean", "43.45", "--out", out};
    assert_int_equal(report(args2, 6), 0);
    snprintf(path, sizeof path, "%s/leaderboard.csv", out);
    csv = sa_test_read(path, NULL);
    assert_non_null(strstr(csv, "model / method,mCE,mCE (paper),rel. mCE,IN-C err"));
    free(csv);
    sa_test_rmtree(dir);
}

/* A Fashion-MNIST style run: its mean error over corrupted cells, and clean. */
static void test_report_fmnist(void **state)
{
    (void)state;
    char dir[1024], run[1100], out[1100];
    assert_int_equal(sa_test_mkdtemp(dir, sizeof dir), 0);
    snprintf(run, sizeof run, "%s/demo", dir);
    snprintf(out, sizeof out, "%s/board", dir);
    const char *labels[2] = {"source", "rpl"};
    double clean[2] = {8.0, 8.5}, g3[2] = {30.0, 20.0}, g5[2] = {50.0, 30.0}, c5[2] = {40.0, 25.0};
    write_cell(run, "fmnist", "clean", 0, clean, labels, 2);
    write_cell(run, "fmnist", "gaussian_noise", 3, g3, labels, 2);
    write_cell(run, "fmnist", "gaussian_noise", 5, g5, labels, 2);
    write_cell(run, "fmnist", "contrast", 5, c5, labels, 2);
    char *args[] = {"report", run, "--out", out};
    assert_int_equal(report(args, 4), 0);
    char path[1200];
    snprintf(path, sizeof path, "%s/leaderboard.csv", out);
    char *csv = sa_test_read(path, NULL);
    /* source: (30 + 50 + 40) / 3 = 40; rpl: (20 + 30 + 25) / 3 = 25 */
    const char *want = "model / method,fmnist err,fmnist clean\n"
                       "demo / source,40.0000,8.0000\n"
                       "demo / rpl,25.0000,8.5000\n";
    if (strcmp(csv, want) != 0)
        fail_msg("csv:\n%s\nwants:\n%s", csv, want);
    free(csv);
    sa_test_rmtree(dir);
}

static void test_report_errors(void **state)
{
    (void)state;
    char dir[1024], bad[1100];
    assert_int_equal(sa_test_mkdtemp(dir, sizeof dir), 0);
    char *args[] = {"report", dir};
    assert_int_equal(report(args, 2), 1); /* no cells/ */
    snprintf(bad, sizeof bad, "%s/cells/fmnist/fog", dir);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", bad);
    assert_int_equal(system(cmd), 0);
    strcat(bad, "/5.json");
    sa_test_write(bad, "{\"format\": \"other\"}", 19);
    assert_int_equal(report(args, 2), 1);
    char *none[] = {"report"};
    assert_int_equal(report(none, 1), 2);
    sa_test_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_imagenet),
        cmocka_unit_test(test_report_fmnist),
        cmocka_unit_test(test_report_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
