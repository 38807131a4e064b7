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

/* Freed tensor memory of 1 MiB and more is handed out again: blocks of
 * several sizes circulate while others are alive, and every tensor keeps its
 * own contents; an empty tensor and a small one take the other path. */
static void test_reused_tensor_memory(void **state)
{
    (void)state;
    sa_error e = {0};
    assert_int_equal(sa_torch_reuse_memory(&e), 0);
    assert_int_equal(sa_torch_reuse_memory(&e), 0); /* a second call changes nothing */
    sa_model *m = load_model();
    enum { ALIVE = 3, ROUNDS = 24 };
    static const int64_t sizes[] = {(1 << 18) + 5, 3 << 18, 1 << 20, 0, 17, 1 << 18};
    const int n_sizes = (int)(sizeof sizes / sizeof sizes[0]);
    sa_tensor *live[ALIVE] = {NULL};
    int64_t live_n[ALIVE] = {0};
    int live_seed[ALIVE] = {0};
    float *buf = malloc((size_t)(1 << 20) * sizeof *buf);
    assert_non_null(buf);
    for (int r = 0; r < ROUNDS; r++) {
        int slot = r % ALIVE;
        sa_tensor_free(live[slot]);
        int64_t n = sizes[(r * 5) % n_sizes];
        for (int64_t i = 0; i < n; i++)
            buf[i] = (float)((i * 7 + r) % 1009);
        assert_int_equal(sa_tensor_from_f32(&live[slot], buf, &n, 1, SA_DEVICE_CPU, &e), 0);
        live_n[slot] = n;
        live_seed[slot] = r;
        for (int k = 0; k < ALIVE; k++) {
            if (!live[k])
                continue;
            assert_int_equal(sa_tensor_numel(live[k]), live_n[k]);
            assert_int_equal(sa_tensor_to_f32(live[k], buf, (size_t)1 << 20, &e), 0);
            for (int64_t i = 0; i < live_n[k]; i++)
                if (buf[i] != (float)((i * 7 + live_seed[k]) % 1009))
                    fail_msg("round %d: tensor %d element %lld changed", r, k, (long long)i);
        }
    }
    for (int k = 0; k < ALIVE; k++)
        sa_tensor_free(live[k]);
    free(buf);
    sa_model_free(m);
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
    assert_int_equal(sa_model_set_norm_mode(m, SA_NORM_BATCH, 0.0, &e), 0);
    assert_int_equal(sa_model_forward(m, x, 0, &y_bn, &e), 0);
    sa_state_diff d;
    assert_int_equal(sa_model_state_diff(m, s0, &d, &e), 0);
    assert_int_equal(d.params_changed, 0);
    assert_int_equal(d.buffers_changed, 0); /* running stats restored */
    assert_int_equal(sa_model_set_norm_mode(m, SA_NORM_SOURCE, 0.0, &e), 0);
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
    const char *kinds[] = {"source", "bn", "ent", "rpl", "hard_pl", "soft_pl", "bn_alpha", "bn_ema"};
    sa_tensor *x = batch(32, 0.8f);
    int64_t first_pred[8][32];
    for (int k = 0; k < 8; k++) {
        sa_model *m = load_model();
        sa_error e = {0};
        sa_state *s0 = NULL;
        assert_int_equal(sa_model_state_save(m, &s0, &e), 0);
        sa_method_options o = sa_method_options_default(kinds[k]);
        o.optim.lr = 0.01;
        /* soft_pl towards its own softmax at T = 1 has a zero gradient. */
        o.temperature = 0.5;
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
        if (strcmp(kinds[k], "bn_ema") == 0)
            assert_int_equal(d.buffers_changed, 3 * 21); /* mean, var, count of 21 layers */
        else
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
    for (int k = 2; k < 6; k++)
        assert_memory_equal(first_pred[1], first_pred[k], sizeof first_pred[1]);
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
    o.optim.lr = 0;
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
    o.optim.lr = 0.05;
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

static void logits_of(sa_model *m, const sa_tensor *x, float *out, size_t n)
{
    sa_tensor *y = NULL;
    sa_error e = {0};
    if (sa_model_forward(m, x, 0, &y, &e) < 0)
        fail_msg("%s", e.msg);
    assert_int_equal(sa_tensor_to_f32(y, out, n, &e), 0);
    sa_tensor_free(y);
}

static double max_abs_diff(const float *a, const float *b, size_t n)
{
    double d = 0;
    for (size_t i = 0; i < n; i++)
        d = fmax(d, fabs((double)a[i] - b[i]));
    return d;
}

/* MIX with alpha = 1 is the source model, alpha = 0 the test-batch one
 * (up to the unbiased-variance factor n / (n - 1) and float rounding). */
static void test_norm_mix_and_ema(void **state)
{
    (void)state;
    sa_model *m = load_model();
    sa_error e = {0};
    sa_tensor *x = batch(64, 0.8f);
    float src[640], bn[640], mix1[640], mix0[640], mixh[640];
    logits_of(m, x, src, 640);
    assert_int_equal(sa_model_set_norm_mode(m, SA_NORM_BATCH, 0.0, &e), 0);
    logits_of(m, x, bn, 640);
    assert_int_equal(sa_model_set_norm_mode(m, SA_NORM_MIX, 1.0, &e), 0);
    logits_of(m, x, mix1, 640);
    assert_int_equal(sa_model_set_norm_mode(m, SA_NORM_MIX, 0.0, &e), 0);
    logits_of(m, x, mix0, 640);
    assert_int_equal(sa_model_set_norm_mode(m, SA_NORM_MIX, 0.5, &e), 0);
    logits_of(m, x, mixh, 640);
    double d_src = max_abs_diff(src, bn, 640);
    assert_true(d_src > 0.1);
    assert_true(max_abs_diff(mix1, src, 640) < 1e-3 * (1 + d_src));
    assert_true(max_abs_diff(mix0, bn, 640) < 0.05 * d_src);
    assert_true(max_abs_diff(mixh, src, 640) > 0.05 * d_src);
    assert_true(max_abs_diff(mixh, bn, 640) > 0.05 * d_src);
    assert_true(sa_model_set_norm_mode(m, SA_NORM_MIX, 1.5, &e) < 0);
    /* EMA: the stored statistics move towards the batch with every call. */
    sa_state *s0 = NULL;
    assert_int_equal(sa_model_state_save(m, &s0, &e), 0);
    assert_int_equal(sa_model_set_norm_mode(m, SA_NORM_EMA, 0.0, &e), 0);
    float ema1[640], ema2[640];
    logits_of(m, x, ema1, 640);
    logits_of(m, x, ema2, 640);
    sa_state_diff d;
    assert_int_equal(sa_model_state_diff(m, s0, &d, &e), 0);
    assert_int_equal(d.params_changed, 0);
    assert_true(d.buffers_changed > 0);
    assert_true(max_abs_diff(ema1, src, 640) > 1e-4);
    assert_true(max_abs_diff(ema2, bn, 640) < max_abs_diff(ema1, bn, 640));
    sa_state_free(s0);
    sa_tensor_free(x);
    sa_model_free(m);
}

static void test_teacher_schedules(void **state)
{
    (void)state;
    const sa_teacher_mode modes[] = {SA_TEACHER_STEP, SA_TEACHER_EVERY, SA_TEACHER_EPOCH,
                                     SA_TEACHER_EMA};
    sa_tensor *x = batch(32, 0.8f);
    int64_t pred[32], second[4][32];
    for (int k = 0; k < 4; k++) {
        sa_model *m = load_model();
        sa_error e = {0};
        sa_method_options o = sa_method_options_default("hard_pl");
        o.optim.lr = 0.05;
        o.teacher = modes[k];
        o.teacher_every = 2;
        o.teacher_momentum = 0.5;
        sa_method *meth = NULL;
        if (sa_method_new(&meth, &o, m, &e) < 0)
            fail_msg("%s", e.msg);
        for (int step = 0; step < 3; step++)
            if (sa_method_step(meth, x, step == 1 ? second[k] : pred, 32, NULL, &e) < 0)
                fail_msg("%s", e.msg);
        assert_int_equal(sa_method_epoch_end(meth, &e), 0);
        assert_int_equal(sa_method_predict(meth, x, pred, 32, &e), 0);
        sa_method_free(meth);
        sa_model_free(m);
    }
    /* Same first update for every schedule (the teacher starts as the
     * student), so the second batch's predictions agree. */
    for (int k = 1; k < 4; k++)
        assert_memory_equal(second[0], second[k], sizeof second[0]);
    sa_error e = {0};
    sa_teacher_mode tm;
    assert_true(sa_teacher_mode_parse(&tm, "weekly", &e) < 0);
    assert_err_contains(e, "weekly");
    sa_tensor_free(x);
}

static void test_pseudo_label_losses(void **state)
{
    (void)state;
    /* Student logits: (0, 0) and (ln 3, 0); teacher: class 1 then class 0. */
    const float sv[4] = {0.0f, 0.0f, (float)log(3.0), 0.0f};
    const float tv[4] = {0.0f, 1.0f, 2.0f, 0.0f};
    int64_t shape[2] = {2, 2};
    sa_tensor *s = NULL, *t = NULL, *target = NULL, *probs = NULL, *l1 = NULL, *l2 = NULL;
    sa_error e = {0};
    assert_int_equal(sa_tensor_from_f32(&s, sv, shape, 2, SA_DEVICE_CPU, &e), 0);
    assert_int_equal(sa_tensor_from_f32(&t, tv, shape, 2, SA_DEVICE_CPU, &e), 0);
    assert_int_equal(sa_tensor_argmax(&target, t, 1, &e), 0);
    assert_int_equal(sa_loss_ce_hard(&l1, s, target, &e), 0);
    double v;
    assert_int_equal(sa_tensor_item(l1, &v, &e), 0);
    assert_float_equal(v, (-log(0.5) - log(0.75)) / 2, 1e-6);
    assert_int_equal(sa_tensor_softmax(&probs, t, 1, &e), 0);
    assert_int_equal(sa_loss_ce_soft(&l2, s, probs, &e), 0);
    assert_int_equal(sa_tensor_item(l2, &v, &e), 0);
    double q0 = 1 / (1 + exp(1.0)), q1 = 1 / (1 + exp(-2.0));
    double want = (-(q0 * log(0.5) + (1 - q0) * log(0.5)) - (q1 * log(0.75) + (1 - q1) * log(0.25))) / 2;
    assert_float_equal(v, want, 1e-6);
    sa_tensor_free(s);
    sa_tensor_free(t);
    sa_tensor_free(target);
    sa_tensor_free(probs);
    sa_tensor_free(l1);
    sa_tensor_free(l2);
}

static void test_optimisers(void **state)
{
    (void)state;
    const sa_optim_kind kinds[] = {SA_OPTIM_SGD, SA_OPTIM_ADAM, SA_OPTIM_ADAMW};
    sa_tensor *x = batch(16, 0.6f);
    for (int k = 0; k < 3; k++) {
        sa_model *m = load_model();
        sa_error e = {0};
        sa_state *s0 = NULL;
        assert_int_equal(sa_model_state_save(m, &s0, &e), 0);
        sa_method_options o = sa_method_options_default("ent");
        o.optim = sa_optim_options_default(kinds[k]);
        sa_method *meth = NULL;
        if (sa_method_new(&meth, &o, m, &e) < 0)
            fail_msg("%s", e.msg);
        int64_t pred[16];
        assert_int_equal(sa_method_step(meth, x, pred, 16, NULL, &e), 0);
        sa_state_diff d;
        assert_int_equal(sa_model_state_diff(m, s0, &d, &e), 0);
        assert_int_equal(d.trainable_changed, 42);
        assert_int_equal(d.params_changed, 42);
        sa_method_free(meth);
        sa_state_free(s0);
        sa_model_free(m);
    }
    sa_optim_kind kind;
    sa_error e = {0};
    assert_true(sa_optim_kind_parse(&kind, "lion", &e) < 0);
    assert_err_contains(e, "adamw");
    sa_tensor_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_exception_becomes_error),
        cmocka_unit_test(test_vocabulary),
        cmocka_unit_test(test_reused_tensor_memory),
        cmocka_unit_test(test_trainable_sets),
        cmocka_unit_test(test_norm_modes_keep_stored_statistics),
        cmocka_unit_test(test_methods_update_only_selected),
        cmocka_unit_test(test_nan_loss_stops_before_update),
        cmocka_unit_test(test_bad_method_options),
        cmocka_unit_test(test_clone_is_independent),
        cmocka_unit_test(test_norm_mix_and_ema),
        cmocka_unit_test(test_teacher_schedules),
        cmocka_unit_test(test_pseudo_label_losses),
        cmocka_unit_test(test_optimisers),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
