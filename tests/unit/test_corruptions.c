#include <math.h>

#include "corruptions.h"
#include "test.h"

static sa_image *flat(int w, int h, int c, uint8_t v)
{
    sa_image *im = NULL;
    sa_error e = {0};
    assert_int_equal(sa_image_new(&im, w, h, c, &e), 0);
    memset(im->data, v, sa_image_size(im));
    return im;
}

static sa_image *run(const sa_image *in, sa_corruption k, int sev, sa_corrupt_params p,
                     sa_rng_kind kind, uint64_t seed)
{
    sa_image *out = NULL;
    sa_error e = {0};
    assert_int_equal(sa_image_new(&out, in->w, in->h, in->c, &e), 0);
    sa_rng r;
    sa_rng_seed(&r, kind, seed);
    sa_corrupt_options o = sa_corrupt_options_default();
    o.params = p;
    int rc = sa_corrupt(out, in, k, sev, &o, &r, &e);
    if (rc < 0)
        fail_msg("%s", e.msg);
    return out;
}

/* Reference values: NumPy 1.24, hendrycks' formulas, on a 4x4x3 image:
 *   x = np.full((4,4,3), 100, np.uint8); xf = x / 255.
 *   np.random.seed(1); np.uint8(np.clip(xf + np.random.normal(size=xf.shape, scale=0.08), 0, 1) * 255)
 *   np.random.seed(2); np.uint8(np.clip(np.random.poisson(xf * 100) / 100., 0, 1) * 255)
 *   y = np.arange(48).reshape(4,4,3) * 5: contrast c = 0.4 around the per-channel mean. */
static void test_numpy_mode_bit_exact(void **state)
{
    (void)state;
    sa_image *in = flat(4, 4, 3, 100);
    const uint8_t gauss[48] = {133, 87, 89, 78, 117, 53, 135, 84, 106, 94, 129, 57, 93, 92, 123, 77,
                               96, 82, 100, 111, 77, 123, 118, 110, 118, 86, 97, 80, 94, 110, 85, 91,
                               85, 82, 86, 99, 77, 104, 133, 115, 96, 81, 84, 134, 101, 87, 103, 142};
    sa_image *g = run(in, SA_CORRUPT_GAUSSIAN_NOISE, 3, SA_PARAMS_CIFAR, SA_RNG_NUMPY, 1);
    assert_memory_equal(g->data, gauss, 48);
    const uint8_t shot[48] = {96, 102, 96, 84, 89, 104, 79, 84, 119, 119, 99, 96, 79, 86, 86, 99,
                              107, 99, 114, 81, 142, 122, 102, 96, 102, 94, 94, 86, 114, 112, 89, 91,
                              99, 86, 117, 94, 114, 104, 107, 99, 91, 153, 91, 112, 84, 107, 114, 119};
    sa_image *s = run(in, SA_CORRUPT_SHOT_NOISE, 3, SA_PARAMS_CIFAR, SA_RNG_NUMPY, 2);
    assert_memory_equal(s->data, shot, 48);
    sa_image *grad = flat(4, 4, 3, 0);
    for (int i = 0; i < 48; i++)
        grad->data[i] = (uint8_t)(i * 5);
    const uint8_t contrast[48] = {67, 72, 77, 73, 78, 83, 79, 84, 89, 85, 90, 95, 91, 96, 101, 97,
                                  102, 107, 103, 108, 113, 109, 114, 119, 115, 120, 125, 121, 126,
                                  131, 127, 132, 137, 133, 138, 143, 139, 144, 149, 145, 150, 155,
                                  151, 156, 161, 157, 162, 167};
    sa_image *c = run(grad, SA_CORRUPT_CONTRAST, 3, SA_PARAMS_CIFAR, SA_RNG_NUMPY, 0);
    assert_memory_equal(c->data, contrast, 48);
    sa_image_free(in);
    sa_image_free(g);
    sa_image_free(s);
    sa_image_free(grad);
    sa_image_free(c);
}

/* Impulse noise: all "hit" uniforms first, then all salt uniforms, with
 * scikit-image <= 0.18's strict comparisons. Replayed by hand here. */
static void test_impulse_draw_order(void **state)
{
    (void)state;
    sa_image *in = flat(5, 3, 3, 100);
    sa_image *out = run(in, SA_CORRUPT_IMPULSE_NOISE, 5, SA_PARAMS_IMAGENET, SA_RNG_NUMPY, 3);
    sa_rng r;
    sa_rng_seed(&r, SA_RNG_NUMPY, 3);
    double u1[45], u2[45];
    for (int i = 0; i < 45; i++)
        u1[i] = sa_rng_double(&r);
    for (int i = 0; i < 45; i++)
        u2[i] = sa_rng_double(&r);
    for (int i = 0; i < 45; i++) {
        int want = u1[i] < 0.27 ? (u2[i] < 0.5 ? 255 : 0) : 100;
        assert_int_equal(out->data[i], want);
    }
    sa_image_free(in);
    sa_image_free(out);
}

