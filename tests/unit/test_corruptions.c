#include <math.h>

#include "corruptions.h"
#include "test.h"
#include "weather.h"

#ifdef _OPENMP
#include <omp.h>
#endif

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

/* ---- weather and extra corruptions ---------------------------------- */

/* An image whose pixels cover greys, black, white, pure and mixed hues and
 * ties between channels. */
static sa_image *colour_chart(int w, int h)
{
    sa_image *im = flat(w, h, 3, 0);
    uint32_t s = 12345u;
    for (int i = 0; i < w * h; i++) {
        uint8_t *p = im->data + 3 * i;
        s = s * 1664525u + 1013904223u;
        switch (i % 8) {
        case 0: p[0] = p[1] = p[2] = (uint8_t)(s >> 24); break;         /* grey */
        case 1: p[0] = p[1] = p[2] = 0; break;                          /* black */
        case 2: p[0] = (uint8_t)(s >> 24); p[1] = p[0]; p[2] = (uint8_t)(s >> 8); break;
        case 3: p[0] = (uint8_t)(s >> 8); p[1] = (uint8_t)(s >> 16); p[2] = p[1]; break;
        default:
            p[0] = (uint8_t)(s >> 8);
            p[1] = (uint8_t)(s >> 16);
            p[2] = (uint8_t)(s >> 24);
        }
    }
    return im;
}

/* Oracle: scikit-image's rgb2hsv / hsv2rgb written out for one pixel. */
static void oracle_hsv_edit(const uint8_t *in, uint8_t *out, int sat, double a, double b)
{
    double c[3] = {in[0] / 255.0, in[1] / 255.0, in[2] / 255.0};
    double v = fmax(c[0], fmax(c[1], c[2]));
    double d = v - fmin(c[0], fmin(c[1], c[2]));
    double s = d == 0.0 ? 0.0 : d / v;
    double h = 0.0;
    if (d != 0.0) {
        if (c[0] == v)
            h = (c[1] - c[2]) / d;
        if (c[1] == v)
            h = 2.0 + (c[2] - c[0]) / d;
        if (c[2] == v)
            h = 4.0 + (c[0] - c[1]) / d;
        h = h / 6.0 - floor(h / 6.0);
    }
    if (sat)
        s = fmin(fmax(s * a + b, 0.0), 1.0);
    else
        v = fmin(fmax(v + a, 0.0), 1.0);
    double hi = floor(h * 6.0), f = h * 6.0 - hi;
    double pp = v * (1 - s), q = v * (1 - f * s), t = v * (1 - (1 - f) * s);
    double r[6][3] = {{v, t, pp}, {q, v, pp}, {pp, v, t}, {pp, q, v}, {t, pp, v}, {v, pp, q}};
    int k = (int)hi % 6;
    for (int j = 0; j < 3; j++) {
        double y = fmin(fmax(r[k][j], 0.0), 1.0) * 255.0;
        out[j] = (uint8_t)y;
    }
}

static void test_brightness_saturate_hsv(void **state)
{
    (void)state;
    const double bright[2][5] = {{0.1, 0.2, 0.3, 0.4, 0.5}, {0.05, 0.1, 0.15, 0.2, 0.3}};
    const double satab[2][5][2] = {{{0.3, 0}, {0.1, 0}, {2, 0}, {5, 0.1}, {20, 0.2}},
                                   {{0.3, 0}, {0.1, 0}, {1.5, 0}, {2, 0.1}, {2.5, 0.2}}};
    sa_image *in = colour_chart(61, 43);
    for (int tab = 0; tab < 2; tab++) {
        sa_corrupt_params p = tab ? SA_PARAMS_CIFAR : SA_PARAMS_IMAGENET;
        for (int sev = 1; sev <= 5; sev++) {
            sa_image *o = run(in, SA_CORRUPT_BRIGHTNESS, sev, p, SA_RNG_FAST, 0);
            sa_image *t = run(in, SA_CORRUPT_SATURATE, sev, p, SA_RNG_FAST, 0);
            for (int i = 0; i < in->w * in->h; i++) {
                uint8_t e[3];
                oracle_hsv_edit(in->data + 3 * i, e, 0, bright[tab][sev - 1], 0);
                assert_memory_equal(o->data + 3 * i, e, 3);
                oracle_hsv_edit(in->data + 3 * i, e, 1, satab[tab][sev - 1][0],
                                satab[tab][sev - 1][1]);
                assert_memory_equal(t->data + 3 * i, e, 3);
            }
            sa_image_free(o);
            sa_image_free(t);
        }
    }
    sa_image_free(in);
    /* A black pixel becomes grey (c, c, c); a grey pixel turns reddish
     * under saturate with b > 0 (hue 0): (V, V(1-b), V(1-b)). */
    sa_image *black = flat(4, 4, 3, 0);
    sa_image *o = run(black, SA_CORRUPT_BRIGHTNESS, 3, SA_PARAMS_IMAGENET, SA_RNG_FAST, 0);
    for (int i = 0; i < 48; i++)
        assert_int_equal(o->data[i], (uint8_t)(0.3 * 255.0));
    sa_image_free(o);
    sa_image *grey = flat(4, 4, 3, 200);
    o = run(grey, SA_CORRUPT_SATURATE, 5, SA_PARAMS_IMAGENET, SA_RNG_FAST, 0);
    const double v = 200 / 255.0;
    for (int i = 0; i < 16; i++) {
        assert_int_equal(o->data[3 * i], 200);
        assert_int_equal(o->data[3 * i + 1], (uint8_t)(v * (1 - 0.2) * 255.0));
        assert_int_equal(o->data[3 * i + 2], (uint8_t)(v * (1 - 0.2) * 255.0));
        assert_true(o->data[3 * i] > o->data[3 * i + 1]);
    }
    sa_image_free(o);
    o = run(grey, SA_CORRUPT_SATURATE, 3, SA_PARAMS_IMAGENET, SA_RNG_FAST, 0);
    for (int i = 0; i < 48; i++)
        assert_int_equal(o->data[i], 200); /* b = 0: grey stays grey */
    sa_image_free(o);
    sa_image_free(black);
    sa_image_free(grey);
}

