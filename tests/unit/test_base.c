#include <math.h>
#include <string.h>

#include "fs.h"
#include "json.h"
#include "log.h"
#include "rng.h"
#include "strbuf.h"
#include "test.h"

static void test_error_set_and_prefix(void **state)
{
    (void)state;
    sa_error e = {0};
    assert_int_equal(sa_error_set(&e, SA_EIO, "fs", "cannot open %s", "x.txt"), SA_EIO);
    assert_int_equal(e.code, SA_EIO);
    assert_string_equal(e.domain, "fs");
    assert_string_equal(e.msg, "fs: cannot open x.txt");
    sa_error_prefix(&e, "cell %d", 3);
    assert_string_equal(e.msg, "cell 3: fs: cannot open x.txt");
    /* NULL error pointers are allowed. */
    assert_int_equal(sa_error_set(NULL, SA_EINVAL, "x", "y"), SA_EINVAL);
    /* Long messages are cut, never overflow. */
    char big[2000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    sa_error_set(&e, SA_EINVAL, "d", "%s", big);
    assert_true(strlen(e.msg) < SA_ERROR_MSG_MAX);
    sa_error_prefix(&e, "%s", big);
    assert_true(strlen(e.msg) < SA_ERROR_MSG_MAX);
}

/* NumPy 1.24:
 *   np.random.seed(0); np.random.random_sample(3)
 *   np.random.seed(1234); np.random.normal(0, 1, 3)
 *   np.random.seed(7); np.random.poisson(3.5, 5); np.random.poisson(120.0, 5)
 *   np.random.seed(42); np.random.randint(-3, 5, 8)
 *   np.random.seed(5); [np.random.randint(0, 2**32 + 5) for _ in range(3)]  */
static void test_rng_matches_numpy(void **state)
{
    (void)state;
    sa_rng r;
    sa_rng_seed(&r, SA_RNG_NUMPY, 0);
    const double u[3] = {0.5488135039273248, 0.7151893663724195, 0.6027633760716439};
    for (int i = 0; i < 3; i++)
        assert_true(sa_rng_double(&r) == u[i]);
    sa_rng_seed(&r, SA_RNG_NUMPY, 1234);
    const double g[3] = {0.47143516373249306, -1.1909756947064645, 1.4327069684260973};
    for (int i = 0; i < 3; i++)
        assert_true(sa_rng_normal(&r, 0.0, 1.0) == g[i]);
    sa_rng_seed(&r, SA_RNG_NUMPY, 7);
    const int64_t p1[5] = {2, 4, 4, 1, 4}, p2[5] = {123, 111, 138, 121, 125};
    for (int i = 0; i < 5; i++)
        assert_int_equal(sa_rng_poisson(&r, 3.5), p1[i]);
    for (int i = 0; i < 5; i++)
        assert_int_equal(sa_rng_poisson(&r, 120.0), p2[i]);
    sa_rng_seed(&r, SA_RNG_NUMPY, 42);
    const int64_t ri[8] = {3, 0, 1, 3, -1, 4, 1, 1};
    for (int i = 0; i < 8; i++)
        assert_int_equal(sa_rng_randint(&r, -3, 5), ri[i]);
    sa_rng_seed(&r, SA_RNG_NUMPY, 5);
    const int64_t big[3] = {1562238070, 4206684233, 385778404};
    for (int i = 0; i < 3; i++)
        assert_int_equal(sa_rng_randint(&r, 0, 4294967301LL), big[i]);
}

/* The fast kind's bounded integers stay in [lo, hi) and are uniform
 * (chi-square over the outcomes, 6 standard deviations above its mean),
 * for ranges of every bit width up to 2^32 and above. */
static void test_rng_fast_randint_law(void **state)
{
    (void)state;
    const int64_t ranges[][2] = {{-3, 5}, {0, 3}, {-2, 2}, {0, 6}, {5, 6}, {-7, 10}, {0, 100},
                                 {-1000, 24000}};
    static long count[100];
    for (size_t ri = 0; ri < sizeof ranges / sizeof *ranges; ri++) {
        const int64_t lo = ranges[ri][0], hi = ranges[ri][1], k = hi - lo;
        /* wide ranges are binned into 100 classes of (nearly) equal size */
        const int bins = k < 100 ? (int)k : 100;
        sa_rng r;
        sa_rng_seed(&r, SA_RNG_FAST, 300 + ri);
        memset(count, 0, sizeof count);
        const int n = 100000;
        for (int i = 0; i < n; i++) {
            int64_t v = sa_rng_randint(&r, lo, hi);
            assert_true(v >= lo && v < hi);
            count[(v - lo) * bins / k]++;
        }
        double chi = 0;
        for (int b = 0; b < bins; b++) {
            /* values falling in bin b: ceil((b + 1) k / bins) - ceil(b k / bins) */
            const int64_t first = (b * k + bins - 1) / bins, next = ((b + 1) * k + bins - 1) / bins;
            const double e = (double)n * (double)(next - first) / (double)k;
            chi += (count[b] - e) * (count[b] - e) / e;
        }
        if (bins > 1)
            assert_true(chi < (bins - 1) + 6 * sqrt(2.0 * (bins - 1)) + 6);
    }
    /* above 2^32: bounds only */
    sa_rng r;
    sa_rng_seed(&r, SA_RNG_FAST, 7);
    for (int i = 0; i < 1000; i++) {
        int64_t v = sa_rng_randint(&r, -5, 4294967301LL);
        assert_true(v >= -5 && v < 4294967301LL);
    }
}

static void test_rng_fast_statistics(void **state)
{
    (void)state;
    sa_rng r;
    sa_rng_seed(&r, SA_RNG_FAST, 99);
    const int n = 200000;
    double s = 0, s2 = 0, ps = 0;
    for (int i = 0; i < n; i++) {
        double v = sa_rng_normal(&r, 1.0, 2.0);
        s += v;
        s2 += v * v;
        ps += (double)sa_rng_poisson(&r, 4.0);
    }
    double mean = s / n, var = s2 / n - mean * mean;
    assert_true(fabs(mean - 1.0) < 0.02);
    assert_true(fabs(sqrt(var) - 2.0) < 0.02);
    assert_true(fabs(ps / n - 4.0) < 0.02);
    /* Same seed, same stream; different seed, different stream. */
    sa_rng a, b, c;
    sa_rng_seed(&a, SA_RNG_FAST, 5);
    sa_rng_seed(&b, SA_RNG_FAST, 5);
    sa_rng_seed(&c, SA_RNG_FAST, 6);
    int diff = 0;
    for (int i = 0; i < 100; i++) {
        uint32_t x = sa_rng_u32(&a);
        assert_int_equal(x, sa_rng_u32(&b));
        diff += x != sa_rng_u32(&c);
    }
    assert_true(diff > 90);
}

static double normal_cdf(double x)
{
    return 0.5 * erfc(-x * M_SQRT1_2);
}

/* The fast kind's ziggurat against the exact normal law: Kolmogorov
 * distance on 2^20 draws (critical value 1.95 / sqrt(n) at 0.1 %), the
 * tail beyond the base layer and the per-draw and bulk paths alike. */
static void test_rng_ziggurat_normal(void **state)
{
    (void)state;
    enum { N = 1 << 20, BINS = 2000 };
    static double buf[N];
    static unsigned hist[BINS + 2];
    for (int path = 0; path < 2; path++) {
        sa_rng r;
        sa_rng_seed(&r, SA_RNG_FAST, 17 + path);
        if (path == 0) {
            sa_rng_fill_normal(&r, buf, N, 0.0, 1.0);
        } else {
            for (int i = 0; i < N; i++)
                buf[i] = sa_rng_normal(&r, 0.0, 1.0);
        }
        memset(hist, 0, sizeof hist);
        size_t tail = 0;
        for (int i = 0; i < N; i++) {
            double z = buf[i];
            int b = z < -5.0 ? 0 : (z >= 5.0 ? BINS + 1 : 1 + (int)((z + 5.0) * (BINS / 10.0)));
            hist[b]++;
            tail += fabs(z) > 3.6541528853610092;
        }
        double cum = 0, dmax = 0;
        for (int b = 0; b <= BINS; b++) {
            cum += hist[b];
            double edge = -5.0 + b * (10.0 / BINS);
            dmax = fmax(dmax, fabs(cum / N - normal_cdf(edge)));
        }
        assert_true(dmax < 1.95 / sqrt((double)N));
        /* P(|z| > r) = 2.58e-4: 270 expected, sd 16.4 */
        double want = 2.0 * normal_cdf(-3.6541528853610092) * N;
        assert_true(fabs((double)tail - want) < 5.0 * sqrt(want));
        /* Chi-square of |z| in 200 bins on [0, 5) and one beyond: the wedge
         * and tail corrections matter here (skipping them, i.e. accepting
         * every first candidate, gives about 516 instead of 201). */
        memset(hist, 0, sizeof hist);
        size_t far = 0;
        for (int i = 0; i < N; i++) {
            double a = fabs(buf[i]);
            hist[a >= 5.0 ? 200 : (int)(a * 40.0)]++;
            far += a > 4.0;
        }
        double chi2 = 0;
        for (int b = 0; b <= 200; b++) {
            double lo = b / 40.0, hi = b == 200 ? INFINITY : (b + 1) / 40.0;
            double e = 2.0 * (normal_cdf(hi) - normal_cdf(lo)) * N;
            chi2 += (hist[b] - e) * (hist[b] - e) / e;
        }
        assert_true(chi2 < 201.0 + 5.0 * sqrt(2.0 * 201.0));
        /* beyond the base layer's strip end, only the tail sampler reaches */
        want = 2.0 * normal_cdf(-4.0) * N;
        assert_true(fabs((double)far - want) < 5.0 * sqrt(want));
    }
}

/* The eight interleaved streams: each lane is a xoshiro256** stream of its
 * own state (the vector step, where built, gives the same words), the
 * seeding takes eight words of the parent generator and depends on its
 * state only, and the words look uniform and unrelated across lanes. */
static void test_rng_lanes(void **state)
{
    (void)state;
    sa_rng a, b;
    sa_rng_seed(&a, SA_RNG_FAST, 41);
    sa_rng_seed(&b, SA_RNG_FAST, 41);
    sa_rng_lanes L, M;
    sa_rng_lanes_seed(&L, &a);
    sa_rng_lanes_seed(&M, &b);
    assert_memory_equal(&L, &M, sizeof L);
    /* the parent continues after the eight seed words */
    sa_rng c;
    sa_rng_seed(&c, SA_RNG_FAST, 41);
    for (int i = 0; i < 8; i++)
        (void)sa_rng_u32(&c);
    assert_int_equal(sa_rng_u32(&a), sa_rng_u32(&c));
    /* lane l reproduces the scalar stream from its state */
    sa_rng_stream st[8];
    for (int l = 0; l < 8; l++)
        for (int j = 0; j < 4; j++)
            st[l].s[j] = L.s[j][l];
    for (int l = 0; l < 8; l++)
        for (int l2 = 0; l2 < l; l2++)
            assert_true(memcmp(st[l].s, st[l2].s, sizeof st[l].s) != 0);
    for (int t = 0; t < 1000; t++) {
        uint64_t w[8];
        sa_rng_lanes_next8(&L, w);
        for (int l = 0; l < 8; l++)
            assert_true(w[l] == sa_rng_stream_next(&st[l]));
    }
#ifdef SA_RNG_LANES_VEC
    sa_u64x8 v[4];
    memcpy(v, M.s, sizeof v);
    for (int t = 0; t < 1000; t++) {
        uint64_t w[8];
        sa_u64x8 x;
        sa_rng_lanes_next8(&M, w);
        sa_rng_lanes_step(v, &x);
        for (int l = 0; l < 8; l++)
            assert_true(w[l] == x[l]);
    }
    assert_memory_equal(v, M.s, sizeof v);
#endif
    /* 2^17 steps: the top 4 bits of every lane in 16 bins (chi-square, 15
     * degrees of freedom per lane), and the xor of neighbouring lanes'
     * words balanced bit by bit */
    enum { STEPS = 1 << 17 };
    size_t bins[8][16] = {{0}};
    size_t ones[64] = {0};
    for (int t = 0; t < STEPS; t++) {
        uint64_t w[8];
        sa_rng_lanes_next8(&L, w);
        for (int l = 0; l < 8; l++)
            bins[l][w[l] >> 60]++;
        const uint64_t x = w[0] ^ w[1];
        for (int k = 0; k < 64; k++)
            ones[k] += x >> k & 1u;
    }
    const double e = STEPS / 16.0;
    for (int l = 0; l < 8; l++) {
        double chi2 = 0;
        for (int k = 0; k < 16; k++)
            chi2 += ((double)bins[l][k] - e) * ((double)bins[l][k] - e) / e;
        assert_true(chi2 < 15.0 + 6.0 * sqrt(30.0));
    }
    for (int k = 0; k < 64; k++)
        assert_true(fabs((double)ones[k] - STEPS / 2.0) < 5.0 * sqrt(STEPS / 4.0));
}

/* Bulk fills of the numpy kind are the per-draw sequence, bit for bit. */
static void test_rng_fill_numpy_order(void **state)
{
    (void)state;
    sa_rng a, b;
    double buf[1001];
    sa_rng_seed(&a, SA_RNG_NUMPY, 3);
    sa_rng_seed(&b, SA_RNG_NUMPY, 3);
    (void)sa_rng_normal(&a, 0.0, 1.0); /* leave a cached deviate */
    (void)sa_rng_normal(&b, 0.0, 1.0);
    sa_rng_fill_normal(&a, buf, 1001, 0.65, 0.3);
    for (int i = 0; i < 1001; i++)
        assert_true(buf[i] == sa_rng_normal(&b, 0.65, 0.3));
    sa_rng_fill_uniform(&a, buf, 1001, -2.0, 2.0);
    for (int i = 0; i < 1001; i++)
        assert_true(buf[i] == sa_rng_uniform(&b, -2.0, 2.0));
    assert_true(sa_rng_double(&a) == sa_rng_double(&b));
    /* fast kind: bulk uniforms are the per-draw ones too */
    sa_rng_seed(&a, SA_RNG_FAST, 3);
    sa_rng_seed(&b, SA_RNG_FAST, 3);
    sa_rng_fill_uniform(&a, buf, 1001, -1.0, 1.0);
    for (int i = 0; i < 1001; i++)
        assert_true(buf[i] == sa_rng_uniform(&b, -1.0, 1.0));
}

/* Alias tables: chi-square of 2^20 draws against the weights, outcomes of
 * weight zero never drawn, a one-outcome table always that outcome. */
static void test_rng_alias_tables(void **state)
{
    (void)state;
    enum { N = 1 << 20 };
    const double w[11] = {1, 2, 3, 0, 5, 6, 7, 8, 9, 10, 0.001};
    const int32_t val[11] = {10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
    sa_rng_alias tab[16];
    sa_rng_alias_build(tab, 4, w, val, 11);
    sa_rng r;
    sa_rng_seed(&r, SA_RNG_FAST, 5);
    sa_rng_stream st = sa_rng_stream_take(&r);
    unsigned count[11] = {0};
    for (int i = 0; i < N; i++) {
        int32_t v = sa_rng_alias_draw(tab, 4, sa_rng_stream_next(&st));
        assert_true(v >= 10 && v <= 20);
        count[v - 10]++;
    }
    sa_rng_stream_give(&r, &st);
    assert_int_equal(count[3], 0);
    double sum = 0, chi2 = 0;
    for (int j = 0; j < 11; j++)
        sum += w[j];
    for (int j = 0; j < 11; j++) {
        if (w[j] == 0)
            continue;
        double e = w[j] / sum * N;
        chi2 += (count[j] - e) * (count[j] - e) / e;
    }
    assert_true(chi2 < 29.6); /* 9 degrees of freedom, 0.05 % */
    /* two 32-bit draws per word: the same law */
    memset(count, 0, sizeof count);
    st = sa_rng_stream_take(&r);
    for (int i = 0; i < N / 2; i++) {
        uint64_t word = sa_rng_stream_next(&st);
        count[sa_rng_alias_draw32(tab, 4, (uint32_t)(word >> 32), &st) - 10]++;
        count[sa_rng_alias_draw32(tab, 4, (uint32_t)word, &st) - 10]++;
    }
    assert_int_equal(count[3], 0);
    chi2 = 0;
    for (int j = 0; j < 11; j++) {
        if (w[j] == 0)
            continue;
        double e = w[j] / sum * N;
        chi2 += (count[j] - e) * (count[j] - e) / e;
    }
    assert_true(chi2 < 29.6);
    /* a tie on the top bits is settled by the next word against the
     * threshold's low bits */
    for (int j = 0; j < 16; j++) {
        if (tab[j].thr == 0 || tab[j].thr == UINT64_MAX)
            continue;
        uint32_t h = ((uint32_t)j << 28) | (uint32_t)(tab[j].thr >> 36);
        for (int rep = 0; rep < 20; rep++) {
            sa_rng_stream peek = st;
            uint64_t next = sa_rng_stream_next(&peek);
            int32_t want = (next >> 28) < (tab[j].thr & ((1ull << 36) - 1)) ? tab[j].v[0] : tab[j].v[1];
            assert_int_equal(sa_rng_alias_draw32(tab, 4, h, &st), want);
            assert_true(st.s[0] == peek.s[0] && st.s[3] == peek.s[3]); /* one word used */
        }
    }
    sa_rng_stream_give(&r, &st);
    const double one = 3.0;
    const int32_t seven = 7;
    sa_rng_alias_build(tab, 3, &one, &seven, 1);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(sa_rng_alias_draw(tab, 3, ((uint64_t)sa_rng_u32(&r) << 32) | sa_rng_u32(&r)), 7);
}

static void test_seed_derive_distinct(void **state)
{
    (void)state;
    uint64_t a = sa_seed_derive(0, 1, 2, 3), b = sa_seed_derive(0, 1, 2, 4),
             c = sa_seed_derive(1, 1, 2, 3), d = sa_seed_derive(0, 2, 1, 3);
    assert_true(a != b && a != c && a != d && b != c);
    assert_true(sa_seed_derive(0, 1, 2, 3) == a);
    assert_true(sa_hash_str("fog") != sa_hash_str("frost"));
}

static void test_fs_atomic_write(void **state)
{
    (void)state;
    char dir[256], sub[512], path[600];
    assert_int_equal(sa_test_mkdtemp(dir, sizeof dir), 0);
    snprintf(sub, sizeof sub, "%s/a/b/c", dir);
    sa_error e = {0};
    assert_int_equal(sa_fs_mkdirs(sub, &e), 0);
    assert_true(sa_fs_is_dir(sub));
    snprintf(path, sizeof path, "%s/file.txt", sub);
    assert_int_equal(sa_fs_write_atomic(path, "hello", 5, &e), 0);
    assert_int_equal(sa_fs_write_atomic(path, "bye", 3, &e), 0);
    char *text;
    size_t n;
    assert_int_equal(sa_fs_read_all(path, &text, &n, &e), 0);
    assert_int_equal(n, 3);
    assert_string_equal(text, "bye");
    free(text);
    /* No temporary file is left behind. */
    char cmd[700];
    snprintf(cmd, sizeof cmd, "ls %s | grep -c tmp >/dev/null", sub);
    assert_int_not_equal(system(cmd), 0);
    /* Writing into a missing directory fails with the path in the message. */
    snprintf(path, sizeof path, "%s/missing/x.txt", dir);
    assert_true(sa_fs_write_atomic(path, "x", 1, &e) < 0);
    assert_err_contains(e, "missing");
    assert_true(sa_fs_read_all(path, &text, &n, &e) < 0);
    char joined[64];
    assert_int_equal(sa_fs_join(joined, sizeof joined, "a/", "b", &e), 0);
    assert_string_equal(joined, "a/b");
    assert_int_equal(sa_fs_join(joined, sizeof joined, "a", "/abs", &e), 0);
    assert_string_equal(joined, "/abs");
    sa_fs_dirname(joined, sizeof joined, "x/y/z.json");
    assert_string_equal(joined, "x/y");
    sa_test_rmtree(dir);
}

static void test_strbuf_and_json(void **state)
{
    (void)state;
    sa_strbuf b = {0};
    sa_strbuf_printf(&b, "{\"a\": %d, \"s\": ", 5);
    sa_strbuf_json_str(&b, "q\"\\\n\x01z");
    sa_strbuf_printf(&b, ", \"arr\": [1.5, true, null, {\"k\": \"\\u00e9\"}]}");
    assert_false(b.oom);
    sa_json *j = NULL;
    sa_error e = {0};
    assert_int_equal(sa_json_parse(&j, b.data, b.len, "t", &e), 0);
    double v;
    assert_int_equal(sa_json_num(sa_json_get(j, "a"), &v), 0);
    assert_true(v == 5.0);
    assert_string_equal(sa_json_str(sa_json_get(j, "s")), "q\"\\\n\x01z");
    const sa_json *arr = sa_json_get(j, "arr");
    assert_int_equal(sa_json_len(arr), 4);
    assert_int_equal(sa_json_kind(sa_json_at(arr, 1)), SA_JSON_BOOL);
    assert_string_equal(sa_json_str(sa_json_get(sa_json_at(arr, 3), "k")), "\xc3\xa9");
    assert_null(sa_json_get(j, "missing"));
    sa_json_free(j);
    sa_strbuf_free(&b);
    const char *bad[] = {"{", "{\"a\" 1}", "[1,]", "\"abc", "{\"a\":1} x", "tru", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        j = NULL;
        assert_true(sa_json_parse(&j, bad[i], strlen(bad[i]), "bad.json", &e) < 0);
        assert_null(j);
        assert_err_contains(e, "bad.json");
    }
}

typedef struct seen {
    int n;
    char last[64];
} seen;

static void capture(void *user, sa_log_level lv, const char *msg)
{
    seen *s = user;
    (void)lv;
    s->n++;
    snprintf(s->last, sizeof s->last, "%s", msg);
}

static void test_logger(void **state)
{
    (void)state;
    seen s = {0};
    sa_logger lg = {capture, &s, SA_LOG_WARN};
    sa_logf(&lg, SA_LOG_INFO, "dropped");
    sa_logf(&lg, SA_LOG_WARN, "kept %d", 1);
    sa_logf(NULL, SA_LOG_ERROR, "nowhere");
    assert_int_equal(s.n, 1);
    assert_string_equal(s.last, "kept 1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_set_and_prefix), cmocka_unit_test(test_rng_matches_numpy),
        cmocka_unit_test(test_rng_fast_statistics),
        cmocka_unit_test(test_rng_fast_randint_law),  cmocka_unit_test(test_seed_derive_distinct),
        cmocka_unit_test(test_fs_atomic_write),      cmocka_unit_test(test_strbuf_and_json),
        cmocka_unit_test(test_logger),              cmocka_unit_test(test_rng_ziggurat_normal),
        cmocka_unit_test(test_rng_fill_numpy_order), cmocka_unit_test(test_rng_alias_tables),
        cmocka_unit_test(test_rng_lanes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