static void stats(const sa_image *im, double *mean, double *sd)
{
    double s = 0, s2 = 0;
    size_t n = sa_image_size(im);
    for (size_t i = 0; i < n; i++) {
        s += im->data[i];
        s2 += (double)im->data[i] * im->data[i];
    }
    *mean = s / (double)n;
    *sd = sqrt(s2 / (double)n - *mean * *mean);
}

/* On a flat mid-grey image nothing clips: the measured sigma is the
 * parameter times 255, and truncation lowers the mean by about 0.5. */
static void test_gaussian_sigma_per_table(void **state)
{
    (void)state;
    const double in_sigma[5] = {0.08, 0.12, 0.18, 0.26, 0.38};
    const double c10_sigma[5] = {0.04, 0.06, 0.08, 0.09, 0.10};
    sa_image *in = flat(224, 224, 3, 128);
    for (int sev = 1; sev <= 3; sev++) {
        sa_image *o = run(in, SA_CORRUPT_GAUSSIAN_NOISE, sev, SA_PARAMS_IMAGENET, SA_RNG_FAST, 11);
        double m, sd;
        stats(o, &m, &sd);
        assert_true(fabs(sd - in_sigma[sev - 1] * 255) < 0.02 * in_sigma[sev - 1] * 255 + 0.3);
        assert_true(fabs(m - 127.5) < 0.3);
        sa_image_free(o);
    }
    sa_image *small = flat(32, 32, 3, 128);
    for (int sev = 1; sev <= 5; sev++) {
        /* Average over many 32x32 images for a tight estimate. */
        double acc = 0;
        for (int rep = 0; rep < 40; rep++) {
            sa_image *o = run(small, SA_CORRUPT_GAUSSIAN_NOISE, sev, SA_PARAMS_AUTO, SA_RNG_FAST,
                              (uint64_t)rep);
            double m, sd;
            stats(o, &m, &sd);
            acc += sd;
            sa_image_free(o);
        }
        acc /= 40;
        assert_true(fabs(acc - c10_sigma[sev - 1] * 255) < 0.03 * c10_sigma[sev - 1] * 255 + 0.3);
    }
    sa_image_free(in);
    sa_image_free(small);
}

/* Shot noise: k ~ Poisson(x c), y = k / c, so var(y * 255) = 255^2 x / c. */
static void test_shot_noise_variance(void **state)
{
    (void)state;
    const double photons[5] = {60, 25, 12, 5, 3};
    sa_image *in = flat(224, 224, 3, 51); /* x = 0.2: clipping at 1 is negligible */
    for (int sev = 1; sev <= 5; sev++) {
        sa_image *o = run(in, SA_CORRUPT_SHOT_NOISE, sev, SA_PARAMS_IMAGENET, SA_RNG_FAST, 3);
        double m, sd;
        stats(o, &m, &sd);
        double want = 255.0 * sqrt(0.2 / photons[sev - 1]);
        assert_true(fabs(sd - want) < 0.03 * want);
        sa_image_free(o);
    }
    sa_image_free(in);
}

static void test_impulse_fraction(void **state)
{
    (void)state;
    const double amount[5] = {0.03, 0.06, 0.09, 0.17, 0.27};
    sa_image *in = flat(224, 224, 3, 100);
    for (int sev = 1; sev <= 5; sev++) {
        sa_image *o = run(in, SA_CORRUPT_IMPULSE_NOISE, sev, SA_PARAMS_IMAGENET, SA_RNG_FAST, 8);
        size_t n = sa_image_size(o), salt = 0, pepper = 0;
        for (size_t i = 0; i < n; i++) {
            salt += o->data[i] == 255;
            pepper += o->data[i] == 0;
            assert_true(o->data[i] == 255 || o->data[i] == 0 || o->data[i] == 100);
        }
        double f = (double)(salt + pepper) / (double)n;
        assert_true(fabs(f - amount[sev - 1]) < 0.005);
        assert_true(fabs((double)salt / (double)(salt + pepper) - 0.5) < 0.05);
        sa_image_free(o);
    }
    sa_image_free(in);
}

static void test_contrast_exact(void **state)
{
    (void)state;
    const double c10[5] = {0.75, 0.5, 0.4, 0.3, 0.15};
    sa_image *in = flat(32, 32, 3, 0);
    for (size_t i = 0; i < sa_image_size(in); i++)
        in->data[i] = (uint8_t)((i * 37) % 256);
    for (int sev = 1; sev <= 5; sev++) {
        sa_image *o = run(in, SA_CORRUPT_CONTRAST, sev, SA_PARAMS_AUTO, SA_RNG_FAST, 0);
        for (int k = 0; k < 3; k++) {
            double mean = 0;
            for (int p = 0; p < 1024; p++)
                mean += in->data[p * 3 + k] / 255.0;
            mean /= 1024;
            for (int p = 0; p < 1024; p++) {
                double x = in->data[p * 3 + k] / 255.0;
                double v = (x - mean) * c10[sev - 1] + mean;
                int want = (int)(fmin(fmax(v, 0), 1) * 255);
                assert_true(abs((int)o->data[p * 3 + k] - want) <= 1);
            }
        }
        sa_image_free(o);
    }
    sa_image_free(in);
}

