#include <math.h>

#include "splits.h"
#include "test.h"

static sa_split *lookup(const char *name)
{
    sa_split *s = NULL;
    sa_error e = {0};
    if (sa_split_lookup(&s, name, &e) < 0)
        fail_msg("%s", e.msg);
    return s;
}

static void test_imagenet_wnids(void **state)
{
    (void)state;
    sa_split *s = lookup("imagenet");
    assert_int_equal(sa_split_num_labels(s), 1000);
    assert_null(sa_split_indices(s, NULL));
    for (int i = 0; i < 1000; i++) {
        const char *w = sa_split_label_name(s, i);
        assert_int_equal(strlen(w), 9);
        assert_int_equal(w[0], 'n');
        for (int k = 1; k < 9; k++)
            assert_true(w[k] >= '0' && w[k] <= '9');
        if (i > 0) /* sorted, hence unique */
            assert_true(strcmp(sa_split_label_name(s, i - 1), w) < 0);
        assert_int_equal(sa_split_map(s)[i], i);
    }
    assert_string_equal(sa_split_label_name(s, 0), "n01440764");
    assert_string_equal(sa_split_label_name(s, 1), "n01443537");
    assert_string_equal(sa_split_label_name(s, 999), "n15075141");
    assert_null(sa_split_label_name(s, 1000));
    int label = -1;
    sa_error e = {0};
    assert_int_equal(sa_split_label_of(s, "n15075141", &label, &e), 0);
    assert_int_equal(label, 999);
    sa_split_free(s);

    char name[128];
    sa_imagenet_class_name(0, name, sizeof name);
    assert_string_equal(name, "tench, Tinca tinca");
    sa_imagenet_class_name(999, name, sizeof name);
    assert_non_null(strstr(name, "toilet tissue"));
    sa_imagenet_class_name(1000, name, sizeof name);
    assert_string_equal(name, "");
}

static void check_mask(const char *split, const char *first, int first_index)
{
    sa_split *s = lookup(split);
    sa_split *all = lookup("imagenet");
    assert_int_equal(sa_split_num_labels(s), 200);
    int n = 0;
    const int *idx = sa_split_indices(s, &n);
    assert_non_null(idx);
    assert_int_equal(n, 200);
    for (int i = 0; i < n; i++) {
        if (i > 0)
            assert_true(idx[i] > idx[i - 1]); /* increasing ImageNet order */
        assert_string_equal(sa_split_label_name(s, i), sa_split_label_name(all, idx[i]));
        assert_int_equal(sa_split_map(s)[idx[i]], i);
    }
    int mapped = 0;
    for (int i = 0; i < 1000; i++)
        mapped += sa_split_map(s)[i] >= 0;
    assert_int_equal(mapped, 200);
    assert_string_equal(sa_split_label_name(s, 0), first);
    assert_int_equal(idx[0], first_index);
    sa_split_free(all);
    sa_split_free(s);
}

static void test_imagenet_r(void **state)
{
    (void)state;
    check_mask("imagenet-r", "n01443537", 1); /* goldfish */
    sa_split *s = lookup("imagenet-r");
    const int *idx = sa_split_indices(s, NULL);
    assert_int_equal(idx[199], 988); /* n12267677, acorn */
    assert_string_equal(sa_split_label_name(s, 199), "n12267677");
    int label = -1;
    sa_error e = {0};
    assert_int_equal(sa_split_label_of(s, "n01443537", &label, &e), 0);
    assert_int_equal(label, 0);
    /* n01440764 (tench) is an ImageNet class but not an ImageNet-R one */
    assert_true(sa_split_label_of(s, "n01440764", &label, &e) < 0);
    assert_err_contains(e, "n01440764");
    assert_err_contains(e, "imagenet-r");
    sa_split_free(s);
}

static void test_imagenet_a(void **state)
{
    (void)state;
    check_mask("imagenet-a", "n01498041", 6); /* stingray: thousand_k_to_200[6] == 0 */
    sa_split *s = lookup("imagenet-a");
    const int *idx = sa_split_indices(s, NULL);
    assert_int_equal(idx[1], 11);
    assert_int_equal(idx[2], 13);
    sa_split_free(s);
}

