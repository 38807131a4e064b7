#include <zlib.h>

#include "image.h"
#include "test.h"

static sa_image *gradient(int w, int h, int c)
{
    sa_image *im = NULL;
    sa_error e = {0};
    assert_int_equal(sa_image_new(&im, w, h, c, &e), 0);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++)
                im->data[((size_t)y * w + x) * c + k] = (uint8_t)((x * 2 + y + k * 30) & 255);
    return im;
}

static void test_new_and_limits(void **state)
{
    (void)state;
    sa_image *im = NULL;
    sa_error e = {0};
    assert_int_equal(sa_image_new(&im, 3, 2, 3, &e), 0);
    assert_int_equal(sa_image_size(im), 18);
    for (size_t i = 0; i < 18; i++)
        assert_int_equal(im->data[i], 0);
    sa_image_free(im);
    sa_image *keep = (sa_image *)0x1;
    assert_true(sa_image_new(&keep, 0, 5, 3, &e) < 0);
    assert_true(sa_image_new(&keep, SA_IMAGE_MAX_DIM + 1, 5, 3, &e) < 0);
    assert_true(sa_image_new(&keep, 5, 5, 7, &e) < 0);
    assert_ptr_equal(keep, (sa_image *)0x1); /* unchanged on failure */
    sa_image_free(NULL);
}

static void test_convert_and_pad(void **state)
{
    (void)state;
    sa_error e = {0};
    sa_image *g = gradient(4, 3, 1), *rgb = NULL, *back = NULL, *pad = NULL;
    assert_int_equal(sa_image_convert(&rgb, g, 3, &e), 0);
    for (size_t i = 0; i < 12; i++) {
        assert_int_equal(rgb->data[3 * i], g->data[i]);
        assert_int_equal(rgb->data[3 * i + 2], g->data[i]);
    }
    assert_int_equal(sa_image_convert(&back, rgb, 1, &e), 0);
    assert_memory_equal(back->data, g->data, 12);
    assert_int_equal(sa_image_pad(&pad, g, 2, &e), 0);
    assert_int_equal(pad->w, 8);
    assert_int_equal(pad->h, 7);
    assert_int_equal(pad->data[0], 0);
    assert_int_equal(pad->data[2 * 8 + 2], g->data[0]);
    assert_int_equal(pad->data[(2 + 2) * 8 + 2 + 3], g->data[2 * 4 + 3]);
    sa_image_free(g);
    sa_image_free(rgb);
    sa_image_free(back);
    sa_image_free(pad);
}

static void test_png_roundtrip_exact(void **state)
{
    (void)state;
    sa_error e = {0};
    for (int c = 1; c <= 3; c += 2) {
        sa_image *im = gradient(37, 23, c), *dec = NULL;
        void *buf = NULL;
        size_t n = 0;
        assert_int_equal(sa_image_encode_png(&buf, &n, im, &e), 0);
        assert_int_equal(sa_image_decode(&dec, buf, n, 0, "t.png", &e), 0);
        assert_int_equal(dec->c, c);
        assert_memory_equal(dec->data, im->data, sa_image_size(im));
        free(buf);
        sa_image_free(im);
        sa_image_free(dec);
    }
}

static void test_jpeg_roundtrip_close(void **state)
{
    (void)state;
    sa_error e = {0};
    sa_image *im = gradient(64, 48, 3), *dec = NULL, *grey = NULL;
    void *hi = NULL, *lo = NULL;
    size_t nhi = 0, nlo = 0;
    assert_int_equal(sa_image_encode_jpeg(&hi, &nhi, im, 95, &e), 0);
    assert_int_equal(sa_image_encode_jpeg(&lo, &nlo, im, 10, &e), 0);
    assert_true(nlo < nhi);
    assert_int_equal(sa_image_decode(&dec, hi, nhi, 3, "t.jpg", &e), 0);
    double mad = 0;
    for (size_t i = 0; i < sa_image_size(im); i++)
        mad += abs((int)dec->data[i] - (int)im->data[i]);
    mad /= (double)sa_image_size(im);
    assert_true(mad < 3.0);
    assert_int_equal(sa_image_decode(&grey, hi, nhi, 1, "t.jpg", &e), 0);
    assert_int_equal(grey->c, 1);
    assert_true(sa_image_encode_jpeg(&lo, &nlo, im, 0, &e) < 0);
    free(hi);
    free(lo);
    sa_image_free(im);
    sa_image_free(dec);
    sa_image_free(grey);
}

