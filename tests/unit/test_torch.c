/* The torch shim and the adaptation methods, on the shipped source model. */
#include <math.h>

#include "adapt.h"
#include "losses.h"
#include "test.h"
#include "torch.h"

static char model_path[4096];

static int setup(void **state)
{
    (void)state;
    snprintf(model_path, sizeof model_path, "%s/models/fmnist_resnet20.pt", sa_test_source_root());
    sa_torch_set_threads(2);
    return 0;
}

static sa_model *load_model(void)
{
    sa_model *m = NULL;
    sa_error e = {0};
    if (sa_model_load(&m, model_path, SA_DEVICE_CPU, &e) < 0)
        fail_msg("%s", e.msg);
    return m;
}

/* A deterministic batch of n 3x32x32 images in [0,1] with structure. */
static sa_tensor *batch(int n, float noise_scale)
{
    float *x = malloc((size_t)n * 3 * 32 * 32 * sizeof *x);
    uint32_t s = 12345;
    for (int i = 0; i < n * 3 * 32 * 32; i++) {
        s = s * 1664525u + 1013904223u;
        float u = (float)(s >> 8) / 16777216.0f;
        int px = i % 1024, img = i / 3072;
        float base = (float)(((px / 32) * (img + 3) + (px % 32) * (img % 5 + 1)) % 64) / 64.0f;
        float v = base * 0.6f + noise_scale * (u - 0.5f);
        x[i] = v < 0 ? 0 : (v > 1 ? 1 : v);
    }
    int64_t shape[4] = {n, 3, 32, 32};
    sa_tensor *t = NULL;
    sa_error e = {0};
    assert_int_equal(sa_tensor_from_f32(&t, x, shape, 4, SA_DEVICE_CPU, &e), 0);
    free(x);
    return t;
}

static void test_load_errors(void **state)
{
    (void)state;
    sa_model *m = NULL;
    sa_error e = {0};
    assert_true(sa_model_load(&m, "/nonexistent/model.pt", SA_DEVICE_CPU, &e) < 0);
    assert_err_contains(e, "/nonexistent/model.pt");
    char dir[256], path[512];
    assert_int_equal(sa_test_mkdtemp(dir, sizeof dir), 0);
    snprintf(path, sizeof path, "%s/garbage.pt", dir);
    sa_test_write(path, "not a zip archive", 17);
    assert_int_equal(sa_model_load(&m, path, SA_DEVICE_CPU, &e), SA_EFORMAT);
    assert_err_contains(e, "garbage.pt");
    assert_null(m);
    sa_test_rmtree(dir);
    int dev;
    assert_true(sa_torch_parse_device(&dev, "tpu", &e) < 0);
    assert_int_equal(sa_torch_parse_device(&dev, "cpu", &e), 0);
    assert_int_equal(dev, SA_DEVICE_CPU);
    if (sa_torch_cuda_device_count() == 0)
        assert_true(sa_torch_parse_device(&dev, "cuda:0", &e) < 0);
}

static void test_exception_becomes_error(void **state)
{
    (void)state;
    float v[6] = {1, 2, 3, 4, 5, 6};
    int64_t shape[2] = {2, 3};
    sa_tensor *t = NULL, *out = NULL;
    sa_error e = {0};
    assert_int_equal(sa_tensor_from_f32(&t, v, shape, 2, SA_DEVICE_CPU, &e), 0);
    /* libtorch throws c10::IndexError for dim 5 of a 2-d tensor. */
    assert_int_equal(sa_tensor_softmax(&out, t, 5, &e), SA_ETORCH);
    assert_null(out);
    assert_string_equal(e.domain, "torch");
    assert_err_contains(e, "Dimension out of range");
    assert_null(strchr(e.msg, '\n')); /* one line, no C++ backtrace */
    /* Shape mismatch in a binary op. */
    float w[4] = {1, 2, 3, 4};
    int64_t s2[1] = {4};
    sa_tensor *u = NULL;
    assert_int_equal(sa_tensor_from_f32(&u, w, s2, 1, SA_DEVICE_CPU, &e), 0);
    assert_int_equal(sa_tensor_add(&out, t, u, &e), SA_ETORCH);
    /* A model forward on the wrong input shape. */
    sa_model *m = load_model();
    assert_int_equal(sa_model_forward(m, t, 0, &out, &e), SA_ETORCH);
    assert_null(out);
    /* Backward on a tensor that needs no gradient. */
    sa_tensor *s = NULL;
    assert_int_equal(sa_tensor_sum(&s, t, &e), 0);
    assert_true(sa_tensor_backward(s, &e) < 0);
    sa_tensor_free(s);
    sa_model_free(m);
    sa_tensor_free(t);
    sa_tensor_free(u);
}

