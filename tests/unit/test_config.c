#include <math.h>
#include "config.h"
#include "test.h"

static int check_method(const char *name, sa_error *err)
{
    const char *ok[] = {"source", "bn", "ent", "rpl", "soft_pl"};
    for (int i = 0; i < 5; i++)
        if (strcmp(name, ok[i]) == 0)
            return 0;
    return sa_error_set(err, SA_EINVAL, "adapt", "unknown method '%s' (expected one of: source, bn, ent, rpl)", name);
}

static int check_corruption(const char *name, sa_error *err)
{
    if (strcmp(name, "gaussian_noise") == 0 || strcmp(name, "contrast") == 0)
        return 0;
    return sa_error_set(err, SA_EINVAL, "corrupt", "unknown corruption '%s'", name);
}

static const sa_config_hooks hooks = {check_method, check_corruption, NULL, NULL};

static int load(sa_config **c, const char *text, sa_error *e)
{
    *c = NULL;
    return sa_config_load_string(c, text, strlen(text), "t.yaml", &hooks, e);
}

static const char *good =
    "run: {name: x, seed: 7}\n"
    "model:\n"
    "  path: m.pt\n"
    "data:\n"
    "  limit: 500\n"
    "  shuffle: no\n"
    "shift:\n"
    "  corruptions: [gaussian_noise, contrast]\n"
    "  severities: [5, 3]\n"
    "methods:\n"
    "  - source\n"
    "  - name: rpl\n"
    "    q: 0.5\n"
    "    optimizer: {lr: 0.01, nesterov: true}\n"
    "  - name: rpl\n"
    "    label: rpl-q08\n"
    "  - name: soft_pl\n"
    "    temperature: 2\n"
    "    teacher: {refresh: ema, momentum: 0.99}\n"
    "    optimizer: {name: adamw, lr: 0.0001, beta2: 0.99, weight_decay: 0.01}\n"
    "schedule: {epochs: 3, reset: continual, final_pass: true, on_nonfinite: reset}\n";

static void test_load_good_and_defaults(void **state)
{
    (void)state;
    sa_config *c;
    sa_error e = {0};
    if (load(&c, good, &e) < 0)
        fail_msg("%s", e.msg);
    assert_string_equal(c->run.name, "x");
    assert_true(c->run.seed == 7);
    assert_string_equal(c->run.output, "results");
    assert_string_equal(c->model.path, "m.pt");
    assert_int_equal(c->model.num_classes, 10);
    assert_int_equal(c->data.limit, 500);
    assert_int_equal(c->data.shuffle, 0);
    assert_int_equal(c->data.batch_size, 128);
    assert_int_equal(c->shift.n_corruptions, 2);
    assert_int_equal(c->shift.n_severities, 2);
    assert_int_equal(c->shift.severities[0], 5);
    assert_int_equal(c->n_methods, 4);
    assert_true(c->methods[3].temperature == 2.0);
    assert_string_equal(c->methods[3].teacher, "ema");
    assert_true(c->methods[3].teacher_momentum == 0.99);
    assert_string_equal(c->methods[3].optimizer, "adamw");
    assert_true(c->methods[3].beta2 == 0.99);
    assert_true(c->methods[3].beta1 == 0.9);
    assert_string_equal(c->methods[1].teacher, "step");
    assert_int_equal(c->schedule.epochs, 3);
    assert_string_equal(c->schedule.reset, "continual");
    assert_int_equal(c->schedule.final_pass, 1);
    assert_string_equal(c->schedule.on_nonfinite, "reset");
    assert_string_equal(c->methods[0].name, "source");
    assert_string_equal(c->methods[0].label, "source");
    assert_true(c->methods[1].q == 0.5);
    assert_true(c->methods[1].lr == 0.01);
    assert_int_equal(c->methods[1].nesterov, 1);
    assert_true(c->methods[1].momentum == 0.9);
    assert_true(c->methods[2].q == 0.8);
    assert_string_equal(c->methods[2].label, "rpl-q08");
    assert_int_equal(c->methods[1].name_mark.line, 12);
    sa_config_free(c);
}