/* Speckle: y = x + x n, n ~ N(0, c^2): on flat grey the spread is x c 255. */
static void test_speckle_sigma(void **state)
{
    (void)state;
    const double in_c[5] = {0.15, 0.2, 0.35, 0.45, 0.6};
    const double c10_c[5] = {0.06, 0.1, 0.12, 0.16, 0.2};
    sa_image *in = flat(256, 256, 3, 100);
    for (int sev = 1; sev <= 2; sev++) {
        sa_image *o = run(in, SA_CORRUPT_SPECKLE_NOISE, sev, SA_PARAMS_IMAGENET, SA_RNG_FAST, 5);
        double m, sd;
        stats(o, &m, &sd);
        assert_true(fabs(sd - 100 * in_c[sev - 1]) < 0.02 * 100 * in_c[sev - 1] + 0.3);
        assert_true(fabs(m - 99.5) < 0.4);
        sa_image_free(o);
    }
    for (int sev = 1; sev <= 5; sev++) {
        sa_image *o = run(in, SA_CORRUPT_SPECKLE_NOISE, sev, SA_PARAMS_CIFAR, SA_RNG_NUMPY, 6);
        double m, sd;
        stats(o, &m, &sd);
        assert_true(fabs(sd - 100 * c10_c[sev - 1]) < 0.02 * 100 * c10_c[sev - 1] + 0.3);
        sa_image_free(o);
    }
    sa_image_free(in);
}

/* Plasma: values in [0, 1] reaching both ends, deterministic, and exactly
 * 3 k^2 uniforms per level (k = 1, 2, ..., size / 2). */
static void test_fog_plasma(void **state)
{
    (void)state;
    const int sizes[3] = {4, 32, 256};
    for (int si = 0; si < 3; si++) {
        const int n = sizes[si];
        for (int f32 = 0; f32 <= 1; f32++) {
            double *a = malloc(sizeof(double) * n * n), *b = malloc(sizeof(double) * n * n);
            assert_non_null(a);
            assert_non_null(b);
            sa_rng r1, r2, r3;
            sa_rng_seed(&r1, SA_RNG_NUMPY, 42);
            sa_rng_seed(&r2, SA_RNG_NUMPY, 42);
            sa_rng_seed(&r3, SA_RNG_NUMPY, 42);
            sa__plasma_fractal(a, n, 2.0, f32, &r1);
            sa__plasma_fractal(b, n, 2.0, f32, &r2);
            assert_memory_equal(a, b, sizeof(double) * n * n);
            double lo = 1, hi = 0;
            for (int i = 0; i < n * n; i++) {
                assert_true(a[i] >= 0.0 && a[i] <= 1.0);
                lo = fmin(lo, a[i]);
                hi = fmax(hi, a[i]);
                if (f32)
                    assert_true(a[i] == (double)(float)a[i]);
            }
            assert_true(lo == 0.0 && hi == 1.0);
            for (int k = 1; k < n; k *= 2)
                for (int d = 0; d < 3 * k * k; d++)
                    sa_rng_double(&r3);
            assert_true(sa_rng_u32(&r1) == sa_rng_u32(&r3));
            free(a);
            free(b);
        }
    }
    /* Fog runs for any size (the plasma grows to the next power of two). */
    const int dims[4][2] = {{32, 32}, {224, 224}, {300, 170}, {7, 5}};
    for (int i = 0; i < 4; i++)
        for (int c = 1; c <= 3; c += 2) {
            sa_image *in = flat(dims[i][0], dims[i][1], c, 120);
            for (int tab = SA_PARAMS_AUTO; tab <= SA_PARAMS_ANY; tab++) {
                sa_image *o = run(in, SA_CORRUPT_FOG, 5, (sa_corrupt_params)tab, SA_RNG_FAST, 9);
                sa_image *o2 = run(in, SA_CORRUPT_FOG, 5, (sa_corrupt_params)tab, SA_RNG_FAST, 9);
                assert_memory_equal(o->data, o2->data, sa_image_size(in));
                sa_image_free(o);
                sa_image_free(o2);
            }
            sa_image_free(in);
        }
}