static void test_vocabulary(void **state)
{
    (void)state;
    const float v[4] = {0.0f, 0.0f, (float)log(3.0), 0.0f};
    int64_t shape[2] = {2, 2};
    sa_tensor *logits = NULL, *p = NULL, *am = NULL, *ent = NULL, *gce = NULL;
    sa_error e = {0};
    assert_int_equal(sa_tensor_from_f32(&logits, v, shape, 2, SA_DEVICE_CPU, &e), 0);
    assert_int_equal(sa_tensor_softmax(&p, logits, 1, &e), 0);
    float pv[4];
    assert_int_equal(sa_tensor_to_f32(p, pv, 4, &e), 0);
    assert_float_equal(pv[0], 0.5, 1e-6);
    assert_float_equal(pv[2], 0.75, 1e-6);
    assert_int_equal(sa_tensor_argmax(&am, logits, 1, &e), 0);
    int64_t amv[2];
    assert_int_equal(sa_tensor_to_i64(am, amv, 2, &e), 0);
    assert_int_equal(amv[0], 0);
    assert_int_equal(amv[1], 0);
    assert_true(sa_tensor_to_i64(am, amv, 1, &e) < 0); /* buffer too small */
    /* Mean entropy of (0.5, 0.5) and (0.75, 0.25). */
    assert_int_equal(sa_loss_entropy(&ent, logits, &e), 0);
    double h;
    assert_int_equal(sa_tensor_item(ent, &h, &e), 0);
    double want = (log(2.0) - (0.75 * log(0.75) + 0.25 * log(0.25))) / 2.0;
    assert_float_equal(h, want, 1e-6);
    /* GCE, q = 0.8, towards the argmax. */
    assert_int_equal(sa_loss_gce(&gce, logits, am, 0.8, &e), 0);
    double g;
    assert_int_equal(sa_tensor_item(gce, &g, &e), 0);
    double gw = ((1 - pow(0.5, 0.8)) / 0.8 + (1 - pow(0.75, 0.8)) / 0.8) / 2.0;
    assert_float_equal(g, gw, 1e-6);
    sa_tensor *bad = NULL;
    assert_true(sa_loss_gce(&bad, logits, am, 0.0, &e) < 0);
    sa_tensor *x = NULL;
    assert_true(sa_tensor_item(logits, &g, &e) < 0); /* not one element */
    sa_tensor_free(x);
    sa_tensor_free(logits);
    sa_tensor_free(p);
    sa_tensor_free(am);
    sa_tensor_free(ent);
    sa_tensor_free(gce);
}

static void test_trainable_sets(void **state)
{
    (void)state;
    sa_model *m = load_model();
    sa_train_info info;
    sa_error e = {0};
    assert_int_equal(sa_model_select_trainable(m, SA_TRAIN_NORM_AFFINE, NULL, &info, &e), 0);
    /* ResNet-20: 19 BatchNorm layers in the main path + 2 in shortcuts. */
    assert_int_equal(info.n_norm_layers, 21);
    assert_int_equal(info.n_tensors, 42);
    assert_int_equal(info.n_elements, 2 * (16 + 6 * 16 + 6 * 32 + 32 + 6 * 64 + 64));
    assert_int_equal(sa_model_select_trainable(m, SA_TRAIN_ALL, NULL, &info, &e), 0);
    assert_true(info.n_elements == info.n_total);
    assert_true(info.n_total > 250000 && info.n_total < 300000);
    assert_int_equal(sa_model_select_trainable(m, SA_TRAIN_LAST_LAYER, NULL, &info, &e), 0);
    assert_int_equal(info.n_tensors, 2);
    assert_int_equal(info.n_elements, 64 * 10 + 10);
    assert_int_equal(sa_model_select_trainable(m, SA_TRAIN_PATTERN, "layers.8.", &info, &e), 0);
    assert_true(info.n_tensors > 0);
    assert_true(sa_model_select_trainable(m, SA_TRAIN_PATTERN, "nonexistent", &info, &e) < 0);
    assert_err_contains(e, "nonexistent");
    sa_model_free(m);
}