static void test_dump_roundtrip(void **state)
{
    (void)state;
    sa_config *c, *d;
    sa_error e = {0};
    assert_int_equal(load(&c, good, &e), 0);
    sa_strbuf b = {0};
    sa_config_dump(c, &b);
    if (load(&d, b.data, &e) < 0)
        fail_msg("%s\n%s", e.msg, b.data);
    sa_strbuf b2 = {0};
    sa_config_dump(d, &b2);
    assert_string_equal(b.data, b2.data);
    sa_strbuf_free(&b);
    sa_strbuf_free(&b2);
    sa_config_free(c);
    sa_config_free(d);
}

static void test_reference_section(void **state)
{
    (void)state;
    const char *yaml = "model: {path: m.pt}\n"
                       "methods:\n"
                       "  - source\n"
                       "  - name: rpl\n"
                       "    reference: {mCE: 50.5, imagenet_r: 17.4}\n"
                       "reference: {model: ResNet-50, source: \"Rusak et al.\"}\n";
    sa_config *c, *d;
    sa_error e = {0};
    if (load(&c, yaml, &e) < 0)
        fail_msg("%s", e.msg);
    assert_string_equal(c->reference.model, "ResNet-50");
    assert_string_equal(c->reference.source, "Rusak et al.");
    assert_true(isnan(c->methods[0].reference[0]));
    assert_true(c->methods[1].reference[0] == 50.5);
    assert_true(c->methods[1].reference[3] == 17.4);
    assert_true(isnan(c->methods[1].reference[4]));
    assert_string_equal(sa_config_reference_keys[3], "imagenet_r");
    sa_strbuf b = {0};
    sa_config_dump(c, &b);
    assert_non_null(strstr(b.data, "    reference:\n      mCE: 50.5\n"));
    if (load(&d, b.data, &e) < 0)
        fail_msg("%s\n%s", e.msg, b.data);
    assert_true(d->methods[1].reference[3] == 17.4);
    assert_string_equal(d->reference.model, "ResNet-50");
    sa_strbuf_free(&b);
    sa_config_free(d);
    sa_config_free(c);
    const char *bad = "model: {path: m.pt}\nmethods:\n  - name: rpl\n    reference: {mce: 50}\n";
    assert_true(load(&d, bad, &e) < 0);
    assert_err_contains(e, "methods[0].reference.mce");
    assert_err_contains(e, "t.yaml:4");
}

typedef struct bad_case {
    const char *yaml;
    const char *want[3];
} bad_case;