static void test_decode_rejects_garbage(void **state)
{
    (void)state;
    sa_error e = {0};
    sa_image *im = NULL;
    const char junk[] = "definitely not an image";
    assert_true(sa_image_decode(&im, junk, sizeof junk, 0, "junk.bin", &e) < 0);
    assert_err_contains(e, "junk.bin");
    /* A truncated JPEG: header then nothing. */
    sa_image *src = gradient(16, 16, 3);
    void *buf = NULL;
    size_t n = 0;
    assert_int_equal(sa_image_encode_jpeg(&buf, &n, src, 90, &e), 0);
    assert_true(sa_image_decode(&im, buf, 40, 0, "cut.jpg", &e) < 0);
    assert_err_contains(e, "cut.jpg");
    assert_null(im);
    free(buf);
    sa_image_free(src);
    assert_true(sa_image_decode_file(&im, "/nonexistent/x.png", 0, &e) < 0);
    assert_err_contains(e, "/nonexistent/x.png");
}

static void write_idx_gz(const char *path, const uint8_t *head, size_t hn, const uint8_t *data, size_t n)
{
    gzFile f = gzopen(path, "wb");
    assert_non_null(f);
    gzwrite(f, head, (unsigned)hn);
    if (n)
        gzwrite(f, data, (unsigned)n);
    gzclose(f);
}

static void test_idx_read_and_errors(void **state)
{
    (void)state;
    char dir[256], path[512];
    assert_int_equal(sa_test_mkdtemp(dir, sizeof dir), 0);
    snprintf(path, sizeof path, "%s/img.gz", dir);
    const uint8_t head[16] = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 2};
    uint8_t data[12];
    for (int i = 0; i < 12; i++)
        data[i] = (uint8_t)(i * 10);
    write_idx_gz(path, head, 16, data, 12);
    sa_idx *idx = NULL;
    sa_error e = {0};
    assert_int_equal(sa_idx_load(&idx, path, &e), 0);
    assert_int_equal(idx->count, 2);
    assert_int_equal(idx->item, 6);
    assert_memory_equal(idx->data, data, 12);
    sa_idx_free(idx);
    /* Plain (not gzip) works too. */
    snprintf(path, sizeof path, "%s/plain", dir);
    uint8_t plain[28];
    memcpy(plain, head, 16);
    memcpy(plain + 16, data, 12);
    sa_test_write(path, plain, sizeof plain);
    assert_int_equal(sa_idx_load(&idx, path, &e), 0);
    sa_idx_free(idx);
    /* Truncated data. */
    snprintf(path, sizeof path, "%s/short.gz", dir);
    write_idx_gz(path, head, 16, data, 7);
    idx = NULL;
    assert_true(sa_idx_load(&idx, path, &e) < 0);
    assert_err_contains(e, "truncated");
    assert_err_contains(e, "short.gz");
    assert_null(idx);
    /* Wrong magic. */
    snprintf(path, sizeof path, "%s/magic.gz", dir);
    const uint8_t bad[8] = {0, 0, 0x0D, 1, 0, 0, 0, 1};
    write_idx_gz(path, bad, 8, NULL, 0);
    assert_true(sa_idx_load(&idx, path, &e) < 0);
    assert_err_contains(e, "IDX");
    assert_true(sa_idx_load(&idx, "/nonexistent.gz", &e) < 0);
    sa_test_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_and_limits),       cmocka_unit_test(test_convert_and_pad),
        cmocka_unit_test(test_png_roundtrip_exact),  cmocka_unit_test(test_jpeg_roundtrip_close),
        cmocka_unit_test(test_decode_rejects_garbage), cmocka_unit_test(test_idx_read_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