static void test_norm_modes_keep_stored_statistics(void **state)
{
    (void)state;
    sa_model *m = load_model();
    sa_error e = {0};
    sa_state *s0 = NULL;
    assert_int_equal(sa_model_state_save(m, &s0, &e), 0);
    sa_tensor *x = batch(16, 0.8f), *y_src = NULL, *y_bn = NULL, *y_src2 = NULL;
    assert_int_equal(sa_model_forward(m, x, 0, &y_src, &e), 0);
    assert_int_equal(sa_tensor_dim_size(y_src, 0), 16);
    assert_int_equal(sa_tensor_dim_size(y_src, 1), 10);
    assert_int_equal(sa_model_set_norm_mode(m, SA_NORM_BATCH, &e), 0);
    assert_int_equal(sa_model_forward(m, x, 0, &y_bn, &e), 0);
    sa_state_diff d;
    assert_int_equal(sa_model_state_diff(m, s0, &d, &e), 0);
    assert_int_equal(d.params_changed, 0);
    assert_int_equal(d.buffers_changed, 0); /* running stats restored */
    assert_int_equal(sa_model_set_norm_mode(m, SA_NORM_SOURCE, &e), 0);
    assert_int_equal(sa_model_forward(m, x, 0, &y_src2, &e), 0);
    float a[160], b[160], c[160];
    sa_tensor_to_f32(y_src, a, 160, &e);
    sa_tensor_to_f32(y_bn, b, 160, &e);
    sa_tensor_to_f32(y_src2, c, 160, &e);
    assert_memory_equal(a, c, sizeof a);
    double diff = 0;
    for (int i = 0; i < 160; i++)
        diff += fabs(a[i] - b[i]);
    assert_true(diff > 1e-3); /* batch statistics change the output */
    sa_tensor_free(x);
    sa_tensor_free(y_src);
    sa_tensor_free(y_bn);
    sa_tensor_free(y_src2);
    sa_state_free(s0);
    sa_model_free(m);
}

static void test_methods_update_only_selected(void **state)
{
    (void)state;
    const char *kinds[] = {"source", "bn", "ent", "rpl"};
    sa_tensor *x = batch(32, 0.8f);
    int64_t first_pred[4][32];
    for (int k = 0; k < 4; k++) {
        sa_model *m = load_model();
        sa_error e = {0};
        sa_state *s0 = NULL;
        assert_int_equal(sa_model_state_save(m, &s0, &e), 0);
        sa_method_options o = sa_method_options_default(kinds[k]);
        o.sgd.lr = 0.01;
        sa_method *meth = NULL;
        if (sa_method_new(&meth, &o, m, &e) < 0)
            fail_msg("%s", e.msg);
        int64_t pred[32];
        sa_step_stats st;
        for (int step = 0; step < 2; step++) {
            if (sa_method_step(meth, x, pred, 32, &st, &e) < 0)
                fail_msg("%s", e.msg);
            if (step == 0)
                memcpy(first_pred[k], pred, sizeof pred);
        }
        sa_state_diff d;
        assert_int_equal(sa_model_state_diff(m, s0, &d, &e), 0);
        assert_int_equal(d.buffers_changed, 0);
        assert_int_equal(d.params_changed, d.trainable_changed); /* nothing frozen moved */
        if (sa_method_learns(kinds[k])) {
            assert_int_equal(st.updated, 1);
            assert_true(st.loss > 0);
            assert_int_equal(d.trainable_changed, 42);
        } else {
            assert_int_equal(d.params_changed, 0);
        }
        /* Reset restores the source model exactly. */
        assert_int_equal(sa_method_reset(meth, &e), 0);
        assert_int_equal(sa_model_state_diff(m, s0, &d, &e), 0);
        assert_int_equal(d.params_changed + d.buffers_changed, 0);
        assert_int_equal(sa_method_step(meth, x, pred, 32, &st, &e), 0);
        assert_memory_equal(pred, first_pred[k], sizeof pred);
        sa_method_free(meth);
        sa_state_free(s0);
        sa_model_free(m);
    }
    /* Predictions of the first batch are made before any update: the
     * methods that share test-batch statistics agree on them. */
    assert_memory_equal(first_pred[1], first_pred[2], sizeof first_pred[1]);
    assert_memory_equal(first_pred[1], first_pred[3], sizeof first_pred[1]);
    sa_tensor_free(x);
}