static void test_errors_name_line_and_key(void **state)
{
    (void)state;
    const bad_case cases[] = {
        {"model: {path: m.pt}\nmethods: [source]\ndata:\n  limt: 5\n", {"t.yaml:4:3", "data.limt", "unknown key"}},
        {"model: {path: m.pt}\nmethods: [source]\ndata:\n  limit: many\n", {"t.yaml:4:10", "data.limit", "integer"}},
        {"model: {path: m.pt}\nmethods: [source]\ndata:\n  batch_size: 0\n", {"t.yaml:4:15", "data.batch_size", "out of range"}},
        {"model: {path: m.pt}\nmethods:\n  - name: sorce\n", {"t.yaml:3:11", "methods[0].name", "unknown method 'sorce'"}},
        {"model: {path: m.pt}\nmethods: [source]\nshift: {corruptions: [fog]}\n", {"t.yaml:3:23", "shift.corruptions[0]", "fog"}},
        {"model: {path: m.pt}\nmethods: [source]\nshift: {severities: [6]}\n", {"t.yaml:3:22", "severities[0]", "1..5"}},
        {"model: {path: m.pt}\nmethods: [source]\nmodel: {path: n.pt}\n", {"t.yaml:3:1", "model", "duplicate"}},
        {"model: {path: m.pt}\nmethods: [source]\nextra: 1\n", {"t.yaml:3:1", "extra", "unknown section"}},
        {"model: {path: m.pt}\nmethods: [source, source]\n", {"t.yaml:2:19", "methods[1]", "label 'source' is used twice"}},
        {"model: {path: m.pt}\nmethods:\n  - name: rpl\n    q: 1.5\n", {"t.yaml:4:8", "methods[0].q", "out of range"}},
        {"model: {path: m.pt}\nmethods:\n  - name: rpl\n    optimizer: {nme: sgd}\n", {"t.yaml:4:17", "optimizer.nme", "unknown key"}},
        {"model: {path: m.pt}\nmethods: [source]\ndata: {shuffle: maybe}\n", {"t.yaml:3:17", "data.shuffle", "true or false"}},
        {"methods: [source]\n", {"t.yaml", "model.path", "missing"}},
        {"model: {path: m.pt}\nmethods:\n  - name: rpl\n    teacher: {refresh: weekly}\n", {"t.yaml:4:24", "teacher.refresh", "ema"}},
        {"model: {path: m.pt}\nmethods:\n  - name: rpl\n    optimizer: {name: lion}\n", {"t.yaml:4:23", "optimizer.name", "adamw"}},
        {"model: {path: m.pt}\nmethods: [rpl]\nschedule: {reset: sometimes}\n", {"t.yaml:3:19", "schedule.reset", "episodic"}},
        {"model: {path: m.pt}\nmethods: [rpl]\nschedule: {epochs: 0}\n", {"t.yaml:3:20", "schedule.epochs", "out of range"}},
        {"model: {path: m.pt}\n", {"t.yaml", "methods", "missing"}},
        {"model: {path: m.pt\nmethods: [source]\n", {"t.yaml:", "malformed YAML", ""}},
        {"- a\n- b\n", {"t.yaml:1:1", "mapping", ""}},
        {"", {"t.yaml", "empty", ""}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sa_config *c = NULL;
        sa_error e = {0};
        if (load(&c, cases[i].yaml, &e) == 0)
            fail_msg("case %zu loaded but should fail:\n%s", i, cases[i].yaml);
        assert_null(c);
        for (int k = 0; k < 3; k++)
            if (cases[i].want[k] && !strstr(e.msg, cases[i].want[k]))
                fail_msg("case %zu: '%s' lacks '%s'", i, e.msg, cases[i].want[k]);
    }
}

static void test_set_override(void **state)
{
    (void)state;
    sa_config *c;
    sa_error e = {0};
    assert_int_equal(load(&c, good, &e), 0);
    assert_int_equal(sa_config_set(c, "data.limit=64", &hooks, &e), 0);
    assert_int_equal(c->data.limit, 64);
    assert_int_equal(sa_config_set(c, "run.output=/tmp/x", &hooks, &e), 0);
    assert_string_equal(c->run.output, "/tmp/x");
    assert_string_equal(c->model.path, "m.pt"); /* untouched */
    assert_true(sa_config_set(c, "data.limit=-1", &hooks, &e) < 0);
    assert_err_contains(e, "data.limit");
    assert_true(sa_config_set(c, "nodot=1", &hooks, &e) < 0);
    assert_true(sa_config_set(c, "data.nokey=1", &hooks, &e) < 0);
    assert_err_contains(e, "data.nokey");
    sa_config_free(c);
}

static void test_missing_file(void **state)
{
    (void)state;
    sa_config *c = NULL;
    sa_error e = {0};
    assert_true(sa_config_load(&c, "/nonexistent/run.yaml", &hooks, &e) < 0);
    assert_err_contains(e, "/nonexistent/run.yaml");
    assert_null(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_good_and_defaults), cmocka_unit_test(test_dump_roundtrip),
        cmocka_unit_test(test_errors_name_line_and_key), cmocka_unit_test(test_set_override),
        cmocka_unit_test(test_missing_file), cmocka_unit_test(test_reference_section),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