/* Frost with built-in textures: every size and table, 1 and 3 channels,
 * deterministic; the textures are bright and textured. */
static void test_frost_builtin(void **state)
{
    (void)state;
    const int dims[6][2] = {{224, 224}, {32, 32}, {300, 200}, {180, 400}, {20, 45}, {64, 64}};
    for (int i = 0; i < 6; i++)
        for (int c = 1; c <= 3; c += 2) {
            sa_image *in = flat(dims[i][0], dims[i][1], c, 0);
            for (int tab = SA_PARAMS_AUTO; tab <= SA_PARAMS_ANY; tab++) {
                sa_image *o = run(in, SA_CORRUPT_FROST, 5, (sa_corrupt_params)tab, SA_RNG_FAST, 3);
                sa_image *o2 = run(in, SA_CORRUPT_FROST, 5, (sa_corrupt_params)tab, SA_RNG_FAST, 3);
                assert_memory_equal(o->data, o2->data, sa_image_size(in));
                double m, sd;
                stats(o, &m, &sd);
                /* b = 0.75 (IN) or 0.45 (C10) times a texture of mean 110-210. */
                assert_true(m > 20 && m < 170);
                assert_true(sd > 2);
                sa_image_free(o);
                sa_image_free(o2);
            }
            sa_image_free(in);
        }
    /* Each built-in texture matches its target statistics. */
    for (int t = 0; t < SA__FROST_BUILTIN_N; t++) {
        sa__frost_builtin ft;
        sa__frost_builtin_init(&ft, t);
        uint8_t *row = malloc(3 * (size_t)ft.w);
        assert_non_null(row);
        double s = 0, s2 = 0;
        size_t n = 0;
        for (int y = 0; y < ft.h; y += 7) {
            sa__frost_builtin_row(&ft, y, 0, 1, ft.w, row);
            for (int x = 0; x < 3 * ft.w; x++) {
                s += row[x];
                s2 += (double)row[x] * row[x];
                n++;
            }
        }
        double m = s / n, sd = sqrt(s2 / n - m * m);
        assert_true(m > 90 && m < 215);
        assert_true(sd > 12 && sd < 50);
        free(row);
    }
}

/* A texture whose texel encodes its coordinates and index. */
static sa_image *coded_texture(int w, int h, int idx)
{
    sa_image *t = flat(w, h, 3, 0);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = t->data + 3 * ((size_t)y * w + x);
            p[0] = (uint8_t)(x * 7 + idx * 50);
            p[1] = (uint8_t)(y * 13 + idx * 30);
            p[2] = (uint8_t)((x ^ y) * 3 + idx);
        }
    return t;
}

/* Given textures: the crop sits at the offsets drawn after the index
 * (row then column), on the full texture (ImageNet) or the texture
 * decimated by 5, texel (5i+2, 5j+2) (CIFAR). */