static void test_nan_loss_stops_before_update(void **state)
{
    (void)state;
    sa_model *m = load_model();
    sa_error e = {0};
    sa_state *s0 = NULL;
    assert_int_equal(sa_model_state_save(m, &s0, &e), 0);
    sa_method_options o = sa_method_options_default("rpl");
    sa_method *meth = NULL;
    assert_int_equal(sa_method_new(&meth, &o, m, &e), 0);
    float *v = calloc(4 * 3 * 32 * 32, sizeof *v);
    v[5] = NAN;
    int64_t shape[4] = {4, 3, 32, 32};
    sa_tensor *x = NULL;
    assert_int_equal(sa_tensor_from_f32(&x, v, shape, 4, SA_DEVICE_CPU, &e), 0);
    int64_t pred[4];
    assert_int_equal(sa_method_step(meth, x, pred, 4, NULL, &e), SA_ENUM);
    assert_err_contains(e, "nan");
    sa_state_diff d;
    assert_int_equal(sa_model_state_diff(m, s0, &d, &e), 0);
    assert_int_equal(d.params_changed, 0);
    free(v);
    sa_tensor_free(x);
    sa_method_free(meth);
    sa_state_free(s0);
    sa_model_free(m);
}

static void test_bad_method_options(void **state)
{
    (void)state;
    sa_model *m = load_model();
    sa_error e = {0};
    sa_method *meth = NULL;
    sa_method_options o = sa_method_options_default("tent2");
    assert_true(sa_method_new(&meth, &o, m, &e) < 0);
    assert_err_contains(e, "tent2");
    assert_err_contains(e, "rpl");
    o = sa_method_options_default("ent");
    o.sgd.lr = 0;
    assert_true(sa_method_new(&meth, &o, m, &e) < 0);
    assert_err_contains(e, "learning rate");
    assert_null(meth);
    sa_model_free(m);
}

static void test_clone_is_independent(void **state)
{
    (void)state;
    sa_model *m = load_model(), *c = NULL;
    sa_error e = {0};
    assert_int_equal(sa_model_select_trainable(m, SA_TRAIN_NORM_AFFINE, NULL, NULL, &e), 0);
    if (sa_model_clone(&c, m, &e) < 0)
        fail_msg("%s", e.msg);
    sa_state *s0 = NULL;
    assert_int_equal(sa_model_state_save(m, &s0, &e), 0);
    sa_method_options o = sa_method_options_default("ent");
    o.sgd.lr = 0.05;
    sa_method *meth = NULL;
    if (sa_method_new(&meth, &o, c, &e) < 0)
        fail_msg("%s", e.msg);
    sa_tensor *x = batch(8, 0.5f);
    int64_t pred[8];
    if (sa_method_step(meth, x, pred, 8, NULL, &e) < 0)
        fail_msg("%s", e.msg);
    sa_state_diff d;
    assert_int_equal(sa_model_state_diff(m, s0, &d, &e), 0);
    assert_int_equal(d.params_changed, 0); /* the original did not move */
    assert_int_equal(sa_model_state_diff(c, s0, &d, &e), 0);
    assert_true(d.params_changed > 0);
    sa_tensor_free(x);
    sa_method_free(meth);
    sa_state_free(s0);
    sa_model_free(c);
    sa_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_exception_becomes_error),
        cmocka_unit_test(test_vocabulary),
        cmocka_unit_test(test_trainable_sets),
        cmocka_unit_test(test_norm_modes_keep_stored_statistics),
        cmocka_unit_test(test_methods_update_only_selected),
        cmocka_unit_test(test_nan_loss_stops_before_update),
        cmocka_unit_test(test_bad_method_options),
        cmocka_unit_test(test_clone_is_independent),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
