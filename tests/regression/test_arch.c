/* Every method on a real ImageNet architecture (exported with random
 * weights by tools/export_model.py): two steps at 224x224, and only the
 * selected parameters (and, for bn_ema, the running statistics) move.
 * usage: test_arch MODEL.pt [MODEL_WITHOUT_NORM.pt] */
#include <math.h>

#include "adapt.h"
#include "test.h"
#include "torch.h"

static const char *model_path, *plain_path;

static sa_tensor *random_batch(int n, int size)
{
    size_t count = (size_t)n * 3 * (size_t)size * (size_t)size;
    float *x = malloc(count * sizeof *x);
    uint32_t s = 7;
    for (size_t i = 0; i < count; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = (float)(s >> 8) / 16777216.0f;
    }
    int64_t shape[4] = {n, 3, size, size};
    sa_tensor *t = NULL;
    sa_error e = {0};
    assert_int_equal(sa_tensor_from_f32(&t, x, shape, 4, SA_DEVICE_CPU, &e), 0);
    free(x);
    return t;
}

static void test_every_method_moves_only_selected(void **state)
{
    (void)state;
    sa_error e = {0};
    sa_model *m = NULL;
    if (sa_model_load(&m, model_path, SA_DEVICE_CPU, &e) < 0)
        fail_msg("%s", e.msg);
    sa_train_info info;
    assert_int_equal(sa_model_select_trainable(m, SA_TRAIN_NORM_AFFINE, NULL, &info, &e), 0);
    print_message("%s: %d normalisation layers, %lld of %lld parameters in their affine terms\n",
                  model_path, info.n_norm_layers, (long long)info.n_elements,
                  (long long)info.n_total);
    const int n_affine = info.n_tensors;
    assert_true(n_affine > 0);
    sa_state *s0 = NULL;
    assert_int_equal(sa_model_state_save(m, &s0, &e), 0);
    sa_tensor *x = random_batch(4, 224);
    for (const char *const *kind = sa_method_names(); *kind; kind++) {
        sa_method_options o = sa_method_options_default(*kind);
        o.optim.lr = 0.01;
        o.temperature = 0.5;
        if (strcmp(*kind, "hard_pl") == 0)
            o.teacher = SA_TEACHER_EMA; /* a separate teacher model too */
        sa_method *meth = NULL;
        if (sa_method_new(&meth, &o, m, &e) < 0)
            fail_msg("%s", e.msg);
        int64_t pred[4];
        for (int step = 0; step < 2; step++)
            if (sa_method_step(meth, x, pred, 4, NULL, &e) < 0)
                fail_msg("%s: %s", *kind, e.msg);
        for (int i = 0; i < 4; i++)
            assert_true(pred[i] >= 0 && pred[i] < 1000);
        sa_state_diff d;
        assert_int_equal(sa_model_state_diff(m, s0, &d, &e), 0);
        print_message("%-8s params changed %d (trainable %d), buffers changed %d\n", *kind,
                      d.params_changed, d.trainable_changed, d.buffers_changed);
        assert_int_equal(d.params_changed, d.trainable_changed);
        if (sa_method_learns(*kind))
            assert_int_equal(d.trainable_changed, n_affine);
        else
            assert_int_equal(d.params_changed, 0);
        if (strcmp(*kind, "bn_ema") == 0)
            assert_true(d.buffers_changed > 0);
        else
            assert_int_equal(d.buffers_changed, 0);
        assert_int_equal(sa_method_reset(meth, &e), 0);
        assert_int_equal(sa_model_state_diff(m, s0, &d, &e), 0);
        assert_int_equal(d.params_changed + d.buffers_changed, 0);
        sa_method_free(meth);
    }
    sa_tensor_free(x);
    sa_state_free(s0);
    sa_model_free(m);
}

static void test_model_without_norm_layers(void **state)
{
    (void)state;
    if (!plain_path)
        skip();
    sa_error e = {0};
    sa_model *m = NULL;
    if (sa_model_load(&m, plain_path, SA_DEVICE_CPU, &e) < 0)
        fail_msg("%s", e.msg);
    const char *kinds[] = {"ent", "bn", "rpl"};
    for (int k = 0; k < 3; k++) {
        sa_method_options o = sa_method_options_default(kinds[k]);
        sa_method *meth = NULL;
        assert_true(sa_method_new(&meth, &o, m, &e) < 0);
        assert_null(meth);
        assert_err_contains(e, "BatchNorm");
    }
    sa_method_options o = sa_method_options_default("source");
    sa_method *meth = NULL;
    assert_int_equal(sa_method_new(&meth, &o, m, &e), 0);
    sa_method_free(meth);
    sa_model_free(m);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_arch MODEL.pt [MODEL_WITHOUT_NORM.pt]\n");
        return 2;
    }
    model_path = argv[1];
    plain_path = argc > 2 ? argv[2] : NULL;
    sa_torch_set_threads(2);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_method_moves_only_selected),
        cmocka_unit_test(test_model_without_norm_layers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