static void test_frost_given_textures(void **state)
{
    (void)state;
    sa_image *tex[5];
    for (int i = 0; i < 5; i++)
        tex[i] = coded_texture(300 + 20 * i, 260 + 10 * i, i);
    const double in_b[5] = {0.4, 0.6, 0.7, 0.7, 0.75}, c10_b[5] = {0.2, 0.3, 0.4, 0.4, 0.45};
    for (int tab = 0; tab < 2; tab++) {
        const int n = tab ? 32 : 224;
        sa_image *in = flat(n, n, 3, 0);
        for (int sev = 1; sev <= 5; sev++)
            for (uint64_t seed = 0; seed < 6; seed++) {
                sa_image *o = flat(n, n, 3, 0);
                sa_rng r, q;
                sa_rng_seed(&r, SA_RNG_NUMPY, seed);
                sa_rng_seed(&q, SA_RNG_NUMPY, seed);
                sa_corrupt_options opt = sa_corrupt_options_default();
                opt.params = tab ? SA_PARAMS_CIFAR : SA_PARAMS_IMAGENET;
                opt.frost = (const sa_image *const *)tex;
                opt.n_frost = 5;
                sa_error e = {0};
                assert_int_equal(sa_corrupt(o, in, SA_CORRUPT_FROST, sev, &opt, &r, &e), 0);
                int idx = (int)sa_rng_randint(&q, 0, 5);
                int step = tab ? 5 : 1, off = tab ? 2 : 0;
                int th = tab ? (int)lrint(tex[idx]->h * 0.2) : tex[idx]->h;
                int tw = tab ? (int)lrint(tex[idx]->w * 0.2) : tex[idx]->w;
                int y0 = (int)sa_rng_randint(&q, 0, th - n);
                int x0 = (int)sa_rng_randint(&q, 0, tw - n);
                double b = tab ? c10_b[sev - 1] : in_b[sev - 1];
                for (int y = 0; y < n; y += 3)
                    for (int x = 0; x < n; x++) {
                        int sy = off + step * (y0 + y), sx = off + step * (x0 + x);
                        const uint8_t *t = tex[idx]->data + 3 * ((size_t)sy * tex[idx]->w + sx);
                        for (int k = 0; k < 3; k++)
                            assert_int_equal(o->data[3 * (y * n + x) + k], (uint8_t)(b * t[k]));
                    }
                sa_image_free(o);
            }
        sa_image_free(in);
    }
    for (int i = 0; i < 5; i++)
        sa_image_free(tex[i]);
}

/* The original textures, when a copy exists next to the project
 * (SA_FROST_DIR or ../shared/reference-data/frost): frost runs with them
 * for both tables. Skips cleanly otherwise. */
static void test_frost_original_textures(void **state)
{
    (void)state;
    char dir[1024];
    const char *env = getenv("SA_FROST_DIR");
    if (env && *env)
        snprintf(dir, sizeof dir, "%s", env);
    else
        snprintf(dir, sizeof dir, "%s/../shared/reference-data/frost", sa_test_source_root());
    const char *names[6] = {"frost1.png", "frost2.png", "frost3.png",
                            "frost4.jpg", "frost5.jpg", "frost6.jpg"};
    sa_image *tex[6] = {0};
    for (int i = 0; i < 6; i++) {
        char path[1100];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        sa_error e = {0};
        if (sa_image_decode_file(&tex[i], path, 3, &e) < 0) {
            for (int j = 0; j < i; j++)
                sa_image_free(tex[j]);
            skip();
        }
    }
    for (int n = 32; n <= 224; n += 192) {
        sa_image *in = flat(n, n, 3, 90), *o = flat(n, n, 3, 0);
        for (int sev = 1; sev <= 5; sev++) {
            sa_rng r;
            sa_rng_seed(&r, SA_RNG_NUMPY, (uint64_t)sev);
            sa_corrupt_options opt = sa_corrupt_options_default();
            opt.frost = (const sa_image *const *)tex;
            opt.n_frost = 6;
            sa_error e = {0};
            assert_int_equal(sa_corrupt(o, in, SA_CORRUPT_FROST, sev, &opt, &r, &e), 0);
        }
        sa_image_free(in);
        sa_image_free(o);
    }
    for (int i = 0; i < 6; i++)
        sa_image_free(tex[i]);
}

/* Snow and spatter: every table and several sizes, 1 and 3 channels;
 * deterministic per seed and seed-sensitive. */