static void test_deterministic_and_seed_sensitive(void **state)
{
    (void)state;
    sa_image *in = flat(32, 32, 3, 90);
    for (int k = 0; k < SA_CORRUPT_COUNT; k++) {
        if (!sa_corruption_available((sa_corruption)k))
            continue;
        sa_image *a = run(in, (sa_corruption)k, 5, SA_PARAMS_AUTO, SA_RNG_FAST,
                          sa_corrupt_seed(1, 7, (sa_corruption)k, 5));
        sa_image *b = run(in, (sa_corruption)k, 5, SA_PARAMS_AUTO, SA_RNG_FAST,
                          sa_corrupt_seed(1, 7, (sa_corruption)k, 5));
        assert_memory_equal(a->data, b->data, sa_image_size(in));
        sa_image_free(a);
        sa_image_free(b);
    }
    sa_image *a = run(in, SA_CORRUPT_GAUSSIAN_NOISE, 5, SA_PARAMS_AUTO, SA_RNG_FAST, 1);
    sa_image *b = run(in, SA_CORRUPT_GAUSSIAN_NOISE, 5, SA_PARAMS_AUTO, SA_RNG_FAST, 2);
    assert_true(memcmp(a->data, b->data, sa_image_size(in)) != 0);
    sa_image_free(a);
    sa_image_free(b);
    sa_image_free(in);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    sa_image *in = flat(8, 8, 3, 1), *out = flat(8, 8, 3, 0), *other = flat(9, 8, 3, 0);
    sa_rng r;
    sa_rng_seed(&r, SA_RNG_FAST, 0);
    sa_error e = {0};
    assert_true(sa_corrupt(out, in, SA_CORRUPT_CONTRAST, 0, NULL, &r, &e) < 0);
    assert_err_contains(e, "severity 0");
    assert_true(sa_corrupt(out, in, SA_CORRUPT_CONTRAST, 6, NULL, &r, &e) < 0);
    assert_true(sa_corrupt(other, in, SA_CORRUPT_CONTRAST, 1, NULL, &r, &e) < 0);
    assert_true(sa_corrupt(in, in, SA_CORRUPT_CONTRAST, 1, NULL, &r, &e) < 0);
    assert_true(sa_corrupt(out, in, (sa_corruption)99, 1, NULL, &r, &e) < 0);
    sa_corruption k;
    assert_true(sa_corruption_from_name(&k, "fogg", &e) < 0);
    assert_err_contains(e, "fogg");
    assert_err_contains(e, "gaussian_noise");
    assert_int_equal(sa_corruption_from_name(&k, "contrast", &e), 0);
    assert_int_equal(k, SA_CORRUPT_CONTRAST);
    sa_corrupt_params p;
    assert_true(sa_corrupt_params_from_name(&p, "tiny", &e) < 0);
    assert_int_equal(sa_corrupt_params_resolve(SA_PARAMS_AUTO, 32, 32), SA_PARAMS_CIFAR);
    assert_int_equal(sa_corrupt_params_resolve(SA_PARAMS_AUTO, 224, 224), SA_PARAMS_IMAGENET);
    assert_int_equal(sa_corrupt_params_resolve(SA_PARAMS_AUTO, 100, 80), SA_PARAMS_ANY);
    sa_image_free(in);
    sa_image_free(out);
    sa_image_free(other);
}

/* Grey images work and keep one channel. */
static void test_grey_images(void **state)
{
    (void)state;
    sa_image *in = flat(32, 32, 1, 128);
    for (int k = 0; k < SA_CORRUPT_COUNT; k++) {
        if (!sa_corruption_available((sa_corruption)k))
            continue;
        sa_image *o = run(in, (sa_corruption)k, 3, SA_PARAMS_AUTO, SA_RNG_FAST, 4);
        assert_int_equal(o->c, 1);
        sa_image_free(o);
    }
    sa_image_free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numpy_mode_bit_exact),
        cmocka_unit_test(test_impulse_draw_order),
        cmocka_unit_test(test_gaussian_sigma_per_table),
        cmocka_unit_test(test_shot_noise_variance),
        cmocka_unit_test(test_impulse_fraction),
        cmocka_unit_test(test_contrast_exact),
        cmocka_unit_test(test_deterministic_and_seed_sensitive),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_grey_images),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