static void test_imagenet_d(void **state)
{
    (void)state;
    sa_split *s = lookup("imagenet-d");
    assert_int_equal(sa_split_num_labels(s), 164);
    assert_null(sa_split_indices(s, NULL));
    const int *map = sa_split_map(s);
    int mapped = 0, seen[164] = {0};
    for (int i = 0; i < 1000; i++) {
        assert_true(map[i] >= -1 && map[i] < 164);
        if (map[i] >= 0) {
            mapped++;
            seen[map[i]]++;
        }
    }
    assert_int_equal(mapped, 464);
    int one = 0;
    for (int l = 0; l < 164; l++) {
        assert_true(seen[l] > 0); /* every label has an ImageNet class */
        one += seen[l] == 1;
        if (l > 0)
            assert_true(strcmp(sa_split_label_name(s, l - 1), sa_split_label_name(s, l)) < 0);
    }
    assert_int_equal(one, 109);
    assert_string_equal(sa_split_label_name(s, 0), "aircraft_carrier");
    assert_int_equal(map[403], 0); /* aircraft carrier */
    assert_int_equal(map[0], -1);
    for (int i = 151; i <= 268; i++) /* every dog class is "dog" */
        if (i != 275)
            assert_string_equal(sa_split_label_name(s, map[i]), "dog");
    assert_string_equal(sa_split_label_name(s, map[850]), "teddy-bear");
    int label = -1;
    sa_error e = {0};
    assert_int_equal(sa_split_label_of(s, "dog", &label, &e), 0);
    assert_int_equal(label, map[151]);
    assert_true(sa_split_label_of(s, "mouse", &label, &e) < 0);
    assert_string_equal(sa_imagenet_d_domain(0), "clipart");
    assert_string_equal(sa_imagenet_d_domain(5), "sketch");
    assert_null(sa_imagenet_d_domain(6));
    sa_split_free(s);
}

static void test_imagenet_d109(void **state)
{
    (void)state;
    sa_split *s = lookup("imagenet-d109");
    sa_split *d = lookup("imagenet-d");
    assert_int_equal(sa_split_num_labels(s), 109);
    int n = 0;
    const int *idx = sa_split_indices(s, &n);
    assert_int_equal(n, 109);
    assert_int_equal(idx[0], 403);
    assert_int_equal(idx[1], 407);
    assert_int_equal(idx[108], 340);
    for (int i = 0; i < n; i++) {
        const char *dn = sa_split_label_name(d, sa_split_map(d)[idx[i]]);
        assert_string_equal(sa_split_label_name(s, i), dn);
        if (i > 0) /* label order follows the ImageNet-D labels */
            assert_true(sa_split_map(d)[idx[i]] > sa_split_map(d)[idx[i - 1]]);
    }
    assert_string_equal(sa_split_label_name(s, 0), "aircraft_carrier");
    assert_string_equal(sa_split_label_name(s, 1), "ambulance");
    sa_split_free(d);
    sa_split_free(s);
}

static void test_predict_inside_split(void **state)
{
    (void)state;
    const char *names[] = {"imagenet", "imagenet-r", "imagenet-a", "imagenet-d", "imagenet-d109"};
    enum { N = 64 };
    float *logits = malloc(sizeof(float) * N * 1000);
    uint64_t x = 12345;
    for (size_t i = 0; i < (size_t)N * 1000; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        logits[i] = (float)((x >> 40) & 0xffff) / 65536.0f;
    }
    /* image 0: the winning class is outside ImageNet-R/A/D */
    logits[0] = 10.0f;
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        sa_split *s = lookup(names[k]);
        int64_t pred[N];
        sa_split_predict(s, pred, logits, N);
        int nl = sa_split_num_labels(s);
        for (int i = 0; i < N; i++) {
            if (strcmp(names[k], "imagenet-d") == 0)
                assert_true(pred[i] >= -1 && pred[i] < nl);
            else
                assert_true(pred[i] >= 0 && pred[i] < nl);
        }
        if (strcmp(names[k], "imagenet-d") == 0)
            assert_int_equal(pred[0], -1); /* tench: unmapped, an error */
        if (strcmp(names[k], "imagenet-r") == 0) {
            /* the masked argmax equals a brute-force search over the mask */
            const int *idx = sa_split_indices(s, NULL);
            for (int i = 0; i < N; i++) {
                int best = 0;
                for (int j = 0; j < 200; j++)
                    if (logits[i * 1000 + idx[j]] > logits[i * 1000 + idx[best]])
                        best = j;
                assert_int_equal(pred[i], best);
            }
        }
        sa_split_free(s);
    }
    free(logits);
}

static void test_unknown_split(void **state)
{
    (void)state;
    sa_split *s = NULL;
    sa_error e = {0};
    assert_true(sa_split_lookup(&s, "imagenet-x", &e) < 0);
    assert_null(s);
    assert_err_contains(e, "imagenet-x");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_imagenet_wnids),
        cmocka_unit_test(test_imagenet_r),
        cmocka_unit_test(test_imagenet_a),
        cmocka_unit_test(test_imagenet_d),
        cmocka_unit_test(test_imagenet_d109),
        cmocka_unit_test(test_predict_inside_split),
        cmocka_unit_test(test_unknown_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