static void test_snow_spatter_run(void **state)
{
    (void)state;
    const int dims[4][2] = {{224, 224}, {32, 32}, {150, 100}, {33, 47}};
    const sa_corruption kinds[2] = {SA_CORRUPT_SNOW, SA_CORRUPT_SPATTER};
    for (int i = 0; i < 4; i++)
        for (int c = 1; c <= 3; c += 2) {
            sa_image *in = colour_chart(dims[i][0], dims[i][1]);
            if (c == 1) {
                sa_image *g = NULL;
                sa_error e = {0};
                assert_int_equal(sa_image_convert(&g, in, 1, &e), 0);
                sa_image_free(in);
                in = g;
            }
            for (int k = 0; k < 2; k++)
                for (int tab = SA_PARAMS_AUTO; tab <= SA_PARAMS_ANY; tab++)
                    for (int sev = (i == 0 ? 1 : 2); sev <= 5; sev += (i == 0 ? 1 : 2)) {
                        sa_image *a = run(in, kinds[k], sev, (sa_corrupt_params)tab, SA_RNG_NUMPY, 5);
                        sa_image *b = run(in, kinds[k], sev, (sa_corrupt_params)tab, SA_RNG_NUMPY, 5);
                        sa_image *d = run(in, kinds[k], sev, (sa_corrupt_params)tab, SA_RNG_NUMPY, 6);
                        assert_memory_equal(a->data, b->data, sa_image_size(in));
                        if (dims[i][0] >= 100)
                            assert_true(memcmp(a->data, d->data, sa_image_size(in)) != 0);
                        sa_image_free(a);
                        sa_image_free(b);
                        sa_image_free(d);
                    }
            sa_image_free(in);
        }
}

/* Snow brightens (whitening plus flakes); mud spatter darkens and water
 * spatter adds pale turquoise on a black image. */
static void test_snow_spatter_effects(void **state)
{
    (void)state;
    sa_image *in = flat(224, 224, 3, 60);
    sa_image *o = run(in, SA_CORRUPT_SNOW, 3, SA_PARAMS_IMAGENET, SA_RNG_NUMPY, 1);
    double m, sd;
    stats(o, &m, &sd);
    assert_true(m > 70);
    sa_image_free(o);
    sa_image *white = flat(224, 224, 3, 255);
    o = run(white, SA_CORRUPT_SPATTER, 5, SA_PARAMS_IMAGENET, SA_RNG_NUMPY, 1);
    stats(o, &m, &sd);
    assert_true(m < 254.5);
    for (int i = 0; i < 224 * 224; i++) /* mud: red >= green >= blue */
        assert_true(o->data[3 * i] >= o->data[3 * i + 1] && o->data[3 * i + 1] >= o->data[3 * i + 2]);
    sa_image_free(o);
    sa_image *black = flat(224, 224, 3, 0);
    o = run(black, SA_CORRUPT_SPATTER, 1, SA_PARAMS_IMAGENET, SA_RNG_NUMPY, 1);
    int top = 0;
    for (int i = 0; i < 224 * 224 * 3; i++)
        top = o->data[i] > top ? o->data[i] : top;
    assert_true(top > 20);
    for (int i = 0; i < 224 * 224; i++) /* water: green == blue >= red */
        assert_true(o->data[3 * i + 1] == o->data[3 * i + 2] && o->data[3 * i + 1] >= o->data[3 * i]);
    sa_image_free(o);
    sa_image_free(in);
    sa_image_free(white);
    sa_image_free(black);
}

/* The shared filters these kernels call may run in parallel: results must
 * not depend on the thread count. */
static void test_weather_thread_count(void **state)
{
    (void)state;
#ifdef _OPENMP
    const sa_corruption kinds[7] = {SA_CORRUPT_SNOW,       SA_CORRUPT_FROST,   SA_CORRUPT_FOG,
                                    SA_CORRUPT_BRIGHTNESS, SA_CORRUPT_SATURATE,
                                    SA_CORRUPT_SPECKLE_NOISE, SA_CORRUPT_SPATTER};
    sa_image *in = colour_chart(224, 224);
    const int saved = omp_get_max_threads();
    for (int k = 0; k < 7; k++)
        for (int sev = 1; sev <= 5; sev += 2) {
            omp_set_num_threads(1);
            sa_image *a = run(in, kinds[k], sev, SA_PARAMS_AUTO, SA_RNG_NUMPY, 21);
            omp_set_num_threads(2);
            sa_image *b = run(in, kinds[k], sev, SA_PARAMS_AUTO, SA_RNG_NUMPY, 21);
            assert_memory_equal(a->data, b->data, sa_image_size(in));
            sa_image_free(a);
            sa_image_free(b);
        }
    omp_set_num_threads(saved);
    sa_image_free(in);
#else
    skip();
#endif
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
        cmocka_unit_test(test_brightness_saturate_hsv),
        cmocka_unit_test(test_speckle_sigma),
        cmocka_unit_test(test_fog_plasma),
        cmocka_unit_test(test_frost_builtin),
        cmocka_unit_test(test_frost_given_textures),
        cmocka_unit_test(test_frost_original_textures),
        cmocka_unit_test(test_snow_spatter_run),
        cmocka_unit_test(test_snow_spatter_effects),
        cmocka_unit_test(test_weather_thread_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
